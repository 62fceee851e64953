//! Finding generated citizens by filter: every citizen found is what the filter asks for by
//! its own record, the pages of a search join into the whole search and come out the same
//! every time, a small search finds every match the census holds, and a filter that matches
//! nobody ends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::{country, share};
use sandbox06_vn::{CitizenId, Sex};
use sandbox06_world::{
    Country, View,
    find::{CardFilter, Filter, Found, InsuranceFilter, Search},
    person::{CardKind, CommuneRef, Marital, Person, Vneid},
    rules::age_on,
};
use time::macros::date;

/// No record changed: the generated one decides.
fn generated(_: CitizenId) -> Option<bool> {
    None
}

/// The first `limit` matches, searched with a budget large enough for any filter here.
fn first(country: &Country, filter: &Filter, limit: usize) -> Found {
    country.find(
        filter,
        Search {
            from: 0,
            limit,
            budget: 5_000_000,
        },
        &generated,
    )
}

/// Every page of a search, `limit` matches and `budget` units at a time.
fn pages(country: &Country, filter: &Filter, limit: usize, budget: u64) -> Vec<Found> {
    let mut pages = Vec::new();
    let mut from = Some(0);
    while let Some(at) = from {
        let page = country.find(
            filter,
            Search {
                from: at,
                limit,
                budget,
            },
            &generated,
        );
        assert!(page.next.is_none_or(|n| n > at), "a page must move on");
        from = page.next;
        pages.push(page);
    }
    pages
}

/// The female chip-card holders of 30 to 40 born in Khánh Hòa (2025 units) with a level-2
/// VNeID account: what a test of the sign-in asks for.
fn typical() -> Filter {
    Filter {
        provinces: country().provinces_of(56, true),
        min_age: Some(30),
        max_age: Some(40),
        sex: Some(Sex::Female),
        card: Some(CardFilter::Kind(CardKind::CccdChip)),
        vneid: Some(Vneid::Level2),
        ..Filter::default()
    }
}

fn c_units(country: &Country) -> &'static sandbox06_vn::admin::AdminUnits {
    country.units()
}

/// Checks a found citizen against the filter field by field, on the full record.
fn check(country: &Country, filter: &Filter, id: CitizenId) -> Person {
    let p = country
        .person(id, View::Full)
        .expect("a found citizen exists");
    assert!(p.persona.is_none(), "{id}: personas are not searched");
    assert!(filter.matches(country, &p), "{id}");
    let age = age_on(p.date_of_birth, country.reference_date());
    assert!(filter.min_age.is_none_or(|m| age >= m), "{id}: {age}");
    assert!(filter.max_age.is_none_or(|m| age <= m), "{id}: {age}");
    assert!(filter.sex.is_none_or(|s| s == p.sex), "{id}");
    if let Some(list) = &filter.provinces {
        // The province of birth registration: the number's prefix, or for births registered
        // from July 2025 in a merged province, the province its birthplace lay in.
        let CommuneRef::Pre2025(commune) = p.birth_registration.commune else {
            panic!("{id}: a generated birthplace is a pre-2025 commune");
        };
        let province = c_units(country).communes[commune as usize].province;
        assert!(
            list.contains(&province),
            "{id}: born in {province}, not {list:?}"
        );
        assert!(
            list.contains(&(id.province_code() as u8)) || p.date_of_birth >= date!(2025 - 07 - 01),
            "{id}"
        );
    }
    if let Some(e) = filter.ethnicity {
        assert_eq!(p.ethnicity, e, "{id}");
    }
    match filter.card {
        Some(CardFilter::Kind(k)) => assert_eq!(p.current_card().map(|c| c.kind), Some(k)),
        Some(CardFilter::None) => assert!(p.current_card().is_none(), "{id}"),
        Some(CardFilter::Any) => assert!(p.current_card().is_some(), "{id}"),
        Some(CardFilter::Contradictory) => panic!("{id}: found for a filter no one meets"),
        None => {}
    }
    if let Some(v) = filter.vneid {
        assert_eq!(p.vneid.0, v, "{id}");
    }
    if let Some(m) = filter.marital {
        assert_eq!(p.marital, m, "{id}");
    }
    if let Some(d) = filter.deceased {
        assert_eq!(!p.is_alive(), d, "{id}");
    }
    p
}

