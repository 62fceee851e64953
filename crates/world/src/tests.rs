//! Properties of the synthetic country.

use proptest::prelude::*;
use time::macros::date;

use super::*;
use crate::families::Family;

fn country() -> &'static Country {
    static C: std::sync::LazyLock<Country> =
        std::sync::LazyLock::new(|| Country::new(6, 100_000_000, date!(2026 - 11 - 27)));
    &C
}

#[test]
fn the_country_is_country_sized() {
    let n = country().population();
    assert!((95_000_000..=105_000_000).contains(&n), "{n}");
    let small = Country::new(6, 1_000, date!(2026 - 11 - 27));
    assert!(
        small.population() > 0 && small.population() < 2_000,
        "{}",
        small.population()
    );
}

#[test]
fn same_seed_same_country_other_seed_other_country() {
    let a = Country::new(7, 1_000_000, date!(2026 - 11 - 27));
    let b = Country::new(7, 1_000_000, date!(2026 - 11 - 27));
    let c = Country::new(8, 1_000_000, date!(2026 - 11 - 27));
    let mut differs = 0;
    for i in (0..a.population()).step_by(997) {
        let id = a.citizen_at(i).unwrap();
        assert_eq!(Some(id), b.citizen_at(i));
        assert_eq!(a.person(id, View::Full), b.person(id, View::Full));
        if c.citizen_at(i) != Some(id) {
            differs += 1;
        }
    }
    assert!(differs > 0);
}

#[test]
fn families_are_other_citizens_of_the_same_world() {
    let c = country();
    let (mut with_father, mut married) = (0, 0);
    for i in (0..c.population()).step_by(1_000_003).take(100) {
        let id = c.citizen_at(i).unwrap();
        let p = c.person(id, View::Full).unwrap();
        if let Some(father) = p.father.as_ref().and_then(|f| f.id) {
            with_father += 1;
            let f = c.person(father, View::Full).unwrap();
            assert_eq!(f.sex, Sex::Male);
            assert!(p.date_of_birth.year() - f.date_of_birth.year() >= 24);
            // Kinh and most groups inherit the father's family name.
            if p.ethnicity == "Kinh" {
                assert_eq!(p.full_name.split(' ').next(), f.full_name.split(' ').next());
            }
        }
        if let Some(spouse) = p.spouse.as_ref().and_then(|s| s.id) {
            married += 1;
            let s = c.person(spouse, View::Full).unwrap();
            assert_eq!(
                s.spouse.as_ref().and_then(|x| x.id),
                Some(id),
                "{id} {spouse}"
            );
            assert_ne!(s.sex, p.sex);
        }
        if let Some(h) = &p.household {
            assert!(
                h.members.iter().any(|m| m.id == id) || !p.is_alive(),
                "{id} not in its household"
            );
        }
    }
    assert!(with_father > 10, "{with_father}");
    assert!(married > 10, "{married}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_enumerated_citizen_agrees_with_its_digits(i in 0u64..95_000_000) {
        let c = country();
        let id = c.citizen_at(i).unwrap();
        let parsed = CitizenId::parse_at(&id.to_string(), "citizen_id", 2026).unwrap();
        prop_assert_eq!(parsed, id);
        let p = c.person(id, View::Full).unwrap();
        prop_assert_eq!(p.date_of_birth.year(), id.birth_year());
        prop_assert_eq!(p.sex, id.sex());
        prop_assert!(p.date_of_birth <= c.reference_date());
        let reg = &c.units().communes[match p.birth_registration.commune { CommuneRef::Pre2025(i) => i as usize, CommuneRef::Current(_) => unreachable!() }];
        // The prefix is the one the rule gives a birth registered there on that day.
        prop_assert_eq!(
            c.units().birth_registration_prefix(u16::from(reg.province), p.date_of_birth),
            Some(id.province_code())
        );
        // The address exists in both eras.
        let Place { commune: CommuneRef::Pre2025(ci), .. } = p.residence else { unreachable!() };
        let pre = &c.units().communes[ci as usize];
        let now = &c.units().communes_2025[pre.current as usize];
        prop_assert_eq!(c.units().province(u16::from(pre.province)).unwrap().code_2025, now.province);
        if let Some(card) = p.current_card() {
            prop_assert!(card.issued >= p.date_of_birth);
        }
    }

    #[test]
    fn any_well_formed_number_is_no_one_or_someone_consistent(p in 1u16..100, g in 0u8..4, yy in 0u8..100, serial in 0u32..1_000_000) {
        let c = country();
        let s = format!("{p:03}{g}{yy:02}{serial:06}");
        if let Ok(id) = CitizenId::parse_at(&s, "citizen_id", 2026)
            && let Some(person) = c.person(id, View::Basic)
        {
            prop_assert_eq!(person.date_of_birth.year(), id.birth_year());
            prop_assert_eq!(person.sex, id.sex());
        }
    }
}

