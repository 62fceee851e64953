//! Health insurance of a country-sized population: the beneficiary groups by age band and by
//! region, as a hospital of each region sees its patients' cards (Law on Health Insurance art.
//! 12; VSS Decision 1351/QĐ-BHXH for the codes), the benefit digit of every card, and validity
//! periods that are not all the calendar year.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::LazyLock,
};

use common::{country, share};
use sandbox06_vn::CitizenId;
use sandbox06_world::{
    View,
    facets::{benefit_level, children_card_end},
    person::{CommuneRef, Insurance, Person},
    personas::ids,
    rules::{add_years, age_on},
};
use time::{Date, Month};

/// An insured citizen's card and what a hospital reads off it and the record.
struct Card {
    person: Person,
    card: Insurance,
}

impl Card {
    fn group(&self) -> &str {
        &self.card.card_code[..2]
    }

    fn age(&self) -> i32 {
        age_on(self.person.date_of_birth, country().reference_date())
    }
}

/// The pre-2025 province a citizen lives in.
fn residence_province(p: &Person) -> u16 {
    match p.residence.commune {
        CommuneRef::Pre2025(i) => u16::from(country().units().communes[i as usize].province),
        CommuneRef::Current(_) => 0,
    }
}

/// Citizens who live in the provinces of a region (pre-2025 codes), as the hospitals there
/// see them: of `n` citizens registered at birth in each, spread evenly, those who still live
/// in the region (most do).
fn region(codes: &[u16], n: u64) -> (usize, Vec<Card>) {
    let c = country();
    let (mut people, mut cards) = (0, Vec::new());
    for &code in codes {
        let range = c.province_range(code).unwrap();
        let step = ((range.end - range.start) / n).max(1);
        for k in 0..n {
            let Some(id) = c.citizen_at(range.start + k * step) else {
                continue;
            };
            let person = c.person(id, View::Full).unwrap();
            if !person.is_alive() || !codes.contains(&residence_province(&person)) {
                continue;
            }
            people += 1;
            if let Some(card) = person.insurance.clone() {
                cards.push(Card { person, card });
            }
        }
    }
    (people, cards)
}

/// The whole country, spread evenly.
fn national() -> &'static (usize, Vec<Card>) {
    static S: LazyLock<(usize, Vec<Card>)> = LazyLock::new(|| {
        let c = country();
        let n = 12_000;
        let step = c.population() / n;
        let (mut people, mut cards) = (0, Vec::new());
        for k in 0..n {
            let person = c
                .person(c.citizen_at(k * step).unwrap(), View::Full)
                .unwrap();
            if !person.is_alive() {
                continue;
            }
            people += 1;
            if let Some(card) = person.insurance.clone() {
                cards.push(Card { person, card });
            }
        }
        (people, cards)
    });
    &S
}

/// The northern and central highland provinces the audit named: Hà Giang, Điện Biên, Lào Cai,
/// Gia Lai, Kon Tum.
const HIGHLANDS: &[u16] = &[2, 11, 10, 64, 62];
/// The two cities and the industrial south-east: Hà Nội, TP. Hồ Chí Minh, Bình Dương, Đồng Nai.
const CITIES: &[u16] = &[1, 79, 74, 75];
/// The Red River and Mekong deltas: Thái Bình, Nam Định, An Giang, Đồng Tháp.
const DELTAS: &[u16] = &[34, 36, 89, 87];

/// Groups paid by the state at benefit level 2 for where one lives or how poor one is.
const STATE_LEVEL_2: &[&str] = &["DT", "DK", "HN"];

fn shares<'a>(cards: impl Iterator<Item = &'a Card>) -> (usize, BTreeMap<String, usize>) {
    let mut by_group = BTreeMap::new();
    let mut n = 0;
    for card in cards {
        n += 1;
        *by_group.entry(card.group().to_owned()).or_insert(0) += 1;
    }
    (n, by_group)
}

fn share_of(counts: &(usize, BTreeMap<String, usize>), groups: &[&str]) -> f64 {
    let part = groups
        .iter()
        .map(|g| counts.1.get(*g).copied().unwrap_or(0))
        .sum();
    share(part, counts.0)
}

