//! Marriages obey the Law on Marriage and Family 2014 art. 5(2)(d): no marriage between people
//! of one bloodline in the direct line, nor between people related within three generations
//! (who share a parent or a grandparent). Checked on the records, as an auditor would: over
//! many seeds and country sizes, every couple found in a sample of married citizens.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use proptest::prelude::*;
use sandbox06_vn::CitizenId;
use sandbox06_world::{Country, View, person::Person};
use time::macros::date;

/// A citizen's parents, and their parents, as the records name them.
fn forebears(country: &Country, p: &Person) -> (BTreeSet<CitizenId>, BTreeSet<CitizenId>) {
    let ids = |p: &Person| -> Vec<CitizenId> {
        [&p.father, &p.mother]
            .into_iter()
            .flatten()
            .filter_map(|r| r.id)
            .collect()
    };
    let parents: BTreeSet<CitizenId> = ids(p).into_iter().collect();
    let grandparents = parents
        .iter()
        .filter_map(|&id| country.person(id, View::Full))
        .flat_map(|parent| ids(&parent))
        .collect();
    (parents, grandparents)
}

/// Checks every couple whose husband is among `sample` men of the country; returns how many.
fn check_couples(country: &Country, sample: u64) -> Result<usize, TestCaseError> {
    let step = (country.population() / sample).max(1);
    let mut couples = 0;
    for k in 0..sample {
        let Some(id) = country.citizen_at(k * step) else {
            break;
        };
        let husband = country.person(id, View::Full).unwrap();
        let Some(wife) = husband.spouse.as_ref().and_then(|s| s.id) else {
            continue;
        };
        let wife = country.person(wife, View::Full).unwrap();
        couples += 1;
        let (hp, hg) = forebears(country, &husband);
        let (wp, wg) = forebears(country, &wife);
        let (h, w) = (husband.id, wife.id);
        prop_assert!(hp.is_disjoint(&wp), "{h} and {w} share a parent");
        let h_line: BTreeSet<_> = hp.union(&hg).copied().collect();
        let w_line: BTreeSet<_> = wp.union(&wg).copied().collect();
        prop_assert!(
            h_line.is_disjoint(&w_line),
            "{h} and {w} share a parent or a grandparent: {:?}",
            h_line.intersection(&w_line).collect::<Vec<_>>()
        );
        prop_assert!(
            !h_line.contains(&w) && !w_line.contains(&h),
            "{h} × {w}: direct line"
        );
    }
    Ok(couples)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn no_couple_shares_a_parent_or_a_grandparent(seed in any::<u64>(), size in 200_000u64..20_000_000) {
        let country = Country::new(seed, size, date!(2026 - 11 - 27));
        // Citizens spread over the whole country: about one in two adults is married.
        let couples = check_couples(&country, 2_000)?;
        prop_assert!(couples > 200, "{couples} couples");
    }
}

/// The couple the audit found, 094091557472 × 094194870877, in the default country.
#[test]
fn the_audited_brother_and_sister_are_not_married() {
    let country = Country::new(6, 95_000_000, date!(2026 - 11 - 27));
    let id = |raw: &str| CitizenId::parse_field(raw, "id").unwrap();
    let (h, w) = (id("094091557472"), id("094194870877"));
    let husband = country.person(h, View::Full).unwrap();
    let wife = country.person(w, View::Full).unwrap();
    let father = |p: &Person| p.father.as_ref().and_then(|f| f.id);
    // Brother and sister: the same father and mother.
    assert!(father(&husband).is_some());
    assert_eq!(father(&husband), father(&wife));
    let spouse = |p: &Person| p.spouse.as_ref().and_then(|s| s.id);
    assert_ne!(spouse(&husband), Some(w));
    assert_ne!(spouse(&wife), Some(h));
}

/// What the population database asks before it records a marriage: the same rule, for any two
/// citizens, personas included.
#[test]
fn kin_and_the_direct_line_are_of_one_blood() {
    let country = Country::new(6, 95_000_000, date!(2026 - 11 - 27));
    let id = |raw: &str| CitizenId::parse_field(raw, "id").unwrap();
    // The audited brother and sister.
    assert!(country.of_one_blood_ids(id("094091557472"), id("094194870877")));
    // Personas: a grandfather and his granddaughter (the direct line), a married couple (no
    // kin), a father and his son.
    use sandbox06_world::personas::ids;
    assert!(country.of_one_blood_ids(id(ids::RETIREE_HT), id(ids::GRANDCHILD)));
    assert!(country.of_one_blood_ids(id(ids::GRANDCHILD), id(ids::THREE_GENERATIONS)));
    assert!(!country.of_one_blood_ids(id(ids::HAPPY_PATH), id(ids::MARRIED_WIFE)));
    assert_eq!(
        country.parents(id(ids::MINOR_NO_CARD)),
        [Some(id(ids::HAPPY_PATH)), Some(id(ids::MARRIED_WIFE))]
    );
    // Generated citizens: every couple of a sample is not of one blood, and a citizen is of one
    // blood with the father and the grandfather the records name.
    let step = country.population() / 3_000;
    let (mut couples, mut grandfathers) = (0, 0);
    for k in 0..3_000 {
        let p = country
            .person(country.citizen_at(k * step).unwrap(), View::Full)
            .unwrap();
        if let Some(spouse) = p.spouse.as_ref().and_then(|s| s.id) {
            couples += 1;
            assert!(!country.of_one_blood_ids(p.id, spouse), "{}", p.id);
        }
        let [Some(father), _] = country.parents(p.id) else {
            continue;
        };
        assert!(country.of_one_blood_ids(p.id, father));
        if let [Some(grandfather), _] = country.parents(father) {
            assert!(country.of_one_blood_ids(p.id, grandfather));
            grandfathers += 1;
        }
    }
    assert!(
        couples > 300 && grandfathers > 100,
        "{couples} {grandfathers}"
    );
}
