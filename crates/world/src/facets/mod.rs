//! Facets: what other national systems own about a citizen (the VNeID system's account,
//! Vietnam Social Security's health insurance), computed from the same seed as the population
//! so that every system tells of the same person. Each facet draws from its own random stream;
//! the population record carries them too, and they agree.

mod insurance;
mod vneid;

pub use insurance::{
    BENEFIT_LEVELS, DIFFICULT_PER_MINORITY, DN_SHARES, ESPECIALLY_DIFFICULT, NEAR_POOR_BASE,
    NEAR_POOR_PER_MINORITY, POOR_BASE, POOR_PER_MINORITY, SOCIAL_PENSION_FROM, benefit_level,
    children_card_end, dn_share, retirement_age_months,
};
pub(crate) use insurance::{card_code, coverage, persona_group};
pub use vneid::VneidAccount;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::macros::date;

    use crate::{Country, View, person::Vneid, personas::ids};

    #[test]
    fn facets_agree_with_the_population_record() {
        let country = Country::new(6, 1_000_000, date!(2026 - 11 - 27));
        let step = country.population() / 2_000;
        let mut with_account = 0;
        for i in 0..2_000 {
            let id = country.citizen_at(i * step).unwrap();
            let person = country.person(id, View::Full).unwrap();
            let account = country.vneid_account(id);
            match person.vneid {
                (Vneid::None, _) => assert_eq!(account, None, "{id}"),
                (level, Some(on)) => {
                    with_account += 1;
                    let account = account.unwrap();
                    assert_eq!((account.level, account.activated_on), (level, on), "{id}");
                }
                (_, None) => panic!("{id}: an account without an activation date"),
            }
            assert_eq!(country.health_insurance(id), person.insurance, "{id}");
        }
        assert!(
            with_account > 500,
            "{with_account} accounts in 2,000 citizens"
        );
    }

    #[test]
    fn the_benefit_level_follows_the_beneficiary_group() {
        // VSS Decision 1351/QĐ-BHXH, as in docs/domain.md.
        for (group, level) in [("CC", 1), ("TE", 1), ("CK", 2), ("BT", 2), ("TS", 2)] {
            assert_eq!(super::benefit_level(group), Some(level), "{group}");
        }
        for (group, level) in [
            ("HT", 3),
            ("CN", 3),
            ("GD", 4),
            ("SV", 4),
            ("QN", 5),
            ("CY", 5),
        ] {
            assert_eq!(super::benefit_level(group), Some(level), "{group}");
        }
        assert_eq!(super::benefit_level("ZZ"), None);
        let country = Country::new(6, 1_000_000, date!(2026 - 11 - 27));
        let step = country.population() / 3_000;
        let mut groups = std::collections::BTreeSet::new();
        let ids = (0..3_000)
            .map(|i| country.citizen_at(i * step).unwrap())
            .chain(country.personas().ids());
        for id in ids {
            let Some(card) = country.health_insurance(id) else {
                continue;
            };
            let (group, level) = (&card.card_code[..2], &card.card_code[2..3]);
            let expected = super::benefit_level(group)
                .unwrap_or_else(|| panic!("{id}: unknown group {group}"));
            assert_eq!(level, expected.to_string(), "{id}: {}", card.card_code);
            assert_eq!(card.card_code.len(), 15, "{}", card.card_code);
            groups.insert(group.to_owned());
        }
        // The common groups were all seen (the rarer ones: tests/insurance.rs).
        for group in ["TE", "HS", "GD", "DN", "HC", "HT", "BT", "DT", "HN", "SV"] {
            assert!(groups.contains(group), "{group} never drawn: {groups:?}");
        }
    }

    #[test]
    fn every_card_covers_the_day_it_is_computed_for() {
        use time::Duration;

        use crate::permutation::Stream;
        // Every group's dates, for births and reference dates around month ends, leap days and
        // the ends of the TE card and of school.
        let mut rng = Stream::new(&[6]);
        let mut checked = 0;
        for b in 0..400 {
            let birth = date!(2003 - 01 - 31) + Duration::days(b * 19);
            for r in 0..120 {
                let reference = date!(2024 - 01 - 31) + Duration::days(r * 7 + b % 7);
                // TE and HS while a child and a pupil, SV in the four years after school.
                let group = super::insurance::persona_group(birth, reference);
                let studies = date!(2000 - 10 - 01)
                    .replace_year(birth.year() + 18)
                    .unwrap()
                    ..=date!(2000 - 09 - 30)
                        .replace_year(birth.year() + 22)
                        .unwrap();
                let mut groups = vec!["GD", "DN", "HT", "DT"];
                if group != "GD" {
                    groups.push(group);
                }
                if studies.contains(&reference) {
                    groups.push("SV");
                }
                for g in &groups {
                    let (from, to) = super::coverage(g, *g == "GD", birth, reference, &mut rng);
                    assert!(
                        from <= reference && reference <= to,
                        "{g} {birth} {reference}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 100_000, "{checked}");
        // The day the TE card ends is still a TE day; the next an HS one.
        let birth = date!(2019 - 03 - 04);
        let end = super::children_card_end(birth);
        assert_eq!(end, date!(2025 - 09 - 30));
        assert_eq!(super::insurance::persona_group(birth, end), "TE");
        assert_eq!(
            super::insurance::persona_group(birth, end + Duration::days(1)),
            "HS"
        );
        assert_eq!(
            super::children_card_end(date!(2019 - 10 - 02)),
            date!(2025 - 10 - 02)
        );
    }

    #[test]
    fn personas_keep_their_facets() {
        let country = Country::new(6, 1_000_000, date!(2026 - 11 - 27));
        let id = |raw: &str| sandbox06_vn::CitizenId::parse_field(raw, "id").unwrap();
        assert_eq!(
            country.vneid_account(id(ids::HAPPY_PATH)).unwrap().level,
            Vneid::Level2
        );
        assert_eq!(
            country.vneid_account(id(ids::VNEID_LEVEL_1)).unwrap().level,
            Vneid::Level1
        );
        assert_eq!(country.vneid_account(id(ids::NO_VNEID)), None);
        assert_eq!(country.health_insurance(id(ids::NO_HEALTH_INSURANCE)), None);
        assert!(country.health_insurance(id(ids::HAPPY_PATH)).is_some());
    }
}