fn report(name: &str, counts: &(usize, BTreeMap<String, usize>)) -> String {
    let mut sorted: Vec<(&String, &usize)> = counts.1.iter().collect();
    sorted.sort_by_key(|(_, n)| std::cmp::Reverse(**n));
    let groups: Vec<String> = sorted
        .iter()
        .map(|(g, n)| format!("{g} {:.1}", share(**n, counts.0)))
        .collect();
    format!("{name} ({} cards): {}", counts.0, groups.join(", "))
}

#[test]
fn every_card_code_carries_the_benefit_level_of_its_group() {
    let (people, cards) = national();
    let mut groups = BTreeSet::new();
    for Card { person, card } in cards {
        let code = &card.card_code;
        assert_eq!(code.len(), 15, "{}: {code}", person.id);
        let group = &code[..2];
        let level = benefit_level(group).unwrap_or_else(|| panic!("{}: {code}", person.id));
        assert_eq!(&code[2..3], level.to_string(), "{}: {code}", person.id);
        assert_eq!(&code[5..], card.social_insurance_number, "{}", person.id);
        groups.insert(group.to_owned());
    }
    // Far more than a handful of groups and benefit levels.
    assert!(groups.len() >= 15, "{groups:?}");
    let levels: BTreeSet<char> = cards
        .iter()
        .map(|c| c.card.card_code.as_bytes()[2] as char)
        .collect();
    assert_eq!(levels.len(), 5, "{levels:?}");
    // About 93 in 100 are insured (VSS: 93.35% at the end of 2023).
    let insured = share(cards.len(), *people);
    assert!((90.0..=96.0).contains(&insured), "{insured:.1}% insured");
    println!("{insured:.1}% insured; groups {groups:?}");
}

#[test]
fn groups_follow_age() {
    let (_, cards) = national();
    let reference = country().reference_date();
    let band = |lo: i32, hi: i32| shares(cards.iter().filter(|c| (lo..=hi).contains(&c.age())));
    let under_6 = shares(
        cards
            .iter()
            .filter(|c| reference <= children_card_end(c.person.date_of_birth)),
    );
    let school = band(7, 14);
    let young = band(19, 21);
    let working = band(25, 54);
    let old = band(65, 74);
    let oldest = band(80, 120);
    for (name, counts) in [
        ("under 6", &under_6),
        ("7-14", &school),
        ("19-21", &young),
        ("25-54", &working),
        ("65-74", &old),
        ("80+", &oldest),
    ] {
        println!("{}", report(name, counts));
    }
    // Children under 6 (to the end of their TE card) are TE, and only they.
    assert_eq!(
        share_of(&under_6, &["TE"]),
        100.0,
        "{}",
        report("under 6", &under_6)
    );
    assert!(under_6.0 > 400, "{}", under_6.0);
    assert_eq!(share_of(&school, &["TE"]), 0.0);
    // Pupils are HS, but for the poor and minorities of difficult communes (state-paid).
    assert!(
        share_of(&school, &["HS"]) > 65.0,
        "{}",
        report("7-14", &school)
    );
    assert!(share_of(&school, &["HS", "DT", "DK", "HN", "CN", "BT"]) > 97.0);
    // Students.
    assert!(
        share_of(&young, &["SV"]) > 10.0,
        "{}",
        report("19-21", &young)
    );
    // Of working age: employees, civil servants, armed forces, households.
    for (groups, low) in [
        (&["DN"][..], 15.0),
        (&["HC", "CH"], 3.0),
        (&["QN", "CA"], 0.8),
        (&["GD"], 25.0),
    ] {
        assert!(
            share_of(&working, groups) > low,
            "{groups:?}: {}",
            report("25-54", &working)
        );
    }
    assert_eq!(share_of(&working, &["HT", "SV", "HS", "TE"]), 0.0);
    // Retirees and the oldest, on social allowances from 75 (80 before July 2025).
    assert!(share_of(&old, &["HT"]) > 12.0, "{}", report("65-74", &old));
    assert!(
        share_of(&oldest, &["BT"]) > 50.0,
        "{}",
        report("80+", &oldest)
    );
}

