//! Every persona keeps its documented state (README, "Personas") for every reference date from
//! 2026-11-30 to 2030-12-31: the first of every month, and the days around each persona's
//! birthdays and card expiry dates, where a state would flip.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use sandbox06_vn::CitizenId;
use sandbox06_world::{
    Country, View,
    person::{CardKind, CardStanding, Life, Marital, Person, Vneid},
    personas::ids,
    rules::{CARD_AGE, add_years, age_on, biometrics_taken},
};
use time::{Date, Duration, Month, macros::date};

const FROM: Date = date!(2026 - 11 - 30);
const UNTIL: Date = date!(2030 - 12 - 31);
/// Seed and size do not matter to personas; a small country is quick to build.
const SEED: u64 = 6;
const SIZE: u64 = 1_000;

/// What README documents of a persona, at any date of the window.
struct Documented {
    key: &'static str,
    /// The current card's standing; `None`: no card at all.
    card: Option<CardStanding>,
    /// Under 14 (a child) rather than of card age.
    child: bool,
    alive: bool,
    vneid: Vneid,
    insured: bool,
}

const fn doc(
    key: &'static str,
    card: Option<CardStanding>,
    vneid: Vneid,
    insured: bool,
) -> Documented {
    Documented {
        key,
        card,
        child: false,
        alive: true,
        vneid,
        insured,
    }
}

const VALID: Option<CardStanding> = Some(CardStanding::Valid);
const EXPIRED: Option<CardStanding> = Some(CardStanding::Expired);
const REVOKED: Option<CardStanding> = Some(CardStanding::Revoked);

const DOCUMENTED: &[Documented] = &[
    doc("happy-path", VALID, Vneid::Level2, true),
    doc("married-wife", VALID, Vneid::Level2, true),
    Documented {
        child: true,
        ..doc("minor-no-card", None, Vneid::None, true)
    },
    doc("vneid-level-1", VALID, Vneid::Level1, true),
    doc("no-vneid", VALID, Vneid::None, true),
    doc("card-expired", EXPIRED, Vneid::Level2, true),
    doc("card-replaced", VALID, Vneid::Level2, true),
    Documented {
        alive: false,
        ..doc("deceased", REVOKED, Vneid::None, false)
    },
    doc("can-cuoc-2024", VALID, Vneid::Level2, true),
    doc("old-cmnd", VALID, Vneid::Level2, true),
    doc("moved-after-merger", VALID, Vneid::Level2, true),
    doc("cham", VALID, Vneid::Level2, true),
    doc("raglai", VALID, Vneid::Level1, true),
    doc("name-twin-ha", VALID, Vneid::Level2, true),
    doc("name-twin-ha-dot", VALID, Vneid::Level2, true),
    doc("no-health-insurance", VALID, Vneid::Level2, false),
    doc("card-revoked", REVOKED, Vneid::Level2, true),
    doc("barcode-cccd", VALID, Vneid::None, true),
    doc("cmnd-only", EXPIRED, Vneid::None, true),
    doc("cmnd-12", VALID, Vneid::Level2, true),
    doc("vneid-locked", VALID, Vneid::Level2, true),
    doc("vneid-app-rejects", VALID, Vneid::Level2, true),
    doc("retiree-ht", VALID, Vneid::Level2, true),
    doc("three-generations", VALID, Vneid::Level2, true),
    Documented {
        child: true,
        ..doc("grandchild", None, Vneid::None, true)
    },
    doc("four-word-name", VALID, Vneid::Level2, true),
    Documented {
        child: true,
        ..doc("child-with-card", VALID, Vneid::None, true)
    },
];

fn person(country: &Country, raw: &str) -> Person {
    country.person(id(raw), View::Full).unwrap()
}

