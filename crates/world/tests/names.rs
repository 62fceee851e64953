//! Names and religions of a country-sized population: word counts and "Thị"/"Văn" by birth
//! cohort, regional family names, the naming customs of nine ethnic groups, and religions that
//! agree with the ethnic group.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::LazyLock;

use sandbox06_vn::Sex;
use sandbox06_world::{
    Country, View,
    names::{
        self, AN_GIANG, CHAU, EDE_MALE_PREFIX, HIGHLAND_FEMALE_PREFIX, HMONG_PREFIX_FEMALE,
        HMONG_PREFIX_MALE, NEANG, NamingCustom, SOUTH_FROM,
    },
    person::Person,
    religions,
};
use time::macros::date;
use unicode_normalization::UnicodeNormalization;

const SEED: u64 = 6;
const SIZE: u64 = 95_000_000;
/// Citizens in the national sample, spread evenly by index.
const NATIONAL: u64 = 20_000;
/// Citizens sampled from one province to find its minority groups.
const PER_PROVINCE: u64 = 4_000;

fn country() -> &'static Country {
    static C: LazyLock<Country> = LazyLock::new(|| Country::new(SEED, SIZE, date!(2026 - 11 - 27)));
    &C
}

/// A sampled citizen with the pre-2025 code of the province whose range it was found in.
struct Sampled {
    province: u8,
    person: Person,
}

/// `n` citizens spread evenly over `range`, personas left out.
fn sample(province: u8, range: std::ops::Range<u64>, n: u64) -> Vec<Sampled> {
    let c = country();
    let len = range.end - range.start;
    (0..n.min(len))
        .map(|k| range.start + k * len / n.min(len))
        .filter_map(|i| c.citizen_at(i))
        .filter(|id| c.personas().get(*id).is_none())
        .map(|id| Sampled {
            province,
            person: c.person(id, View::Basic).unwrap(),
        })
        .collect()
}

/// The national sample, each citizen with its province.
fn national() -> &'static [Sampled] {
    static S: LazyLock<Vec<Sampled>> = LazyLock::new(|| {
        let c = country();
        let population = c.population();
        let mut all = Vec::new();
        for p in &c.units().provinces {
            let range = c.province_range(u16::from(p.code)).unwrap();
            let n = (NATIONAL * (range.end - range.start)).div_ceil(population);
            all.extend(sample(p.code, range, n));
        }
        all
    });
    &S
}

/// A province's sample, kept to one ethnic group.
fn group_in(province: u8, ethnicity: &str) -> Vec<Sampled> {
    let range = country().province_range(u16::from(province)).unwrap();
    let found: Vec<Sampled> = sample(province, range, PER_PROVINCE)
        .into_iter()
        .filter(|s| s.person.ethnicity == ethnicity)
        .collect();
    assert!(
        found.len() >= 40,
        "only {} {ethnicity} in {province}",
        found.len()
    );
    found
}

fn words(p: &Person) -> Vec<&str> {
    p.full_name.split(' ').collect()
}

/// Splits a leading family name of one or two words off a name's words.
fn family_first<'a>(custom: NamingCustom, words: &[&'a str]) -> Option<(String, Vec<&'a str>)> {
    (1..=2.min(words.len())).rev().find_map(|n| {
        let family = words[..n].join(" ");
        custom
            .has_family_name(&family)
            .then(|| (family, words[n..].to_vec()))
    })
}

/// Splits a trailing family name of one or two words off a name's words.
fn family_last<'a>(custom: NamingCustom, words: &[&'a str]) -> Option<(String, Vec<&'a str>)> {
    (1..=2.min(words.len())).rev().find_map(|n| {
        let family = words[words.len() - n..].join(" ");
        custom
            .has_family_name(&family)
            .then(|| (family, words[..words.len() - n].to_vec()))
    })
}

fn year(p: &Person) -> i32 {
    p.date_of_birth.year()
}

fn kinh() -> impl Iterator<Item = &'static Sampled> {
    national().iter().filter(|s| s.person.ethnicity == "Kinh")
}

/// Observed and expected shares (percent) of something over a set of people.
fn share(
    people: &[&Sampled],
    observed: impl Fn(&Person) -> bool,
    expected: impl Fn(&Person) -> f64,
) -> (f64, f64) {
    let n = people.len().max(1) as f64;
    let hits = people.iter().filter(|s| observed(&s.person)).count() as f64;
    let want: f64 = people.iter().map(|s| expected(&s.person)).sum();
    (100.0 * hits / n, want / n)
}