#[test]
fn every_citizen_found_is_what_the_filter_asks_for() {
    let c = country();
    let filters = [
        typical(),
        Filter {
            provinces: c.provinces_of(58, false),
            ethnicity: Some("Chăm"),
            ..Filter::default()
        },
        Filter {
            min_age: Some(80),
            deceased: Some(true),
            ..Filter::default()
        },
        Filter {
            max_age: Some(10),
            card: Some(CardFilter::None),
            ..Filter::default()
        },
        Filter {
            min_age: Some(60),
            card: Some(CardFilter::Kind(CardKind::Cmnd)),
            ..Filter::default()
        },
        Filter {
            min_age: Some(20),
            max_age: Some(25),
            card: Some(CardFilter::Kind(CardKind::CccdBarcode)),
            ..Filter::default()
        },
        Filter {
            min_age: Some(14),
            card: Some(CardFilter::Kind(CardKind::CanCuoc)),
            vneid: Some(Vneid::Level1),
            ..Filter::default()
        },
        Filter {
            sex: Some(Sex::Male),
            min_age: Some(35),
            marital: Some(Marital::Divorced),
            ..Filter::default()
        },
        Filter {
            marital: Some(Marital::Widowed),
            sex: Some(Sex::Female),
            ..Filter::default()
        },
        Filter {
            insurance: Some(InsuranceFilter::Group("DN".into())),
            provinces: c.provinces_of(79, true),
            ..Filter::default()
        },
        Filter {
            insurance: Some(InsuranceFilter::Uninsured),
            min_age: Some(18),
            max_age: Some(18),
            ..Filter::default()
        },
        Filter {
            vneid: Some(Vneid::None),
            deceased: Some(false),
            min_age: Some(100),
            ..Filter::default()
        },
    ];
    for filter in &filters {
        let found = first(c, filter, 20);
        assert_eq!(found.ids.len(), 20, "{filter:?}: {found:?}");
        let unique: BTreeSet<_> = found.ids.iter().collect();
        assert_eq!(unique.len(), found.ids.len(), "{filter:?}: no one twice");
        for &id in &found.ids {
            check(c, filter, id);
        }
    }
}

#[test]
fn a_2025_province_covers_the_provinces_merged_into_it() {
    let c = country();
    assert_eq!(c.provinces_of(56, true), Some(vec![56, 58]));
    assert_eq!(c.provinces_of(58, false), Some(vec![58]));
    assert_eq!(c.provinces_of(58, true), None, "58 is no 2025 province");
    assert_eq!(c.provinces_of(3, false), None, "03 is no province");
    let filter = Filter {
        provinces: c.provinces_of(56, true),
        ..Filter::default()
    };
    let found = first(c, &filter, 200);
    let prefixes: BTreeSet<u16> = found.ids.iter().map(|id| id.province_code()).collect();
    assert_eq!(prefixes, BTreeSet::from([56, 58]), "both old provinces");
}

#[test]
fn pages_join_into_the_whole_search_and_repeat() {
    let c = country();
    let filter = typical();
    let whole = first(c, &filter, 60);
    assert_eq!(whole.ids.len(), 60);
    // The census and the cheap facts leave few candidates to compute in vain.
    let hits = share(whole.ids.len(), whole.examined as usize);
    assert!(hits > 5.0, "{hits:.1}% of the candidates match");
    // Small pages and small budgets stop anywhere; they still resume exactly.
    let mut joined = Vec::new();
    let mut from = Some(0);
    while let Some(at) = from
        && joined.len() < 60
    {
        let page = c.find(
            &filter,
            Search {
                from: at,
                limit: 7,
                budget: 50,
            },
            &generated,
        );
        joined.extend(page.ids);
        from = page.next;
    }
    joined.truncate(60);
    assert_eq!(joined, whole.ids);
    // The same seed gives the same search in another country value, another seed another.
    let again = Country::new(6, 95_000_000, c.reference_date());
    assert_eq!(first(&again, &filter, 60), whole);
    let other = Country::new(7, 95_000_000, c.reference_date());
    assert_ne!(first(&other, &filter, 60).ids, whole.ids);
}