/// The reference dates swept: the window's ends, the first of every month, and one day either
/// side of every birthday and every card expiry in the window.
fn sweep_dates() -> BTreeSet<Date> {
    let mut dates = BTreeSet::from([FROM, UNTIL]);
    let mut month = date!(2026 - 12 - 01);
    while month <= UNTIL {
        dates.insert(month);
        month = month.replace_month(month.month().next()).unwrap();
        if month.month() == Month::January {
            month = month.replace_year(month.year() + 1).unwrap();
        }
    }
    let country = Country::new(SEED, SIZE, FROM);
    for spec in country.personas().all() {
        let p = person(&country, spec.id);
        let mut turns: Vec<Date> = (FROM.year()..=UNTIL.year())
            .map(|y| add_years(p.date_of_birth, y - p.date_of_birth.year()))
            .collect();
        turns.extend(p.cards.iter().filter_map(|c| c.expires));
        for d in turns {
            for day in [d - Duration::days(1), d, d + Duration::days(1)] {
                if (FROM..=UNTIL).contains(&day) {
                    dates.insert(day);
                }
            }
        }
    }
    dates
}

fn id(raw: &str) -> CitizenId {
    CitizenId::parse_field(raw, "id").unwrap()
}

/// Grandparent, parent and child in one household, each with its relation to the head, and
/// the household the same seen from each member.
fn three_generations(country: &Country, p: &Person, relation: &str, at: &str) {
    let household = p.household.as_ref().expect("a household");
    assert_eq!(household.head, id(ids::RETIREE_HT), "{at}");
    assert_eq!(household.relation, relation, "{at}");
    let members: Vec<(CitizenId, &str)> = household
        .members
        .iter()
        .map(|m| (m.id, m.relation))
        .collect();
    assert_eq!(
        members,
        [
            (id(ids::RETIREE_HT), "Chủ hộ"),
            (id(ids::THREE_GENERATIONS), "Con"),
            (id(ids::GRANDCHILD), "Cháu"),
        ],
        "{at}"
    );
    for (member, _) in members {
        let other = country.person(member, View::Full).unwrap();
        let seen = other.household.as_ref().map(|h| (&h.code, &h.members));
        assert_eq!(seen, Some((&household.code, &household.members)), "{at}");
    }
}

