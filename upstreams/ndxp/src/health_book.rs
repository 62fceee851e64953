//! The Ministry of Health's electronic health book (sổ sức khỏe điện tử, Decision
//! 831/QĐ-BYT), as its system shares it through NDXP and VNeID shows it to the citizen:
//! identity, blood group, allergies, chronic conditions, vaccinations and the visits of the
//! last twelve months.
//!
//! Identity and insurance come from the population database's record, so a recorded death
//! ends the book on its day and the visits are the very ones the health insurance check lists
//! (same record numbers, same days). What the records do not hold is drawn from the ID number
//! alone, so the same citizen always has the same book: vaccinations follow the expanded
//! programme on immunisation's schedule for the year of birth (and the COVID-19 campaign of
//! 2021–2022 for the ages it reached), chronic conditions appear at ages drawn within their
//! usual onset, blood groups follow Vietnam's distribution. The shares are *estimates* of the
//! sandbox, not statistics.

use sandbox06_proto::{
    dates::date_to_proto,
    population as pop,
    types::{self, Diagnosis, HealthBookEncounter, HealthBookResponse, LifeStatus, Vaccination},
};
use sandbox06_vn::CivilDate;
use sandbox06_world::rules::add_years;
use time::{Duration, Month};

use crate::{
    NdxpError, Population,
    health::recent_visits,
    justice::{day, hash, record},
};

/// A dose of the expanded programme's schedule.
struct Dose {
    vaccine: &'static str,
    dose: i32,
    /// Age in days when it is due.
    age_days: i64,
    /// The first and last years of birth the programme gave it to.
    born: (i32, i32),
}

/// The expanded programme on immunisation's schedule (tiêm chủng mở rộng), by the years of birth
/// each vaccine was given to.
const SCHEDULE: &[Dose] = &[
    dose("BCG", 1, 0, 1985, 9999),
    dose("Viêm gan B sơ sinh", 1, 0, 2003, 9999),
    dose("DPT", 1, 60, 1985, 2009),
    dose("DPT", 2, 90, 1985, 2009),
    dose("DPT", 3, 120, 1985, 2009),
    dose("DPT-VGB-Hib", 1, 60, 2010, 9999),
    dose("DPT-VGB-Hib", 2, 90, 2010, 9999),
    dose("DPT-VGB-Hib", 3, 120, 2010, 9999),
    dose("Bại liệt uống (OPV)", 1, 60, 1985, 9999),
    dose("Bại liệt uống (OPV)", 2, 90, 1985, 9999),
    dose("Bại liệt uống (OPV)", 3, 120, 1985, 9999),
    dose("Bại liệt tiêm (IPV)", 1, 150, 2018, 9999),
    dose("Sởi", 1, 270, 1985, 9999),
    dose("Viêm não Nhật Bản", 1, 365, 2013, 9999),
    dose("Viêm não Nhật Bản", 2, 372, 2013, 9999),
    dose("Sởi-Rubella", 1, 540, 2013, 9999),
    dose("DPT", 4, 540, 2010, 9999),
    dose("Viêm não Nhật Bản", 3, 730, 2013, 9999),
];

/// A row of the schedule.
const fn dose(vaccine: &'static str, dose: i32, age_days: i64, first: i32, last: i32) -> Dose {
    Dose {
        vaccine,
        dose,
        age_days,
        born: (first, last),
    }
}

/// Doses of the programme missed, per thousand (*estimate*).
const MISSED_PER_THOUSAND: u64 = 30;

/// A chronic condition: its code and name, its onset ages (each who has it was first diagnosed
/// at an age drawn between them), and how many per thousand have it by the last onset age
/// (*estimates*).
struct Condition {
    code: &'static str,
    name: &'static str,
    onset: (i32, i32),
    per_thousand: u64,
}

const CONDITIONS: &[Condition] = &[
    condition("I10", "Tăng huyết áp vô căn (nguyên phát)", (40, 65), 250),
    condition(
        "E11",
        "Bệnh đái tháo đường không phụ thuộc insulin",
        (40, 65),
        70,
    ),
    condition("J45", "Hen phế quản", (3, 30), 40),
    condition("K21", "Bệnh trào ngược dạ dày - thực quản", (20, 50), 50),
    condition("J44", "Bệnh phổi tắc nghẽn mạn tính khác", (50, 70), 40),
    condition("M17", "Thoái hóa khớp gối", (55, 70), 150),
];