#[test]
fn the_default_country_is_the_same_on_every_machine() {
    // Pinned values: a change here changes every integrator's test data, so it must be deliberate.
    let c = country();
    let samples: Vec<(String, String)> = [0u64, 1, 33_333_333, 77_777_777]
        .iter()
        .map(|&i| {
            let id = c.citizen_at(i).unwrap();
            (id.to_string(), c.person(id, View::Basic).unwrap().full_name)
        })
        .collect();
    let printed = format!("{samples:?}");
    assert_eq!(c.population(), GOLDEN_POPULATION, "{printed}");
    assert_eq!(printed, GOLDEN_SAMPLES);
}

const GOLDEN_POPULATION: u64 = 99_860_956;
const GOLDEN_SAMPLES: &str = r#"[("001026497377", "Xa Văn Khánh"), ("001026676483", "Bùi Văn Quân"), ("035211925758", "Nguyễn Hữu Gia Long"), ("079097109932", "Lê Minh Nghĩa")]"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn card_qr_codes_round_trip(i in 0u64..95_000_000) {
        let c = country();
        let id = c.citizen_at(i).unwrap();
        let p = c.person(id, View::Full).unwrap();
        if let Some(qr) = crate::card_qr(c, &p) {
            let payload = qr.to_payload();
            let parsed = sandbox06_vn::CardQr::parse(&payload, 2026).unwrap();
            prop_assert_eq!(&parsed, &qr);
            prop_assert_eq!(parsed.to_payload(), payload);
        }
    }
}

#[test]
fn each_card_prints_its_own_qr_form() {
    let c = country();
    let qr_of = |raw: &str| {
        let id = CitizenId::parse_field(raw, "id").unwrap();
        crate::card_qr(c, &c.person(id, View::Full).unwrap())
            .unwrap()
            .to_payload()
    };
    // A Căn cước (issued 5 September 2024): the seven fields and four empty ones.
    let can_cuoc = qr_of(personas::ids::CAN_CUOC_2024);
    assert_eq!(can_cuoc.split('|').count(), 11, "{can_cuoc}");
    assert!(can_cuoc.ends_with("|05092024||||"), "{can_cuoc}");
    // A chip CCCD (issued 15 April 2021): exactly seven.
    let chip = qr_of(personas::ids::OLD_CMND);
    assert_eq!(chip.split('|').count(), 7, "{chip}");
    assert!(chip.ends_with("|15042021"), "{chip}");
    let (mut seen_chip, mut seen_can_cuoc, mut seen_cmnd) = (0, 0, 0);
    for i in (0..c.population()).step_by(20_011).take(5_000) {
        let id = c.citizen_at(i).unwrap();
        let p = c.person(id, View::Full).unwrap();
        let Some(card) = p.current_card() else {
            continue;
        };
        let qr = crate::card_qr(c, &p);
        let fields = qr.as_ref().map(|q| q.to_payload().split('|').count());
        match card.kind {
            CardKind::Cmnd | CardKind::CccdBarcode => {
                seen_cmnd += 1;
                assert_eq!(fields, None, "{id}: a CMND has no QR code");
            }
            CardKind::CccdChip => {
                seen_chip += 1;
                assert!(card.issued < rules::CAN_CUOC_FROM);
                assert_eq!(fields, Some(7), "{id}");
            }
            CardKind::CanCuoc => {
                seen_can_cuoc += 1;
                assert!(card.issued >= rules::CAN_CUOC_FROM);
                assert_eq!(fields, Some(11), "{id}");
            }
        }
    }
    assert!(
        seen_chip > 100 && seen_can_cuoc > 100,
        "{seen_chip} {seen_can_cuoc}"
    );
    // Those who died before their first chip card was issued hold a CMND as their last card.
    assert!(seen_cmnd > 0);
}