#[test]
fn a_small_search_finds_every_match_of_the_census() {
    // One province's women of one age in a small country: the search against every citizen.
    let c = Country::new(11, 2_000_000, date!(2026 - 11 - 27));
    let filter = Filter {
        provinces: c.provinces_of(58, false),
        min_age: Some(33),
        max_age: Some(34),
        sex: Some(Sex::Female),
        vneid: Some(Vneid::Level2),
        ..Filter::default()
    };
    let range = c.province_range(58).unwrap();
    let expected: BTreeSet<CitizenId> = range
        .filter_map(|i| c.citizen_at(i))
        .filter(|&id| {
            let p = c.person(id, View::Full).unwrap();
            filter.matches(&c, &p)
        })
        .collect();
    assert!(expected.len() > 10, "{} matches", expected.len());
    let found: Vec<CitizenId> = pages(&c, &filter, 5, 40)
        .into_iter()
        .flat_map(|p| p.ids)
        .collect();
    let unique: BTreeSet<CitizenId> = found.iter().copied().collect();
    assert_eq!(unique.len(), found.len(), "no one twice");
    assert_eq!(unique, expected);
}

#[test]
fn a_filter_that_matches_nobody_ends() {
    let c = country();
    let impossible = [
        Filter {
            min_age: Some(120),
            ..Filter::default()
        },
        Filter {
            min_age: Some(40),
            max_age: Some(30),
            ..Filter::default()
        },
        Filter {
            deceased: Some(true),
            vneid: Some(Vneid::Level2),
            ..Filter::default()
        },
        Filter {
            deceased: Some(true),
            insurance: Some(InsuranceFilter::Insured),
            ..Filter::default()
        },
        Filter {
            insurance: Some(InsuranceFilter::Contradictory),
            ..Filter::default()
        },
        Filter {
            card: Some(CardFilter::Contradictory),
            ..Filter::default()
        },
        Filter {
            max_age: Some(13),
            vneid: Some(Vneid::Level1),
            ..Filter::default()
        },
        Filter {
            provinces: Some(Vec::new()),
            ..Filter::default()
        },
    ];
    for filter in &impossible {
        assert_eq!(c.candidates_of(filter), 0, "{filter:?}");
        let found = first(c, filter, 20);
        assert_eq!(
            found,
            Found {
                ids: Vec::new(),
                next: None,
                examined: 0
            }
        );
    }
    // Not provably empty, but nobody matches: each call stops at its budget and goes on.
    let rare = Filter {
        max_age: Some(5),
        card: Some(CardFilter::Kind(CardKind::Cmnd)),
        ..Filter::default()
    };
    let page = c.find(
        &rare,
        Search {
            from: 0,
            limit: 20,
            budget: 1_000,
        },
        &generated,
    );
    assert!(page.ids.is_empty());
    assert!(page.examined <= 1_000, "{}", page.examined);
    assert_eq!(page.next, Some(page.examined));
}

#[test]
fn a_verdict_decides_a_changed_citizen() {
    let c = country();
    let filter = typical();
    let found = first(c, &filter, 10);
    let dropped = found.ids[3];
    let again = c.find(
        &filter,
        Search {
            from: 0,
            limit: 9,
            budget: 5_000_000,
        },
        &|id| (id == dropped).then_some(false),
    );
    let mut expected = found.ids.clone();
    expected.remove(3);
    assert_eq!(again.ids, expected);
}