/// The share (percent) of names of `words` words the tables give someone.
fn word_share(p: &Person, words: usize) -> f64 {
    let shares = names::word_shares(p.sex, year(p));
    100.0 * shares[words - 2] / shares.iter().sum::<f64>()
}

#[test]
fn names_are_nfc_with_single_spaces() {
    for s in national() {
        let name = &s.person.full_name;
        assert_eq!(name.nfc().collect::<String>(), *name);
        assert!(
            !name.is_empty() && words(&s.person).iter().all(|w| !w.is_empty()),
            "{name:?}"
        );
    }
}

#[test]
fn kinh_names_have_two_to_four_words_in_cohort_shares() {
    let people: Vec<&Sampled> = kinh().collect();
    assert!(people.len() > 15_000, "{}", people.len());
    let custom = NamingCustom::of("Kinh");
    for s in &people {
        let w = words(&s.person);
        assert!((2..=4).contains(&w.len()), "{}", s.person.full_name);
        assert!(custom.has_family_name(w[0]), "{}", s.person.full_name);
    }
    // Overall: within 1.5 points of what the tables give this sample.
    for n in 2..=4 {
        let (seen, want) = share(&people, |p| words(p).len() == n, |p| word_share(p, n));
        assert!(
            (seen - want).abs() < 1.5,
            "{n} words: {seen:.1}% vs {want:.1}%"
        );
    }
    // Four-word names are commoner among the young, two-word names among the old.
    let born = |from: i32, until: i32| -> Vec<&Sampled> {
        people
            .iter()
            .copied()
            .filter(|s| (from..until).contains(&year(&s.person)))
            .collect()
    };
    let (old, young) = (born(1900, 1975), born(2000, 2100));
    let four = |set: &[&Sampled]| share(set, |p| words(p).len() == 4, |_| 0.0).0;
    let two = |set: &[&Sampled]| share(set, |p| words(p).len() == 2, |_| 0.0).0;
    assert!(
        four(&young) > 3.0 * four(&old),
        "{} {}",
        four(&young),
        four(&old)
    );
    assert!(four(&young) > 30.0, "{}", four(&young));
    assert!(
        two(&old) > 2.0 * two(&young),
        "{} {}",
        two(&old),
        two(&young)
    );
    assert!(two(&old) < 6.0, "{}", two(&old));
}

#[test]
fn thi_and_van_follow_the_cohort_tables() {
    let cohorts = [
        (1900, 1955),
        (1955, 1975),
        (1975, 1990),
        (1990, 2000),
        (2000, 2010),
        (2010, 2100),
    ];
    for sex in [Sex::Female, Sex::Male] {
        let word = if sex == Sex::Female { "Thị" } else { "Văn" };
        let mut shares = Vec::new();
        for (from, until) in cohorts {
            let people: Vec<&Sampled> = kinh()
                .filter(|s| s.person.sex == sex && (from..until).contains(&year(&s.person)))
                .collect();
            assert!(people.len() > 200, "{sex:?} {from}: {}", people.len());
            let (seen, want) = share(
                &people,
                |p| words(p).get(1) == Some(&word),
                |p| {
                    (3..=4)
                        .map(|n| {
                            word_share(p, n) * names::traditional_middle_share(p.sex, year(p), n)
                                / 100.0
                        })
                        .sum()
                },
            );
            // Five points: over three standard errors for the smallest cohort.
            assert!(
                (seen - want).abs() < 5.0,
                "{word} {from}–{until}: {seen:.1}% vs {want:.1}%"
            );
            shares.push(seen);
        }
        // Declining from the oldest cohort to the youngest, still present in the youngest.
        assert!(
            shares.windows(2).all(|w| w[0] + 3.0 > w[1]),
            "{word}: {shares:?}"
        );
        assert!(shares[5] > 1.0, "{word}: {shares:?}");
        if sex == Sex::Female {
            assert!(shares[0] > 85.0 && shares[1] > 85.0, "{shares:?}");
            assert!(shares[5] > 10.0 && shares[5] < 35.0, "{shares:?}");
        }
    }
}