#[test]
fn qr_addresses_are_printed_the_short_way() {
    let c = country();
    let person = |raw: &str| {
        c.person(CitizenId::parse_field(raw, "id").unwrap(), View::Full)
            .unwrap()
    };
    let printed = |raw: &str| crate::card_qr(c, &person(raw)).unwrap().address;
    // Named units without their type word, a city at district tier as "TP.", three tiers for
    // cards issued before 1 July 2025.
    assert_eq!(
        printed(personas::ids::HAPPY_PATH),
        "Số 12 phố Hàng Bạc, Hàng Bạc, Hoàn Kiếm, Hà Nội"
    );
    assert_eq!(
        printed(personas::ids::OLD_CMND),
        "Thôn 1, Phước Hậu, Ninh Phước, Ninh Thuận"
    );
    assert_eq!(
        printed(personas::ids::CAN_CUOC_2024),
        "Số 17 đường Trần Hưng Đạo, Vị Xuyên, TP. Nam Định, Nam Định"
    );
    // Two tiers, no district, for a card issued from 1 July 2025.
    let home = person(personas::ids::OLD_CMND).residence;
    assert_eq!(
        crate::printed_address(c.units(), &home, date!(2025 - 07 - 01)),
        "Thôn 1, Phước Hậu, Khánh Hòa"
    );
    // Generated cards too: no unit type word but those of numbered units and "TP.".
    let mut two_tiers = 0;
    for i in (0..c.population()).step_by(50_021).take(2_000) {
        let id = c.citizen_at(i).unwrap();
        let p = c.person(id, View::Full).unwrap();
        let Some(qr) = crate::card_qr(c, &p) else {
            continue;
        };
        let units: Vec<&str> = qr.address.split(", ").collect();
        let street_parts = p.residence.street.split(", ").count();
        let tiers = units.len() - street_parts;
        if qr.issue_date >= rules::UNITS_2025_FROM {
            two_tiers += 1;
            assert_eq!(tiers, 2, "{id}: {}", qr.address);
        } else {
            assert_eq!(tiers, 3, "{id}: {}", qr.address);
        }
        for unit in &units[street_parts..] {
            if let Some((kind, name)) = sandbox06_vn::admin::split_unit_type(unit) {
                assert!(
                    sandbox06_vn::admin::is_numbered(name),
                    "{id}: {kind} kept in {}",
                    qr.address
                );
            }
        }
    }
    assert!(two_tiers > 10, "{two_tiers}");
    // Every commune of both eras whose name is or begins with a number keeps its type word
    // ("Phường 17, Gò Vấp"; "Phường 1 Bảo Lộc", not "1 Bảo Lộc"), on cards of both eras.
    let units = c.units();
    let mut numbered = 0;
    for (i, commune) in units.communes.iter().enumerate() {
        let place = Place {
            commune: CommuneRef::Pre2025(i as u32),
            street: "Tổ 1".to_owned(),
        };
        let now = &units.communes_2025[commune.current as usize];
        for (name, issued) in [
            (commune.name, date!(2021 - 06 - 01)),
            (now.name, date!(2025 - 07 - 01)),
        ] {
            let Some((_, bare)) = sandbox06_vn::admin::split_unit_type(name) else {
                continue;
            };
            if sandbox06_vn::admin::is_numbered(bare) {
                numbered += 1;
                let printed = crate::printed_address(units, &place, issued);
                assert!(
                    printed.starts_with(&format!("Tổ 1, {name}, ")),
                    "{name}: {printed}"
                );
            }
        }
    }
    assert!(numbered > 100, "{numbered}");
}