/// The documented state of one persona on one date, and the properties each persona is for.
fn check(country: &Country, d: &Documented, raw: &str) {
    let on = country.reference_date();
    let p = person(country, raw);
    let at = format!("{} on {on}", d.key);
    let card = p.current_card();
    assert_eq!(card.map(|c| c.standing), d.card, "{at}: card");
    assert_eq!(age_on(p.date_of_birth, on) < CARD_AGE, d.child, "{at}: age");
    assert_eq!(p.is_alive(), d.alive, "{at}: life");
    assert_eq!(p.vneid.0, d.vneid, "{at}: VNeID level");
    assert_eq!(p.insurance.is_some(), d.insured, "{at}: insurance");
    assert_eq!(p.persona, Some(d.key), "{at}");
    let card = || card.expect("a current card");
    match d.key {
        "happy-path" | "married-wife" => {
            assert_eq!(p.marital, Marital::Married, "{at}");
            assert!(p.spouse.is_some(), "{at}");
            assert!(p.household.is_some(), "{at}");
        }
        "minor-no-card" => {
            assert!(p.cards.is_empty(), "{at}");
            assert!(p.father.is_some() && p.mother.is_some(), "{at}");
        }
        "card-replaced" => {
            assert_eq!(p.cards.len(), 3, "{at}: CMND, 2021 card, Căn cước");
            assert_eq!(card().kind, CardKind::CanCuoc, "{at}");
            assert_eq!(p.cards[1].standing, CardStanding::Superseded, "{at}");
            assert_eq!(p.cards[1].issued, date!(2021 - 03 - 18), "{at}");
        }
        "deceased" => assert!(matches!(p.life, Life::Deceased(_)), "{at}"),
        "can-cuoc-2024" => assert_eq!(card().kind, CardKind::CanCuoc, "{at}"),
        "old-cmnd" => {
            assert_eq!(p.old_id_number.as_deref(), Some("264123456"), "{at}");
            assert_eq!(card().kind, CardKind::CccdChip, "{at}");
            assert!(p.previous_residences.is_empty(), "{at}");
        }
        "moved-after-merger" => {
            let printed = card().printed_address.as_ref().unwrap();
            assert_ne!(printed, &p.residence, "{at}: the printed address is stale");
            assert_eq!(p.previous_residences, std::slice::from_ref(printed), "{at}");
        }
        "cham" => assert_eq!((p.ethnicity, p.religion), ("Chăm", "Bà-la-môn"), "{at}"),
        "raglai" => assert_eq!(p.ethnicity, "Raglai", "{at}"),
        "barcode-cccd" => assert_eq!(card().kind, CardKind::CccdBarcode, "{at}"),
        "cmnd-only" => assert_eq!(card().kind, CardKind::Cmnd, "{at}"),
        "cmnd-12" => {
            assert_eq!(card().kind, CardKind::CccdChip, "{at}");
            let cmnd = &p.cards[1];
            assert_eq!(
                (cmnd.kind, cmnd.number.as_str()),
                (CardKind::Cmnd, raw),
                "{at}"
            );
            assert_eq!(p.old_id_number, None, "{at}");
            let qr = sandbox06_world::card_qr(country, &p).unwrap();
            assert_eq!(qr.to_payload().split('|').nth(1), Some(""), "{at}");
        }
        "retiree-ht" => {
            let insurance = p.insurance.as_ref().unwrap();
            assert_eq!(&insurance.card_code[..3], "HT3", "{at}: group HT, level 3");
            assert!(age_on(p.date_of_birth, on) >= 60, "{at}");
            assert_eq!(card().expires, None, "{at}: issued after 60");
            assert_eq!(p.marital, Marital::Widowed, "{at}");
            three_generations(country, &p, "Chủ hộ", &at);
        }
        "three-generations" => {
            assert_eq!(
                p.father.as_ref().and_then(|f| f.id),
                Some(id(ids::RETIREE_HT))
            );
            three_generations(country, &p, "Con", &at);
        }
        "grandchild" => {
            assert!(p.cards.is_empty(), "{at}");
            let father = p.father.as_ref().and_then(|f| f.id);
            assert_eq!(father, Some(id(ids::THREE_GENERATIONS)), "{at}");
            three_generations(country, &p, "Cháu", &at);
        }
        "four-word-name" => {
            assert_eq!(p.full_name.split_whitespace().count(), 4, "{at}");
            assert_eq!(p.ethnicity, "Kinh", "{at}");
        }
        "child-with-card" => {
            let card = card();
            assert_eq!(card.kind, CardKind::CanCuoc, "{at}");
            assert!(!biometrics_taken(p.date_of_birth, card.issued), "{at}");
            let fourteen = add_years(p.date_of_birth, CARD_AGE);
            assert_eq!(card.expires, Some(fourteen), "{at}");
            assert!(p.marks.is_empty(), "{at}");
            // A pupil: health insurance of group HS, benefit level 4.
            let insurance = p.insurance.as_ref().unwrap();
            assert_eq!(&insurance.card_code[..3], "HS4", "{at}");
        }
        _ => {}
    }
}

#[test]
fn personas_keep_their_documented_state_from_2026_to_2030() {
    let dates = sweep_dates();
    assert!(dates.len() > 49, "{} dates", dates.len());
    let country = Country::new(SEED, SIZE, FROM);
    let specs = country.personas().all();
    // Every persona is documented here, and nothing else.
    let keys: BTreeSet<&str> = specs.iter().map(|s| s.key).collect();
    let documented: BTreeSet<&str> = DOCUMENTED.iter().map(|d| d.key).collect();
    assert_eq!(keys, documented);
    for on in dates {
        let country = Country::new(SEED, SIZE, on);
        for d in DOCUMENTED {
            let spec = specs.iter().find(|s| s.key == d.key).unwrap();
            check(&country, d, spec.id);
        }
    }
}

#[test]
fn every_persona_number_agrees_with_its_birth_year() {
    let country = Country::new(SEED, SIZE, FROM);
    for spec in country.personas().all() {
        let p = person(&country, spec.id);
        assert_eq!(p.id.birth_year(), p.date_of_birth.year(), "{}", spec.key);
    }
    assert_eq!(
        person(&country, ids::HAPPY_PATH).persona,
        Some("happy-path")
    );
}