#[test]
fn vo_and_huynh_are_southern_vu_and_hoang_northern() {
    let by_region = |south: bool| -> Vec<&Sampled> {
        kinh()
            .filter(|s| (s.province >= SOUTH_FROM) == south)
            .collect()
    };
    let family = |names: &'static [&'static str]| move |p: &Person| names.contains(&words(p)[0]);
    let (south, north) = (by_region(true), by_region(false));
    let southern = family(&["Võ", "Huỳnh"]);
    let northern = family(&["Vũ", "Hoàng"]);
    let (vo_south, _) = share(&south, southern, |_| 0.0);
    let (vo_north, _) = share(&north, southern, |_| 0.0);
    let (vu_south, _) = share(&south, northern, |_| 0.0);
    let (vu_north, _) = share(&north, northern, |_| 0.0);
    // The tables: Võ+Huỳnh about 7.7% in the south and 1% in the north; Vũ+Hoàng about 8% in
    // the north and 1.3% in the south. Family names are drawn per lineage, so allow more.
    assert!((5.5..10.5).contains(&vo_south), "{vo_south}");
    assert!(vo_north < 2.5, "{vo_north}");
    assert!((5.5..10.5).contains(&vu_north), "{vu_north}");
    assert!(vu_south < 3.0, "{vu_south}");
}

/// The words of a Vietnamese-way name after a family name of the custom.
fn vietnamese_way(s: &Sampled, custom: NamingCustom) {
    let w = words(&s.person);
    assert!(
        (2..=4).contains(&w.len()) && custom.has_family_name(w[0]),
        "{}",
        s.person.full_name
    );
}

#[test]
fn tay_nung_muong_dao_and_hoa_name_the_vietnamese_way_with_their_family_names() {
    for (province, group) in [
        (4, "Tày"),
        (20, "Nùng"),
        (17, "Mường"),
        (4, "Dao"),
        (94, "Hoa"),
    ] {
        let custom = NamingCustom::of(group);
        let people = group_in(province, group);
        for s in &people {
            vietnamese_way(s, custom);
        }
        // Their own tables, not the Kinh's: Nguyễn is rare or absent.
        let nguyen = people
            .iter()
            .filter(|s| words(&s.person)[0] == "Nguyễn")
            .count();
        assert!(nguyen * 10 < people.len(), "{group}: {nguyen} Nguyễn");
    }
}

#[test]
fn thai_names_are_family_van_or_thi_and_one_given_word() {
    let custom = NamingCustom::of("Thái");
    for s in group_in(14, "Thái") {
        let w = words(&s.person);
        let middle = if s.person.sex == Sex::Male {
            "Văn"
        } else {
            "Thị"
        };
        assert!(
            w.len() == 3 && custom.has_family_name(w[0]) && w[1] == middle,
            "{}",
            s.person.full_name
        );
    }
}

#[test]
fn hmong_names_are_clan_prefix_and_given() {
    let custom = NamingCustom::of("H'Mông");
    for s in group_in(2, "H'Mông") {
        let w = words(&s.person);
        let prefixes = if s.person.sex == Sex::Male {
            HMONG_PREFIX_MALE
        } else {
            HMONG_PREFIX_FEMALE
        };
        assert!(
            w.len() == 3
                && custom.has_family_name(w[0])
                && prefixes.iter().any(|(p, _)| *p == w[1]),
            "{}",
            s.person.full_name
        );
    }
}

#[test]
fn ede_names_put_the_prefixed_given_name_first_and_the_family_name_last() {
    let custom = NamingCustom::of("Ê Đê");
    for s in group_in(66, "Ê Đê") {
        let name = &s.person.full_name;
        let prefix = if s.person.sex == Sex::Male {
            EDE_MALE_PREFIX
        } else {
            HIGHLAND_FEMALE_PREFIX
        };
        assert!(name.starts_with(prefix), "{name}");
        let w = words(&s.person);
        let (_, given) = family_last(custom, &w).unwrap_or_else(|| panic!("{name}"));
        assert!(
            !given.is_empty() && !custom.has_family_name(given[0]),
            "{name}"
        );
    }
}

#[test]
fn ede_and_gia_rai_children_take_their_mothers_family_name() {
    let mut checked = 0;
    for (province, group) in [(66, "Ê Đê"), (64, "Gia Rai")] {
        let custom = NamingCustom::of(group);
        let split = |p: &Person| {
            let w = words(p);
            let found = if group == "Ê Đê" {
                family_last(custom, &w)
            } else {
                family_first(custom, &w)
            };
            found.map(|(family, _)| family)
        };
        for s in group_in(province, group) {
            // The basic view computes no relatives.
            let full = country().person(s.person.id, View::Full).unwrap();
            let Some(mother) = full.mother.as_ref().and_then(|m| m.id) else {
                continue;
            };
            let mother = country().person(mother, View::Basic).unwrap();
            if mother.ethnicity != group {
                // A mother of another group passes on no name: the father's comes instead.
                let father = full.father.as_ref().and_then(|f| f.id).unwrap();
                let father = country().person(father, View::Basic).unwrap();
                assert_eq!(split(&s.person), split(&father), "{}", s.person.full_name);
                continue;
            }
            assert_eq!(
                split(&s.person),
                split(&mother),
                "{} and {}",
                s.person.full_name,
                mother.full_name
            );
            checked += 1;
        }
    }
    assert!(checked > 30, "{checked}");
}