/// A row of the conditions.
const fn condition(
    code: &'static str,
    name: &'static str,
    onset: (i32, i32),
    per_thousand: u64,
) -> Condition {
    Condition {
        code,
        name,
        onset,
        per_thousand,
    }
}

/// What brings a patient as an outpatient, and as an inpatient, when it is not a chronic
/// condition's follow-up.
const OUTPATIENT: &[(&str, &str)] = &[
    ("J06.9", "Nhiễm trùng đường hô hấp trên cấp, không đặc hiệu"),
    ("K29.7", "Viêm dạ dày, không đặc hiệu"),
    ("A09", "Tiêu chảy và viêm dạ dày ruột do nhiễm trùng"),
    ("M54.5", "Đau vùng thắt lưng"),
    ("H10.9", "Viêm kết mạc, không đặc hiệu"),
    ("L30.9", "Viêm da, không đặc hiệu"),
];
const INPATIENT: &[(&str, &str)] = &[
    ("J18.9", "Viêm phổi, không đặc hiệu"),
    ("A91", "Sốt xuất huyết Dengue"),
    ("K35.8", "Viêm ruột thừa cấp, khác và không đặc hiệu"),
    ("S72.0", "Gãy cổ xương đùi"),
    ("I63.9", "Nhồi máu não, không đặc hiệu"),
];

/// Allergies, one or two of them for the few who have any.
const ALLERGENS: &[&str] = &[
    "Penicillin",
    "Amoxicillin",
    "Aspirin",
    "Sulfonamid",
    "Hải sản (tôm, cua)",
    "Đậu phộng",
];
/// Citizens with a known allergy, per thousand (*estimate*).
const ALLERGIC_PER_THOUSAND: u64 = 60;

/// Blood groups with their shares per ten thousand (Vietnam: O, B, A, AB; Rh negative rare).
const BLOOD_GROUPS: &[(&str, u64)] = &[
    ("O+", 4_160),
    ("B+", 3_005),
    ("A+", 2_118),
    ("AB+", 697),
    ("O-", 10),
    ("B-", 5),
    ("A-", 3),
    ("AB-", 2),
];
/// Citizens whose blood group was ever typed, per thousand (*estimate*).
const TYPED_PER_THOUSAND: u64 = 850;

/// The health book of the citizen with this number.
pub async fn health_book(
    population: &Population,
    citizen_id: &str,
    today: CivilDate,
) -> Result<HealthBookResponse, NdxpError> {
    let citizen = record(population, citizen_id, "citizen.citizen_id").await?;
    let deceased = citizen.life_status == LifeStatus::Deceased as i32;
    let died = deceased
        .then(|| day(citizen.date_of_death.as_ref()))
        .flatten();
    // The book ends on the day of death.
    let until = died.map_or(today, |d| d.min(today));
    let key = citizen.citizen_id.as_bytes();
    let born = day(citizen.date_of_birth.as_ref());
    let insurance = citizen.health_insurance.as_ref();
    let conditions = born.map_or_else(Vec::new, |b| chronic_conditions(key, b, until));
    // The check's visits (counted back from today, as the check counts them), none after the
    // book ends.
    let encounters = insurance.map_or_else(Vec::new, |i| {
        recent_visits(i, today)
            .into_iter()
            .filter(|visit| day(visit.admitted_on.as_ref()).is_some_and(|on| on <= until))
            .map(|visit| encounter(visit, &conditions))
            .collect()
    });
    Ok(HealthBookResponse {
        blood_group: blood_group(key).to_owned(),
        allergies: allergies(key),
        vaccinations: born.map_or_else(Vec::new, |b| vaccinations(&citizen, b, until)),
        chronic_conditions: conditions,
        encounters,
        health_insurance_card_code: insurance.map(|i| i.card_code.clone()).unwrap_or_default(),
        citizen_id: citizen.citizen_id,
        full_name: citizen.full_name,
        date_of_birth: citizen.date_of_birth,
        sex: citizen.sex,
        life_status: citizen.life_status,
    })
}

/// One of `choices` drawn by `h`.
fn pick<T: Copy>(choices: &[T], h: u64) -> T {
    choices[(h % choices.len() as u64) as usize]
}

/// The blood group, or "" when never typed.
fn blood_group(key: &[u8]) -> &'static str {
    let h = hash(&[b"blood", key]);
    if h % 1_000 >= TYPED_PER_THOUSAND {
        return "";
    }
    let mut draw = (h >> 16) % 10_000;
    for &(group, share) in BLOOD_GROUPS {
        if draw < share {
            return group;
        }
        draw -= share;
    }
    "O+"
}

