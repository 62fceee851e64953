//! Facets: what other national systems own about a citizen (the VNeID system's account,
//! Vietnam Social Security's health insurance), computed from the same seed as the population
//! so that every system tells of the same person. Each facet draws from its own random stream;
//! the population record carries them too, and they agree.

mod insurance;
mod vneid;

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
