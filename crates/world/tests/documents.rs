//! Documents of a country-sized population: the shares of the kinds of card citizens hold,
//! within stated tolerances, and the 12-digit CMND cards of Hà Nội.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::{country, share};
use sandbox06_world::{
    View,
    person::{CardKind, CardStanding, Person},
    rules::{self, age_on},
};
use time::macros::date;

/// `n` citizens spread evenly over a range of indices.
fn spread(range: std::ops::Range<u64>, n: u64) -> Vec<Person> {
    let c = country();
    let step = ((range.end - range.start) / n).max(1);
    (0..n)
        .filter_map(|k| c.citizen_at(range.start + k * step))
        .filter_map(|id| c.person(id, View::Basic))
        .collect()
}

#[test]
fn citizens_hold_the_kinds_of_card_the_population_holds() {
    let c = country();
    let people = spread(0..c.population(), 12_000);
    let reference = c.reference_date();
    let adults: Vec<&Person> = people
        .iter()
        .filter(|p| p.is_alive() && age_on(p.date_of_birth, reference) >= rules::CARD_AGE)
        .collect();
    let mut current: BTreeMap<&str, usize> = BTreeMap::new();
    let mut ever: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &adults {
        let kind = |k: CardKind| match k {
            CardKind::Cmnd => "CMND",
            CardKind::CccdBarcode => "barcode CCCD",
            CardKind::CccdChip => "chip CCCD",
            CardKind::CanCuoc => "Căn cước",
        };
        let now = p.current_card().map_or("none", |k| kind(k.kind));
        *current.entry(now).or_default() += 1;
        let mut kinds: Vec<&str> = p.cards.iter().map(|k| kind(k.kind)).collect();
        kinds.dedup();
        for k in kinds {
            *ever.entry(k).or_default() += 1;
        }
    }
    let n = adults.len();
    let pct = |m: &BTreeMap<&str, usize>, k: &str| share(m.get(k).copied().unwrap_or(0), n);
    let report = format!("{n} citizens of 14 or more: current {current:?}, ever held {ever:?}");
    assert!(n > 9_000, "{report}");
    // Nearly every adult holds a chip card or a Căn cước: the 2021–2022 campaign.
    assert!(
        pct(&current, "chip CCCD") + pct(&current, "Căn cước") > 90.0,
        "{report}"
    );
    assert!(
        (2.0..=30.0).contains(&pct(&current, "Căn cước")),
        "{report}"
    );
    // Some still hold a barcode CCCD not yet due for renewal, a few an old CMND.
    assert!(
        (0.5..=8.0).contains(&pct(&current, "barcode CCCD")),
        "{report}"
    );
    assert!((0.05..=3.0).contains(&pct(&current, "CMND")), "{report}");
    // Most adults of 1999–2020 held a CMND; in the 16 provinces that issued them, those of
    // card age in 2016–2020 a barcode CCCD.
    assert!((40.0..=90.0).contains(&pct(&ever, "CMND")), "{report}");
    assert!(
        (5.0..=25.0).contains(&pct(&ever, "barcode CCCD")),
        "{report}"
    );
    println!("{report}");
}

#[test]
fn hanoi_issued_12_digit_cmnd_cards_in_2014_and_2015() {
    let c = country();
    let people = spread(c.province_range(1).unwrap(), 12_000);
    let mut twelve = 0;
    for p in &people {
        for card in p.cards.iter().filter(|k| k.kind == CardKind::Cmnd) {
            if card.number.len() == 12 {
                twelve += 1;
                assert_eq!(card.number, p.id.to_string());
                assert!(card.issued >= date!(2014 - 04 - 01), "{}", p.id);
                assert!(card.issued < rules::BARCODE_CARDS_FROM, "{}", p.id);
                assert_eq!(p.old_id_number, None, "{}", p.id);
                assert_ne!(card.standing, CardStanding::Valid);
            } else {
                assert_eq!(card.number.len(), 9);
                assert!(card.issued < date!(2014 - 04 - 01), "{}", p.id);
                assert_eq!(p.old_id_number.as_deref(), Some(card.number.as_str()));
            }
        }
    }
    assert!(
        twelve > 20,
        "{twelve} 12-digit CMND cards in {}",
        people.len()
    );
    // Hải Phòng went from 9-digit CMND to barcode CCCD cards in 2016: whoever came of card
    // age from then got a barcode CCCD first.
    let reference = c.reference_date();
    let mut first_barcode = 0;
    for p in spread(c.province_range(31).unwrap(), 3_000) {
        for card in p.cards.iter().filter(|k| k.kind == CardKind::Cmnd) {
            assert_eq!(card.number.len(), 9, "{}", p.id);
            assert!(card.issued < rules::BARCODE_CARDS_FROM, "{}", p.id);
        }
        let fourteen = rules::add_years(p.date_of_birth, rules::CARD_AGE);
        if fourteen >= rules::BARCODE_CARDS_FROM
            && fourteen < date!(2020 - 06 - 01)
            && p.cards
                .last()
                .is_some_and(|k| k.issued < rules::CHIP_CARDS_FROM)
            && age_on(p.date_of_birth, reference) >= 14
        {
            assert_eq!(
                p.cards.last().unwrap().kind,
                CardKind::CccdBarcode,
                "{}",
                p.id
            );
            first_barcode += 1;
        }
    }
    assert!(first_barcode > 50, "{first_barcode}");
}