/// Known allergies.
fn allergies(key: &[u8]) -> Vec<String> {
    let h = hash(&[b"allergy", key]);
    if h % 1_000 >= ALLERGIC_PER_THOUSAND {
        return Vec::new();
    }
    let first = pick(ALLERGENS, h >> 16);
    let mut found = vec![first.to_owned()];
    let second = pick(ALLERGENS, h >> 32);
    if (h >> 48).is_multiple_of(4) && second != first {
        found.push(second.to_owned());
    }
    found
}

/// The chronic conditions diagnosed by `until`, in the order of their first diagnosis.
fn chronic_conditions(key: &[u8], born: CivilDate, until: CivilDate) -> Vec<Diagnosis> {
    let mut found: Vec<(CivilDate, Diagnosis)> = CONDITIONS
        .iter()
        .filter_map(|c| {
            let h = hash(&[b"condition", c.code.as_bytes(), key]);
            if h % 1_000 >= c.per_thousand {
                return None;
            }
            let (from, to) = c.onset;
            let age = from + ((h >> 16) % (to - from + 1) as u64) as i32;
            let since = add_years(born, age) + Duration::days(((h >> 32) % 365) as i64);
            (since <= until).then(|| {
                (
                    since,
                    Diagnosis {
                        icd10_code: c.code.to_owned(),
                        name: c.name.to_owned(),
                        since: Some(date_to_proto(since)),
                    },
                )
            })
        })
        .collect();
    found.sort_by_key(|(since, _)| *since);
    found.into_iter().map(|(_, d)| d).collect()
}

/// A visit with its main diagnosis: a chronic condition's follow-up for about half of the
/// outpatient visits of those who had one diagnosed by then, otherwise a common illness of its
/// kind.
fn encounter(visit: types::HealthVisit, conditions: &[Diagnosis]) -> HealthBookEncounter {
    let h = hash(&[b"diagnosis", visit.record_id.as_bytes()]);
    let inpatient = visit.kind == types::HealthVisitKind::Inpatient as i32;
    let admitted = day(visit.admitted_on.as_ref());
    let known: Vec<&Diagnosis> = conditions
        .iter()
        .filter(|c| day(c.since.as_ref()).is_some_and(|since| Some(since) <= admitted))
        .collect();
    let diagnosis = if !inpatient && !known.is_empty() && h.is_multiple_of(2) {
        let c = known[((h >> 8) % known.len() as u64) as usize];
        Diagnosis {
            icd10_code: c.icd10_code.clone(),
            name: c.name.clone(),
            since: None,
        }
    } else {
        let (code, name) = pick(if inpatient { INPATIENT } else { OUTPATIENT }, h >> 16);
        Diagnosis {
            icd10_code: code.to_owned(),
            name: name.to_owned(),
            since: None,
        }
    };
    HealthBookEncounter {
        visit: Some(visit),
        diagnosis: Some(diagnosis),
    }
}

/// The province part of a facility code where the citizen was born: the ID number's province
/// code.
fn birth_province(citizen_id: &str) -> &str {
    citizen_id.get(1..3).unwrap_or("00")
}

/// The vaccinations given by `until`, oldest first: the programme's doses due for the year of
/// birth, at the commune health station of the province of birth (a series left off misses
/// its later doses too), and the COVID-19 campaign's doses for the ages it reached, at a
/// vaccination site of that province. Nothing here changes with what happened since (a move,
/// a new card, a death): a record of the past stays as it was.
fn vaccinations(citizen: &pop::Citizen, born: CivilDate, until: CivilDate) -> Vec<Vaccination> {
    let key = citizen.citizen_id.as_bytes();
    let province = birth_province(&citizen.citizen_id);
    let station = format!("{province}{:03}", 100 + hash(&[b"station", key]) % 900);
    let site = format!("{province}{:03}", 100 + hash(&[b"covid-site", key]) % 900);
    // A series is left off at its first missed dose.
    let missed = |vaccine: &str, dose: i32| {
        (1..=dose).any(|n| {
            hash(&[b"dose", vaccine.as_bytes(), &[n as u8], key]) % 1_000 < MISSED_PER_THOUSAND
        })
    };
    let mut given: Vec<Vaccination> = SCHEDULE
        .iter()
        .filter(|d| (d.born.0..=d.born.1).contains(&born.year()))
        .filter_map(|d| {
            // Doses due at one age are given at one visit, within a week of it.
            let visit = hash(&[b"vaccination-day", &d.age_days.to_be_bytes(), key]);
            let on = born + Duration::days(d.age_days + (visit % 7) as i64);
            (!missed(d.vaccine, d.dose) && on <= until).then(|| Vaccination {
                vaccine: d.vaccine.to_owned(),
                dose: d.dose,
                given_on: Some(date_to_proto(on)),
                facility_code: station.clone(),
                expanded_programme: true,
            })
        })
        .collect();
    given.extend(
        covid_doses(key, born)
            .into_iter()
            .filter(|on| *on <= until)
            .enumerate()
            .map(|(i, on)| Vaccination {
                vaccine: "COVID-19".to_owned(),
                dose: i as i32 + 1,
                given_on: Some(date_to_proto(on)),
                facility_code: site.clone(),
                expanded_programme: false,
            }),
    );
    given.sort_by_key(|v| v.given_on.map(|d| (d.year, d.month, d.day)));
    given
}

