//! Households and families of a country-sized population: shapes, sizes and relations within
//! stated tolerances, households that agree from every member's side, mothers of age, no
//! child heading a household, and couples of two ethnic groups at a realistic rate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{collections::BTreeMap, sync::LazyLock};

use common::{country, share};
use sandbox06_vn::{CitizenId, Sex};
use sandbox06_world::{
    View,
    person::{Household, Person},
    rules::age_on,
};

/// Citizens sampled, spread evenly by index.
const SAMPLE: u64 = 12_000;

fn sample() -> &'static [Person] {
    static S: LazyLock<Vec<Person>> = LazyLock::new(|| {
        let c = country();
        let step = c.population() / SAMPLE;
        (0..SAMPLE)
            .filter_map(|k| c.citizen_at(k * step))
            .filter_map(|id| c.person(id, View::Full))
            .collect()
    });
    &S
}

fn person(id: CitizenId) -> Person {
    country().person(id, View::Full).unwrap()
}

/// Generations a household spans, from its members' relations to the head ("Cháu" counted as a
/// grandchild, though it also names a nephew or niece).
fn generations(h: &Household) -> usize {
    let level = |relation: &str| match relation {
        "Ông" | "Bà" => 2,
        "Bố" | "Mẹ" | "Bố chồng" | "Mẹ chồng" | "Bố vợ" | "Mẹ vợ" => 1,
        "Con" | "Con dâu" => -1,
        "Cháu" | "Cháu dâu" => -2,
        "Chắt" => -3,
        _ => 0,
    };
    let levels: std::collections::BTreeSet<i32> =
        h.members.iter().map(|m| level(m.relation)).collect();
    levels.len()
}

/// The households headed by sampled citizens: an unbiased sample of households.
fn households() -> Vec<&'static Household> {
    sample()
        .iter()
        .filter_map(|p| p.household.as_ref().filter(|h| h.head == p.id))
        .collect()
}

#[test]
fn households_have_the_sizes_and_shapes_of_real_ones() {
    let homes = households();
    assert!(homes.len() > 2_500, "{}", homes.len());
    let n = homes.len();
    let people: usize = homes.iter().map(|h| h.members.len()).sum();
    let mean = people as f64 / n as f64;
    let alone = share(homes.iter().filter(|h| h.members.len() == 1).count(), n);
    let large = share(homes.iter().filter(|h| h.members.len() >= 6).count(), n);
    let three = share(homes.iter().filter(|h| generations(h) >= 3).count(), n);
    let mut relations: BTreeMap<&str, usize> = BTreeMap::new();
    for h in &homes {
        for m in &h.members {
            *relations.entry(m.relation).or_default() += 1;
        }
    }
    let report = format!(
        "{n} households: mean size {mean:.2}, one person {alone:.1}%, six or more {large:.1}%, three or more generations {three:.1}%, relations {relations:?}"
    );
    // 2019 census: 3.6 people per household.
    assert!((3.1..=3.9).contains(&mean), "{report}");
    assert!((8.0..=22.0).contains(&alone), "{report}");
    assert!((3.0..=18.0).contains(&large), "{report}");
    // 20.7% of households in 2014 spanned three generations or more; the sandbox's are fewer
    // (its oldest have fewer living children): within 8–25%.
    assert!((8.0..=25.0).contains(&three), "{report}");
    for relation in [
        "Chủ hộ",
        "Vợ",
        "Chồng",
        "Con",
        "Con dâu",
        "Bố",
        "Mẹ",
        "Cháu",
        "Em",
    ] {
        assert!(relations.contains_key(relation), "no {relation}: {report}");
    }
    let other = relations.get("Khác").copied().unwrap_or(0);
    assert!(share(other, people) < 0.5, "{report}");
    println!("{report}");
}

#[test]
fn every_member_names_the_same_head_and_no_child_heads_a_household() {
    let reference = country().reference_date();
    let (mut checked, mut minors) = (0, 0);
    for p in sample() {
        let Some(h) = &p.household else {
            assert!(!p.is_alive(), "{}: alive without a household", p.id);
            continue;
        };
        assert_eq!(h.members[0].id, h.head);
        assert_eq!(h.members[0].relation, "Chủ hộ");
        let me = h.members.iter().find(|m| m.id == p.id);
        assert_eq!(me.map(|m| m.relation), Some(h.relation), "{}", p.id);
        let age = age_on(p.date_of_birth, reference);
        if age < 18 {
            minors += 1;
            // Law on Residence 2020 art. 10: a head of household has full civil capacity.
            assert_ne!(h.head, p.id, "{} heads a household at {age}", p.id);
        }
        if checked < 3_000 {
            checked += 1;
            for m in &h.members {
                let other = person(m.id);
                let theirs = other.household.as_ref().unwrap();
                assert_eq!(
                    theirs.head, h.head,
                    "{}: member {} names another head",
                    p.id, m.id
                );
                assert_eq!(theirs.relation, m.relation, "{}: member {}", p.id, m.id);
                assert_eq!(theirs.members.len(), h.members.len());
            }
        }
    }
    assert!(minors > 2_000, "{minors}");
}

#[test]
fn few_older_women_never_married() {
    let reference = country().reference_date();
    let older: Vec<&Person> = sample()
        .iter()
        .filter(|p| p.sex == Sex::Female && age_on(p.date_of_birth, reference) >= 60)
        .collect();
    let single = older
        .iter()
        .filter(|p| p.marital == sandbox06_world::person::Marital::Single)
        .count();
    let widowed = older
        .iter()
        .filter(|p| p.marital == sandbox06_world::person::Marital::Widowed)
        .count();
    let report = format!(
        "of {} women of 60 or more, {single} never married, {widowed} widowed",
        older.len()
    );
    assert!(older.len() > 800, "{report}");
    // Few never marry (about 4 in 100 men; *estimate*); many older women are widows.
    assert!(share(single, older.len()) < 10.0, "{report}");
    assert!(share(widowed, older.len()) > 15.0, "{report}");
    println!("{report}");
}

#[test]
fn mothers_are_18_or_older_at_each_birth() {
    let mut checked = 0;
    for p in sample() {
        let Some(mother) = p.mother.as_ref().and_then(|m| m.id) else {
            continue;
        };
        let mother = person(mother);
        assert_eq!(mother.sex, Sex::Female);
        let age = age_on(mother.date_of_birth, p.date_of_birth);
        assert!(age >= 18, "{} was born to a mother of {age}", p.id);
        checked += 1;
    }
    assert!(checked > 5_000, "{checked}");
}

#[test]
fn couples_of_two_ethnic_groups_are_few() {
    let (mut minority_couples, mut mixed, mut couples) = (0, 0, 0);
    for p in sample().iter().filter(|p| p.sex == Sex::Male) {
        let Some(wife) = p.spouse.as_ref().and_then(|s| s.id) else {
            continue;
        };
        let wife = country().person(wife, View::Basic).unwrap();
        couples += 1;
        if p.ethnicity != "Kinh" || wife.ethnicity != "Kinh" {
            minority_couples += 1;
            if p.ethnicity != wife.ethnicity {
                mixed += 1;
            }
        }
    }
    let report = format!(
        "{mixed} of {minority_couples} couples with a minority spouse are mixed, of {couples} couples"
    );
    assert!(couples > 2_000, "{report}");
    assert!(minority_couples > 200, "{report}");
    // No published rate; in the sandbox a few in a hundred (see docs/domain.md).
    let rate = share(mixed, minority_couples);
    assert!((1.0..=15.0).contains(&rate), "{report}");
    println!("{report}");
}