#[test]
fn groups_follow_the_region() {
    let (_, highlands) = region(HIGHLANDS, 1_500);
    let (_, cities) = region(CITIES, 1_500);
    let (_, deltas) = region(DELTAS, 1_500);
    let counts = |cards: &[Card]| shares(cards.iter());
    let working = |cards: &[Card]| shares(cards.iter().filter(|c| (25..=54).contains(&c.age())));
    let (h, c, d) = (counts(&highlands), counts(&cities), counts(&deltas));
    for (name, counts) in [("highlands", &h), ("cities", &c), ("deltas", &d)] {
        println!("{}", report(name, counts));
    }
    // In the highlands most cards are state-paid for poverty or a difficult commune; in the
    // cities few are, and many work for an enterprise.
    assert!(
        share_of(&h, STATE_LEVEL_2) > 45.0,
        "{}",
        report("highlands", &h)
    );
    assert!(
        share_of(&c, STATE_LEVEL_2) < 8.0,
        "{}",
        report("cities", &c)
    );
    assert!(
        share_of(&d, STATE_LEVEL_2) < 15.0,
        "{}",
        report("deltas", &d)
    );
    assert!(share_of(&h, &["DT"]) > share_of(&h, &["DK"]));
    let (wh, wc) = (working(&highlands), working(&cities));
    assert!(
        share_of(&wc, &["DN"]) > 25.0 && share_of(&wh, &["DN"]) < 10.0,
        "{} / {}",
        report("cities 25-54", &wc),
        report("highlands 25-54", &wh)
    );
    // Each of the audited provinces on its own.
    for code in HIGHLANDS {
        let (_, cards) = region(&[*code], 800);
        let counts = shares(cards.iter());
        assert!(
            share_of(&counts, STATE_LEVEL_2) > 25.0,
            "{}",
            report(&format!("province {code}"), &counts)
        );
    }
}

#[test]
fn validity_covers_the_reference_date_and_is_not_always_the_calendar_year() {
    let (_, cards) = national();
    let reference = country().reference_date();
    let calendar = |d: Date, m: Month, day: u8| d.month() == m && d.day() == day;
    let (mut whole_year, mut household, mut household_starts) = (0, 0, BTreeSet::new());
    for Card { person, card } in cards {
        let at = format!("{} {}", person.id, card.card_code);
        assert!(
            card.valid_from <= reference && reference <= card.valid_to,
            "{at}"
        );
        assert!(card.valid_from >= person.date_of_birth, "{at}");
        let whole = calendar(card.valid_from, Month::January, 1)
            && calendar(card.valid_to, Month::December, 31);
        whole_year += usize::from(whole);
        match &card.card_code[..2] {
            "TE" => {
                assert_eq!(card.valid_from, person.date_of_birth, "{at}");
                assert_eq!(
                    card.valid_to,
                    children_card_end(person.date_of_birth),
                    "{at}"
                );
                // To the sixth birthday, or to 30 September when that comes first in the year.
                let sixth = add_years(person.date_of_birth, 6);
                assert!(card.valid_to == sixth || calendar(card.valid_to, Month::September, 30));
            }
            "GD" => {
                household += 1;
                household_starts.insert(card.valid_from);
                let days = (card.valid_to - card.valid_from).whole_days() + 1;
                assert!(
                    [(89..=92), (181..=184), (365..=366)]
                        .iter()
                        .any(|r| r.contains(&days)),
                    "{at}: {days} days"
                );
            }
            _ => {}
        }
    }
    let report = format!(
        "{whole_year} of {} cards run 1 January to 31 December; {household} GD cards from {} \
         different days",
        cards.len(),
        household_starts.len()
    );
    assert!(
        share(whole_year, cards.len()) > 30.0 && share(whole_year, cards.len()) < 85.0,
        "{report}"
    );
    assert!(household_starts.len() > 200, "{report}");
    println!("{report}");
}

#[test]
fn the_child_with_a_card_is_a_pupil() {
    let c = country();
    let id = CitizenId::parse_field(ids::CHILD_WITH_CARD, "id").unwrap();
    let card = c.health_insurance(id).unwrap();
    assert_eq!(&card.card_code[..3], "HS4", "{}", card.card_code);
    // Pupils' cards run the calendar year.
    assert_eq!(
        (
            card.valid_from.ordinal(),
            card.valid_to.month(),
            card.valid_to.day()
        ),
        (1, Month::December, 31)
    );
    // The other children of school age too.
    for raw in [ids::MINOR_NO_CARD, ids::GRANDCHILD, ids::CAN_CUOC_2024] {
        let id = CitizenId::parse_field(raw, "id").unwrap();
        assert_eq!(
            &c.health_insurance(id).unwrap().card_code[..3],
            "HS4",
            "{raw}"
        );
    }
}