#[test]
fn older_documents_are_in_the_population() {
    let c = country();
    let (mut barcode_current, mut barcode_any, mut with_cmnd, mut sampled) = (0, 0, 0, 0);
    for i in (0..c.population()).step_by(20_011).take(5_000) {
        let id = c.citizen_at(i).unwrap();
        let p = c.person(id, View::Full).unwrap();
        sampled += 1;
        // A CMND carries the prefix of the police of the province, and comes before any CCCD.
        if let Some(number) = &p.old_id_number {
            with_cmnd += 1;
            let prefix = sandbox06_vn::cmnd_prefix(id.province_code() as u8).unwrap();
            assert!(
                number.len() == 9 && number.starts_with(prefix),
                "{id}: {number}"
            );
            let cmnd = p.cards.iter().find(|k| k.kind == CardKind::Cmnd).unwrap();
            assert!(cmnd.issued < rules::CMND_UNTIL, "{id}");
            assert!(cmnd.expires.is_some_and(|e| e <= rules::CMND_VALID_UNTIL));
            assert!(
                p.cards
                    .iter()
                    .filter(|k| k.kind != CardKind::Cmnd)
                    .all(|k| k.issued > cmnd.issued),
                "{id}: a CMND after a CCCD"
            );
        }
        for card in p.cards.iter().filter(|k| k.kind == CardKind::CccdBarcode) {
            barcode_any += 1;
            assert!(card.issued >= rules::BARCODE_CARDS_FROM, "{id}");
            assert!(card.issued < rules::CHIP_CARDS_FROM, "{id}");
            assert_eq!(card.number, id.to_string());
        }
        if p.current_card()
            .is_some_and(|k| k.kind == CardKind::CccdBarcode)
        {
            barcode_current += 1;
            assert!(
                crate::card_qr(c, &p).is_none(),
                "{id}: a barcode CCCD has no QR code"
            );
            assert_eq!(p.vneid.0, Vneid::None, "{id}: VNeID without a chip card");
        }
    }
    // Plausible shares: about a fifth of those of card age in 2016–2020 had a barcode card, and
    // about half of them keep it; most adults had a CMND.
    assert!(
        barcode_any * 100 > sampled * 5,
        "{barcode_any} of {sampled}"
    );
    assert!(
        barcode_current * 100 > sampled,
        "{barcode_current} of {sampled}"
    );
    assert!(barcode_current < barcode_any);
    assert!(with_cmnd * 2 > sampled, "{with_cmnd} of {sampled}");

    // The personas of both.
    let person = |raw: &str| {
        c.person(CitizenId::parse_field(raw, "id").unwrap(), View::Full)
            .unwrap()
    };
    let barcode = person(personas::ids::BARCODE_CCCD);
    let card = barcode.current_card().unwrap();
    assert_eq!(
        (card.kind, card.standing),
        (CardKind::CccdBarcode, CardStanding::Valid)
    );
    assert!(crate::card_qr(c, &barcode).is_none());
    let cmnd = person(personas::ids::CMND_ONLY);
    let card = cmnd.current_card().unwrap();
    assert_eq!(
        (card.kind, card.standing),
        (CardKind::Cmnd, CardStanding::Expired)
    );
    assert_eq!(card.expires, Some(rules::CMND_VALID_UNTIL));
    assert!(crate::card_qr(c, &cmnd).is_none());
    for spec in c.personas().all() {
        if let Some(number) = spec.old_cmnd {
            let id = CitizenId::parse_field(spec.id, "id").unwrap();
            let prefix = sandbox06_vn::cmnd_prefix(id.province_code() as u8).unwrap();
            // A 12-digit CMND's number is the ID number.
            assert!(
                number.starts_with(prefix) || number == spec.id,
                "{}: {number}",
                spec.key
            );
        }
    }
}