/// The CMND cards issued in a province without barcode cards, by year of issue: (12-digit,
/// 9-digit) counts.
fn cmnd_digits_by_year(code: u16, n: u64) -> BTreeMap<i32, (usize, usize)> {
    let c = country();
    let mut by_year: BTreeMap<i32, (usize, usize)> = BTreeMap::new();
    for p in spread(c.province_range(code).unwrap(), n) {
        assert!(
            p.cards.iter().all(|k| k.kind != CardKind::CccdBarcode),
            "{}",
            p.id
        );
        for card in p.cards.iter().filter(|k| k.kind == CardKind::Cmnd) {
            assert!(card.issued < rules::CMND_UNTIL, "{}", p.id);
            let counts = by_year.entry(card.issued.year()).or_default();
            if card.number.len() == 12 {
                assert_eq!(card.number, p.id.to_string());
                assert!(
                    card.issued >= rules::TWELVE_DIGIT_CMND_ELSEWHERE_FROM,
                    "{}",
                    p.id
                );
                assert_eq!(p.old_id_number, None, "{}", p.id);
                counts.0 += 1;
            } else {
                assert_eq!(card.number.len(), 9, "{}", p.id);
                assert_eq!(p.old_id_number.as_deref(), Some(card.number.as_str()));
                counts.1 += 1;
            }
        }
    }
    by_year
}

/// Share of 12-digit cards among the CMND cards issued in 2017–2020.
fn twelve_digit_share(by_year: &BTreeMap<i32, (usize, usize)>) -> (f64, usize) {
    let (twelve, nine) = by_year
        .range(2017..=2020)
        .fold((0, 0), |(t, n), (_, &(a, b))| (t + a, n + b));
    (share(twelve, twelve + nine), twelve + nine)
}

#[test]
fn provinces_without_barcode_cards_issued_12_and_9_digit_cmnd_cards_from_2017() {
    // Nghệ An, a lowland province with mountains; Lào Cai, a mountain province where a card of
    // 2017–2020 with a 9-digit CMND was seen (holder born 2003).
    let nghe_an = cmnd_digits_by_year(40, 40_000);
    let lao_cai = cmnd_digits_by_year(10, 40_000);
    for (name, by_year) in [("Nghệ An", &nghe_an), ("Lào Cai", &lao_cai)] {
        // 9-digit only before 2017, a mix from then on, the 12-digit share rising.
        assert!(by_year.range(..2017).all(|(_, &(twelve, _))| twelve == 0));
        for year in 2017..=2020 {
            let (twelve, nine) = by_year.get(&year).copied().unwrap_or_default();
            assert!(
                twelve > 5 && nine > 5,
                "{name} {year}: {twelve} 12-digit, {nine} 9-digit"
            );
        }
        let rate = |y: i32| {
            let (t, n) = by_year[&y];
            share(t, t + n)
        };
        assert!(rate(2020) > rate(2017), "{name}: {by_year:?}");
    }
    let (lao_cai_share, lao_cai_cards) = twelve_digit_share(&lao_cai);
    let (nghe_an_share, nghe_an_cards) = twelve_digit_share(&nghe_an);
    let report = format!(
        "12-digit CMND of 2017–2020: Nghệ An {nghe_an_share:.1}% of {nghe_an_cards}, Lào Cai \
         {lao_cai_share:.1}% of {lao_cai_cards}"
    );
    assert!(lao_cai_cards > 300 && nghe_an_cards > 300, "{report}");
    assert!(
        lao_cai_share < 40.0 && nghe_an_share > lao_cai_share + 15.0,
        "{report}"
    );
    println!("{report}");
    // The card seen: a Lào Cai citizen born 2003 with a 9-digit CMND.
    let c = country();
    let seen = spread(c.province_range(10).unwrap(), 40_000)
        .into_iter()
        .filter(|p| p.date_of_birth.year() == 2003)
        .any(|p| p.old_id_number.is_some());
    assert!(seen);
}

#[test]
fn barcode_cccd_cards_were_issued_from_2016_to_2020_only() {
    let c = country();
    // The 16 provinces that issued them, densely: every citizen of the cohorts that came of
    // card age in 2016–2021 and many of the others.
    let (mut cards, mut in_2020) = (0, 0);
    for &code in rules::BARCODE_PROVINCES {
        for p in spread(c.province_range(u16::from(code)).unwrap(), 20_000) {
            for card in p.cards.iter().filter(|k| k.kind == CardKind::CccdBarcode) {
                cards += 1;
                assert!(
                    (rules::BARCODE_CARDS_FROM..=rules::BARCODE_CARDS_UNTIL).contains(&card.issued),
                    "{}: a barcode CCCD issued {}",
                    p.id,
                    card.issued
                );
                in_2020 += usize::from(card.issued.year() == 2020);
            }
            // No card of any kind is dated before chip cards began and after barcode cards
            // ended.
            for card in p.cards.iter().filter(|k| k.kind != CardKind::Cmnd) {
                assert!(
                    card.issued <= rules::BARCODE_CARDS_UNTIL
                        || card.issued >= rules::CHIP_CARDS_FROM,
                    "{}: a {:?} issued {}",
                    p.id,
                    card.kind,
                    card.issued
                );
            }
        }
    }
    assert!(
        cards > 20_000 && in_2020 > 1_000,
        "{cards} cards, {in_2020} in 2020"
    );
    assert_eq!(rules::BARCODE_CARDS_UNTIL, date!(2020 - 12 - 31));
}