#[test]
fn gia_rai_names_put_the_family_name_first_and_h_before_a_womans_given_name() {
    let custom = NamingCustom::of("Gia Rai");
    for s in group_in(64, "Gia Rai") {
        let name = &s.person.full_name;
        let w = words(&s.person);
        let (_, given) = family_first(custom, &w).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(given.len(), 1, "{name}");
        let prefixed = given[0].starts_with(HIGHLAND_FEMALE_PREFIX);
        assert_eq!(prefixed, s.person.sex == Sex::Female, "{name}");
    }
}

#[test]
fn khmer_names_use_khmer_family_names_and_chau_or_neang_in_an_giang() {
    let custom = NamingCustom::of("Khmer");
    for province in [94, 84] {
        for s in group_in(province, "Khmer") {
            let w = words(&s.person);
            assert!(custom.has_family_name(w[0]), "{}", s.person.full_name);
            if s.person.sex == Sex::Female {
                assert_eq!(w[1], "Thị", "{}", s.person.full_name);
            }
        }
    }
    let people = group_in(AN_GIANG, "Khmer");
    let mut an_giang_way = 0;
    for s in &people {
        let w = words(&s.person);
        let title = if s.person.sex == Sex::Male {
            CHAU
        } else {
            NEANG
        };
        if w[0] == title {
            an_giang_way += 1;
            assert!(w.len() >= 2, "{}", s.person.full_name);
        } else {
            assert!(custom.has_family_name(w[0]), "{}", s.person.full_name);
        }
    }
    let seen = 100.0 * f64::from(an_giang_way) / people.len() as f64;
    assert!(
        (seen - names::AN_GIANG_CHAU_NEANG).abs() < 12.0,
        "{seen:.1}%"
    );
}

#[test]
fn cham_and_raglai_names_are_family_van_or_thi_and_given() {
    for group in ["Chăm", "Raglai"] {
        let custom = NamingCustom::of(group);
        for s in group_in(58, group) {
            let name = &s.person.full_name;
            let w = words(&s.person);
            let (_, rest) = family_first(custom, &w).unwrap_or_else(|| panic!("{name}"));
            assert!(rest.len() >= 2, "{name}");
            match (group, s.person.sex) {
                (_, Sex::Female) => assert_eq!(rest[0], "Thị", "{name}"),
                ("Raglai", Sex::Male) => assert_eq!(rest[0], "Văn", "{name}"),
                _ => assert!(rest.len() <= 3, "{name}"),
            }
        }
    }
}

#[test]
fn religions_agree_with_ethnicity() {
    let mut people: Vec<&Sampled> = national().iter().collect();
    let ninh_thuan = sample(58, country().province_range(58).unwrap(), PER_PROVINCE);
    people.extend(&ninh_thuan);
    let mut kinh_in_ninh_thuan = 0;
    let mut cham_religions = std::collections::BTreeSet::new();
    for s in &people {
        let p = &s.person;
        match religions::of_group(p.ethnicity) {
            None => {
                assert_eq!(p.ethnicity, "Kinh");
                assert!(
                    !religions::is_ethnic(p.religion),
                    "Kinh {}: {}",
                    p.id,
                    p.religion
                );
                let listed = country()
                    .units()
                    .provinces
                    .iter()
                    .any(|q| q.religions.iter().any(|(r, _)| *r == p.religion));
                assert!(p.religion == religions::NONE || listed, "{}", p.religion);
                if s.province == 58 {
                    kinh_in_ninh_thuan += 1;
                }
            }
            Some(table) => {
                assert!(
                    table.iter().any(|(r, _)| *r == p.religion),
                    "{} {}: {}",
                    p.ethnicity,
                    p.id,
                    p.religion
                );
                if p.ethnicity == "Chăm" {
                    cham_religions.insert(p.religion);
                }
            }
        }
        for (religion, group) in religions::ETHNIC_RELIGIONS {
            if p.religion == *religion {
                assert_eq!(p.ethnicity, *group, "{}", p.id);
            }
        }
    }
    // Ninh Thuận lists Bà-la-môn and Hồi giáo; its Kinh hold neither, its Chăm both.
    assert!(kinh_in_ninh_thuan > 1_000, "{kinh_in_ninh_thuan}");
    assert!(
        cham_religions.contains("Bà-la-môn") && cham_religions.contains("Hồi giáo"),
        "{cham_religions:?}"
    );
}