#[test]
fn records_are_coherent_with_each_other() {
    let c = country();
    let reference = c.reference_date();
    let (mut minors, mut minors_heading) = (0, 0);
    for i in (0..c.population()).step_by(33_331).take(3_000) {
        let id = c.citizen_at(i).unwrap();
        let p = c.person(id, View::Full).unwrap();
        let age = rules::age_on(p.date_of_birth, reference);
        // Households agree from both sides.
        if let Some(h) = &p.household {
            assert!(
                h.members.iter().any(|m| m.id == id),
                "{id} missing from its household"
            );
            for m in &h.members {
                let other = c.person(m.id, View::Full).unwrap();
                assert_eq!(
                    other.household.as_ref().map(|x| x.head),
                    Some(h.head),
                    "{id}: member {} names another head",
                    m.id
                );
            }
            if age < 18 {
                minors += 1;
                if h.head == id {
                    minors_heading += 1;
                    // Only when no living parent is a head to live with.
                    for parent in [&p.father, &p.mother]
                        .into_iter()
                        .flatten()
                        .filter_map(|r| r.id)
                    {
                        let parent = c.person(parent, View::Full).unwrap();
                        assert!(
                            !parent.is_alive()
                                || parent
                                    .household
                                    .as_ref()
                                    .is_none_or(|h| h.head != parent.id),
                            "{id}: a minor heads a household although a parent heads one"
                        );
                    }
                }
            }
        }
        // Married only from the legal age, by date.
        if p.marital != Marital::Single {
            assert!(
                age >= if p.sex == Sex::Male { 20 } else { 18 },
                "{id} married at {age}"
            );
        }
        // VNeID only after a chip card.
        if let (level, Some(on)) = p.vneid {
            assert_ne!(level, Vneid::None);
            let first_chip = p
                .cards
                .iter()
                .filter(|k| k.kind.has_chip())
                .map(|k| k.issued)
                .min();
            assert!(
                first_chip.is_some_and(|d| d <= on),
                "{id}: VNeID before any chip card"
            );
        }
        // The dead hold a revoked card, when they held any.
        if let Life::Deceased(died) = p.life {
            assert!(p.household.is_none());
            if let Some(card) = p.cards.first() {
                assert_eq!(card.standing, CardStanding::Revoked, "{id}");
                assert!(card.issued <= died);
            }
            // No child was born after the death.
            for child in c.children_of(c.slot_of(id).unwrap()) {
                let child_id = c.id_of(child);
                assert!(
                    c.birth_date(child, child_id) <= died,
                    "{id} died before {child_id} was born"
                );
            }
        }
        // Generated relations never point at a persona.
        for r in [&p.father, &p.mother, &p.spouse]
            .into_iter()
            .flatten()
            .filter_map(|r| r.id)
        {
            assert!(
                c.personas().get(r).is_none(),
                "{id} is related to persona {r}"
            );
        }
    }
    assert!(minors > 100, "{minors}");
    assert!(
        minors_heading * 10 < minors,
        "{minors_heading} of {minors} minors head a household"
    );
}

#[test]
fn some_children_under_14_hold_a_can_cuoc_issued_on_application() {
    let c = country();
    let reference = c.reference_date();
    let (mut children, mut with_card) = (0, 0);
    for i in (0..c.population()).step_by(9_973).take(10_000) {
        let id = c.citizen_at(i).unwrap();
        let p = c.person(id, View::Basic).unwrap();
        let fourteen = rules::add_years(p.date_of_birth, rules::CARD_AGE);
        if fourteen <= reference {
            continue;
        }
        children += 1;
        let Some(card) = p.cards.first() else {
            continue;
        };
        with_card += 1;
        assert_eq!(p.cards.len(), 1, "{id}");
        assert_eq!(card.kind, CardKind::CanCuoc, "{id}");
        assert!(card.issued >= rules::CAN_CUOC_FROM && card.issued < fourteen);
        assert_eq!(
            card.expires,
            rules::card_expiry(p.date_of_birth, card.issued)
        );
        assert_eq!(card.standing, CardStanding::Valid, "{id}");
        assert_eq!(c.vneid_account(id), None, "{id}: an account under 14");
    }
    // A small share: CHILD_CARD_SHARE of them apply at some time before 14.
    assert!(children > 1_000, "{children}");
    assert!(
        with_card * 100 > children && with_card * 10 < children,
        "{with_card} of {children} children hold a card"
    );
}

#[test]
fn births_registered_after_the_reorganisation_carry_the_2025_province_prefix() {
    let c = country();
    let units = c.units();
    let (mut after, mut merged_before, mut hanoi_late_2025) = (0, 0, 0);
    for (pi, p) in units.provinces.iter().enumerate() {
        for year in 2024..=c.reference_date().year() {
            for sex in [Sex::Male, Sex::Female] {
                let n = c.bucket_size(pi, year, sex).min(300);
                for rank in 0..n {
                    let Some(slot) = c.slot_at(pi, year, sex, rank) else {
                        continue;
                    };
                    let id = c.id_of(slot);
                    assert_eq!(c.slot_of(id), Some(slot), "{id}");
                    let born = c.person(id, View::Basic).unwrap().date_of_birth;
                    // Registered at birth: the prefix is the one the rule gives that day.
                    let code = id.province_code();
                    assert_eq!(
                        units.birth_registration_prefix(code, born),
                        Some(code),
                        "{id} born {born}"
                    );
                    if born >= date!(2025 - 07 - 01) && year == 2025 && code == 1 {
                        hanoi_late_2025 += 1;
                    }
                    if born >= date!(2025 - 07 - 01) {
                        after += 1;
                    } else if p.code != p.code_2025 {
                        merged_before += 1;
                    }
                }
            }
        }
        // A merged province's code is given to no birth after 2025.
        if p.code != p.code_2025 {
            assert_eq!(c.registered_before(pi, 2026, Sex::Female), 0, "{}", p.name);
        }
    }
    assert!(
        after > 1_000 && merged_before > 1_000,
        "{after} {merged_before}"
    );
    // An unchanged province's births of 2025 fill the whole year.
    assert!(hanoi_late_2025 > 100, "{hanoi_late_2025}");
}