/// A day of 2021 or 2022.
fn on(year: i32, month: Month, day: u8) -> CivilDate {
    CivilDate::from_calendar_date(year, month, day).unwrap_or(CivilDate::MIN)
}

/// The COVID-19 doses of the 2021–2022 campaign: adults from July 2021 (two doses eight to
/// twelve weeks apart, a booster from February 2022 and at least three months after the
/// second dose, a second booster for those 50 or older from August 2022 and at least four
/// months after the first), children of 12 to 17 from November 2021, of 5 to 11 from April
/// 2022 (two doses four weeks apart). About one in ten had none (*estimate*).
fn covid_doses(key: &[u8], born: CivilDate) -> Vec<CivilDate> {
    let h = hash(&[b"covid", key]);
    if h.is_multiple_of(10) {
        return Vec::new();
    }
    let days = |shift: u32, range: u64| Duration::days(((h >> shift) % range) as i64);
    let campaign = on(2021, Month::July, 15);
    let age_then = |at: CivilDate| sandbox06_world::rules::age_on(born, at);
    if age_then(campaign) >= 18 {
        let first = campaign + days(8, 120);
        let second = first + Duration::days(56) + days(16, 28);
        let mut doses = vec![first, second];
        if (h >> 24) % 10 < 8 {
            let booster = (on(2022, Month::February, 1) + days(28, 120))
                .max(second + Duration::days(90) + days(44, 30));
            doses.push(booster);
            if age_then(campaign) >= 50 && (h >> 36) % 10 < 5 {
                doses.push(
                    (on(2022, Month::August, 1) + days(40, 90))
                        .max(booster + Duration::days(120) + days(52, 30)),
                );
            }
        }
        return doses;
    }
    let teens = on(2021, Month::November, 1) + days(8, 60);
    let children = on(2022, Month::April, 15) + days(8, 90);
    let first = if age_then(teens) >= 12 {
        teens
    } else if age_then(children) >= 5 {
        children
    } else {
        return Vec::new();
    };
    vec![first, first + Duration::days(28) + days(16, 14)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandbox06_proto::dates::date_from_proto;

    #[test]
    fn blood_groups_follow_the_shares() {
        let mut counts = std::collections::HashMap::new();
        for i in 0..20_000u32 {
            *counts.entry(blood_group(&i.to_be_bytes())).or_insert(0u32) += 1;
        }
        let typed: u32 = counts
            .iter()
            .filter(|(g, _)| !g.is_empty())
            .map(|(_, n)| n)
            .sum();
        assert!((16_400..17_600).contains(&typed), "{typed}");
        let o = counts["O+"] as f64 / f64::from(typed);
        assert!((0.39..0.44).contains(&o), "{o}");
    }

    #[test]
    fn the_programme_follows_the_year_of_birth_and_never_the_future() {
        let citizen = |id: &str| pop::Citizen {
            citizen_id: id.to_owned(),
            ..Default::default()
        };
        let until = on(2026, Month::November, 27);
        // Born 1980: before the programme; adults of the COVID-19 campaign.
        let old = vaccinations(&citizen("056080000123"), on(1980, Month::March, 1), until);
        assert!(old.iter().all(|v| v.vaccine == "COVID-19"), "{old:?}");
        // Born 2015: the five-in-one, not DPT alone, for the first three doses.
        let child = vaccinations(&citizen("056215000123"), on(2015, Month::March, 1), until);
        assert!(child.iter().any(|v| v.vaccine == "DPT-VGB-Hib"));
        assert!(!child.iter().any(|v| v.vaccine == "DPT" && v.dose < 4));
        assert!(!child.iter().any(|v| v.vaccine.contains("IPV")));
        // Doses due at one age are given the same day.
        let at_two_months: Vec<_> = child
            .iter()
            .filter(|v| {
                v.dose == 1 && ["DPT-VGB-Hib", "Bại liệt uống (OPV)"].contains(&v.vaccine.as_str())
            })
            .map(|v| v.given_on)
            .collect();
        assert!(
            at_two_months.len() < 2 || at_two_months[0] == at_two_months[1],
            "{child:?}"
        );
        // A baby of two months has had the first doses only.
        let baby = vaccinations(
            &citizen("056226000123"),
            on(2026, Month::September, 20),
            until,
        );
        let days: Vec<_> = baby
            .iter()
            .filter_map(|v| v.given_on.as_ref())
            .filter_map(|d| date_from_proto(d, "given_on").ok())
            .collect();
        assert!(days.iter().all(|d| *d <= until), "{baby:?}");
        assert!(!baby.iter().any(|v| v.vaccine == "Sởi"), "{baby:?}");
        assert!(days.is_sorted());
    }

    #[test]
    fn a_series_left_off_has_no_later_dose() {
        let until = on(2026, Month::November, 27);
        for i in 0..3_000u32 {
            let id = format!("0562150{i:05}");
            let citizen = pop::Citizen {
                citizen_id: id.clone(),
                ..Default::default()
            };
            let given = vaccinations(&citizen, on(2015, Month::March, 1), until);
            for vaccine in ["DPT-VGB-Hib", "Bại liệt uống (OPV)", "Viêm não Nhật Bản"] {
                let doses: Vec<i32> = given
                    .iter()
                    .filter(|v| v.vaccine == vaccine)
                    .map(|v| v.dose)
                    .collect();
                let expected: Vec<i32> = (1..=doses.len() as i32).collect();
                assert_eq!(doses, expected, "{id} {vaccine}");
            }
        }
    }

    #[test]
    fn a_follow_up_is_of_a_condition_known_by_then() {
        let conditions = [Diagnosis {
            icd10_code: "I10".into(),
            name: "Tăng huyết áp vô căn (nguyên phát)".into(),
            since: Some(date_to_proto(on(2026, Month::October, 1))),
        }];
        for i in 0..200u32 {
            let visit = |month| types::HealthVisit {
                record_id: format!("2026{i:06}"),
                admitted_on: Some(date_to_proto(on(2026, month, 1))),
                kind: types::HealthVisitKind::Outpatient as i32,
                ..Default::default()
            };
            let before = encounter(visit(Month::March), &conditions);
            assert_ne!(before.diagnosis.unwrap().icd10_code, "I10");
        }
        let after = (0..200u32)
            .filter(|i| {
                let visit = types::HealthVisit {
                    record_id: format!("2026{i:06}"),
                    admitted_on: Some(date_to_proto(on(2026, Month::November, 1))),
                    kind: types::HealthVisitKind::Outpatient as i32,
                    ..Default::default()
                };
                encounter(visit, &conditions).diagnosis.unwrap().icd10_code == "I10"
            })
            .count();
        assert!((60..140).contains(&after), "{after}");
    }

    #[test]
    fn covid_doses_keep_their_spacing() {
        for i in 0..5_000u32 {
            let doses = covid_doses(&i.to_be_bytes(), on(1960, Month::January, 1));
            let gaps: Vec<i64> = doses
                .windows(2)
                .map(|w| (w[1] - w[0]).whole_days())
                .collect();
            let least = [56, 90, 120];
            for (gap, least) in gaps.iter().zip(least) {
                assert!(*gap >= least, "{i}: {doses:?}");
            }
        }
    }

    #[test]
    fn chronic_conditions_wait_for_their_onset() {
        let until = on(2026, Month::November, 27);
        let children = (0..2_000u32)
            .filter(|i| {
                chronic_conditions(&i.to_be_bytes(), on(2020, Month::May, 1), until)
                    .iter()
                    .any(|c| c.icd10_code != "J45")
            })
            .count();
        assert_eq!(children, 0, "a six-year-old with an adult's condition");
        let elderly = (0..2_000u32)
            .filter(|i| {
                chronic_conditions(&i.to_be_bytes(), on(1946, Month::May, 1), until)
                    .iter()
                    .any(|c| c.icd10_code == "I10")
            })
            .count();
        assert!((420..580).contains(&elderly), "{elderly}");
    }
}