#[test]
fn partners_of_one_blood_do_not_marry_and_are_few() {
    let c = country();
    let (mut pairs, mut refused, mut siblings) = (0, 0, 0);
    for i in (0..c.population()).step_by(7_919).take(12_000) {
        let id = c.citizen_at(i).unwrap();
        let s = c.slot_of(id).unwrap();
        let Some(partner) = c.partner_slot(s).filter(|_| s.sex == Sex::Male) else {
            continue;
        };
        if rules::age_on(c.birth_date(s, id), c.reference) < 20 {
            continue;
        }
        pairs += 1;
        if Family::of_one_blood(c, s, partner) {
            refused += 1;
            siblings += usize::from(
                c.father_of(s)
                    .is_some_and(|f| c.father_of(partner) == Some(f)),
            );
            assert_eq!(c.couple(s), None, "{id}");
            assert_eq!(c.wife_of(s), None, "{id}");
            let wife = c.id_of(partner);
            assert_eq!(c.person(wife, View::Full).unwrap().spouse, None, "{wife}");
        }
    }
    let report = format!(
        "{refused} of {pairs} partners of men of 20 or more are of one blood, {siblings} brother and sister"
    );
    // The check is at work, and leaves nearly every man his partner (docs/domain.md).
    assert!(refused > 0 && refused * 100 < pairs * 2, "{report}");
    println!("{report}");
}

#[test]
fn children_are_found_alike_side_by_side_and_one_by_one() {
    let c = country();
    let (mut fathers, mut children) = (0, 0);
    for i in (0..c.population()).step_by(4_999).take(20_000) {
        let id = c.citizen_at(i).unwrap();
        let s = c.slot_of(id).unwrap();
        if s.sex != Sex::Male {
            continue;
        }
        let (mut side_by_side, mut one_by_one) = (Vec::new(), Vec::new());
        c.each_child(s, |x| {
            side_by_side.push(x);
            true
        });
        c.each_child_one_by_one(s, |x| {
            one_by_one.push(x);
            true
        });
        assert_eq!(side_by_side, one_by_one, "{id}");
        // Stopping at the first child stops there.
        let mut first = None;
        c.each_child(s, |x| {
            assert!(first.is_none(), "{id}");
            first = Some(x);
            false
        });
        assert_eq!(first, one_by_one.first().copied(), "{id}");
        fathers += usize::from(!one_by_one.is_empty());
        children += one_by_one.len();
    }
    assert!(
        fathers > 1_000 && children > fathers,
        "{fathers} {children}"
    );
}

#[test]
fn a_records_kin_answers_as_the_country_does() {
    // One record's kin, asked about thousands of citizens and their families, twice each:
    // every cached fact is the one the country computes.
    let c = country();
    let kin = households::Kin::new(c);
    let (mut men, mut refused) = (0, 0);
    for round in 0..2 {
        for i in (0..c.population()).step_by(19_997).take(5_000) {
            let s = c.slot_of(c.citizen_at(i).unwrap()).unwrap();
            let family = [Some(s), c.father_of(s), c.partner_slot(s)];
            for x in family.into_iter().flatten() {
                let id = c.id_of(x);
                assert_eq!(Family::id(&kin, x), id);
                assert_eq!(Family::father(&kin, x), c.father_of(x), "{id}");
                assert_eq!(Family::forebears(&kin, x), Family::forebears(c, x), "{id}");
                assert_eq!(Family::root(&kin, x), Family::root(c, x), "{id}");
                assert_eq!(Family::lineage(&kin, x, id), c.lineage(x, id), "{id}");
                if x.sex == Sex::Male {
                    let wife = Family::wife(&kin, x);
                    assert_eq!(wife, c.wife_of(x), "{id}");
                    if round == 0 {
                        men += 1;
                        refused += usize::from(wife.is_none() && c.partner_slot(x).is_some());
                    }
                }
            }
        }
    }
    assert!(men > 1_000 && refused > 0, "{refused} of {men}");
}
