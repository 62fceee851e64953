//! The health insurance check of Vietnam Social Security, as a hospital makes it at admission:
//! a card (legacy 15-character code, 10-digit social insurance number, or the holder's ID
//! number) with the patient's name and date of birth, answered with the check's result code.
//!
//! The card is found first, then judged: a code that is not a card code is "051", no card
//! "050", a card under another name "060", with another date of birth "070", past its term
//! "010", and otherwise "000" with the card, its five-years-continuous date and the visits of
//! the last twelve months. Names are compared as the records write them (case, spacing and
//! Unicode form aside, diacritics included).

use sandbox06_proto::{
    dates::{date_from_proto, date_to_proto},
    population as pop,
    types::{
        self, HealthInsuranceCheckOutcome as Outcome, HealthInsuranceCheckRequest,
        HealthInsuranceCheckResponse, HealthVisitKind,
    },
};
use sandbox06_vn::{CivilDate, FieldError, FieldErrorKind, NameComparison, compare_names};
use sandbox06_world::{facets::benefit_level, rules::add_years};
use time::Duration;

use crate::{NdxpError, Population, justice::hash};

/// The share of costs a benefit level covers, in percent.
fn benefit_percent(level: u8) -> i32 {
    match level {
        3 => 95,
        4 => 80,
        _ => 100,
    }
}

/// How the card was named in the request.
enum CardKey {
    /// A legacy code: its group, level and province, and the social insurance number.
    Legacy { code: String, number: String },
    /// A social insurance number.
    Number(String),
    /// The holder's ID number.
    Citizen(String),
}

/// The card key of a code, or why it is none.
fn card_key(raw: &str) -> Result<CardKey, &'static str> {
    let code = raw.trim().to_ascii_uppercase();
    if !code.is_ascii() {
        return Err("a card code is letters and digits");
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    match code.len() {
        15 => {
            let (group, rest) = code.split_at(2);
            let level = rest.as_bytes()[0];
            if !group.bytes().all(|b| b.is_ascii_uppercase()) || !digits(rest) {
                return Err("a card code is 2 letters and 13 digits");
            }
            match benefit_level(group) {
                None => Err("the card code's object group is not one of VSS's"),
                Some(expected) if level != b'0' + expected => {
                    Err("the card code's benefit level does not belong to its object group")
                }
                Some(_) => Ok(CardKey::Legacy {
                    number: code[5..].to_owned(),
                    code,
                }),
            }
        }
        10 if digits(&code) => Ok(CardKey::Number(code)),
        12 if digits(&code) => Ok(CardKey::Citizen(code)),
        _ => Err(
            "a card is a 15-character code, a 10-digit social insurance number or a 12-digit ID number",
        ),
    }
}

/// An answer without a card.
fn answer(outcome: Outcome, code: &str, message: &str) -> HealthInsuranceCheckResponse {
    HealthInsuranceCheckResponse {
        outcome: outcome as i32,
        result_code: code.into(),
        message: message.into(),
        card: None,
        recent_visits: Vec::new(),
    }
}

/// The check.
pub async fn check(
    population: &Population,
    req: HealthInsuranceCheckRequest,
    today: CivilDate,
) -> Result<HealthInsuranceCheckResponse, NdxpError> {
    let field = |name: &str, description: &str| {
        NdxpError::from(FieldError::new(
            FieldErrorKind::Other,
            format!("health_insurance_check.{name}"),
            description,
        ))
    };
    if req.card_code.trim().is_empty() {
        return Err(field("card_code", "required"));
    }
    if req.full_name.trim().is_empty() {
        return Err(field("full_name", "required"));
    }
    if req.operator_name.trim().is_empty() {
        return Err(field(
            "operator_name",
            "required: the operator making the check is named with each check",
        ));
    }
    let birth = req
        .date_of_birth
        .as_ref()
        .ok_or_else(|| field("date_of_birth", "required"))
        .and_then(|d| {
            date_from_proto(d, "health_insurance_check.date_of_birth").map_err(NdxpError::from)
        })?;
    let key = match card_key(&req.card_code) {
        Ok(key) => key,
        Err(why) => {
            return Ok(answer(
                Outcome::InvalidCode,
                "051",
                &format!("Mã thẻ không đúng: {why}"),
            ));
        }
    };
    // The holder: by ID number, or by the number in the year of birth given, else any year
    // (a card found only then was asked with another date of birth).
    let holder = match &key {
        CardKey::Citizen(id) => population
            .citizen(id)
            .await?
            .filter(|c| c.health_insurance.is_some()),
        CardKey::Legacy { number, .. } | CardKey::Number(number) => {
            let mut found = population.insured(number, birth.year()).await?;
            if found.is_empty() {
                found = population.insured(number, 0).await?;
            }
            found.into_iter().next()
        }
    };
    let Some(holder) = holder else {
        return Ok(answer(
            Outcome::NotFound,
            "050",
            "Không thấy thông tin thẻ BHYT",
        ));
    };
    let Some(insurance) = holder.health_insurance.clone() else {
        return Ok(answer(
            Outcome::NotFound,
            "050",
            "Không thấy thông tin thẻ BHYT",
        ));
    };
    if let CardKey::Legacy { code, .. } = &key
        && *code != insurance.card_code
    {
        return Ok(answer(
            Outcome::InvalidCode,
            "051",
            "Mã thẻ không đúng: the card carries another object group, benefit level or province",
        ));
    }
    if compare_names(&req.full_name, &holder.full_name) != NameComparison::Equal {
        return Ok(answer(Outcome::NameMismatch, "060", "Thẻ sai họ tên"));
    }
    if holder
        .date_of_birth
        .as_ref()
        .map(|d| (d.year, d.month, d.day))
        != Some((birth.year(), birth.month() as i32, i32::from(birth.day())))
    {
        return Ok(answer(
            Outcome::BirthDateMismatch,
            "070",
            "Thẻ sai ngày sinh",
        ));
    }
    let card = card_of(&holder, &insurance);
    let valid = card
        .valid_to
        .as_ref()
        .and_then(|d| date_from_proto(d, "valid_to").ok())
        .is_some_and(|to| to >= today);
    let visits = recent_visits(&insurance, today);
    Ok(if valid {
        HealthInsuranceCheckResponse {
            outcome: Outcome::Valid as i32,
            result_code: "000".into(),
            message: "Thông tin thẻ chính xác".into(),
            card: Some(card),
            recent_visits: visits,
        }
    } else {
        HealthInsuranceCheckResponse {
            outcome: Outcome::Expired as i32,
            result_code: "010".into(),
            message: "Thẻ hết giá trị sử dụng".into(),
            card: Some(card),
            recent_visits: visits,
        }
    })
}

/// The card as the check answers it.
fn card_of(
    holder: &pop::Citizen,
    insurance: &types::HealthInsurance,
) -> types::HealthInsuranceCard {
    let group = insurance.card_code.get(..2).unwrap_or_default().to_owned();
    let level = benefit_level(&group).unwrap_or(4);
    types::HealthInsuranceCard {
        card_code: insurance.card_code.clone(),
        social_insurance_number: insurance.social_insurance_number.clone(),
        full_name: holder.full_name.clone(),
        date_of_birth: holder.date_of_birth,
        sex: holder.sex,
        object_group: group,
        benefit_level: i32::from(level),
        benefit_percent: benefit_percent(level),
        valid_from: insurance.valid_from,
        valid_to: insurance.valid_to,
        primary_care_facility_code: insurance.primary_care_facility_code.clone(),
        five_years_continuous_from: five_years(holder, insurance).map(date_to_proto),
        citizen_id: holder.citizen_id.clone(),
    }
}

/// The day coverage reached five continuous years: coverage began a drawn number of years (0
/// to 14) before the current card's term, never before birth; the day five years after, when
/// the card's term reaches it.
fn five_years(holder: &pop::Citizen, insurance: &types::HealthInsurance) -> Option<CivilDate> {
    let from = date_from_proto(insurance.valid_from.as_ref()?, "valid_from").ok()?;
    let to = date_from_proto(insurance.valid_to.as_ref()?, "valid_to").ok()?;
    let born = holder
        .date_of_birth
        .as_ref()
        .and_then(|d| date_from_proto(d, "date_of_birth").ok())?;
    let years = hash(&[b"five-years", insurance.social_insurance_number.as_bytes()]) % 15;
    let start = add_years(from, -(years as i32)).max(born);
    let reached = add_years(start, 5);
    (reached <= to).then_some(reached)
}

/// The visits of the last twelve months paid by the card: none to four, drawn from the number
/// and the year, at the registered facility or the province's hospital, newest first.
pub(crate) fn recent_visits(
    insurance: &types::HealthInsurance,
    today: CivilDate,
) -> Vec<types::HealthVisit> {
    let number = insurance.social_insurance_number.as_bytes();
    let year = today.year().to_be_bytes();
    let seed = hash(&[b"visits", number, &year]);
    let count = (seed % 5) as usize;
    let from = insurance
        .valid_from
        .as_ref()
        .and_then(|d| date_from_proto(d, "valid_from").ok())
        .unwrap_or(today);
    let province = insurance
        .primary_care_facility_code
        .get(..2)
        .unwrap_or("00");
    let mut visits: Vec<types::HealthVisit> = (0..count)
        .filter_map(|i| {
            let h = hash(&[b"visit", number, &year, &[i as u8]]);
            let admitted = today - Duration::days((h % 365) as i64);
            if admitted < from {
                return None;
            }
            let inpatient = (h >> 20).is_multiple_of(5);
            let stay = if inpatient { 1 + (h >> 30) % 7 } else { 0 };
            let facility = if (h >> 40).is_multiple_of(3) {
                format!("{province}001")
            } else {
                insurance.primary_care_facility_code.clone()
            };
            Some(types::HealthVisit {
                record_id: format!("{}{:06}", admitted.year(), (h >> 8) % 1_000_000),
                facility_code: facility,
                admitted_on: Some(date_to_proto(admitted)),
                discharged_on: Some(date_to_proto(
                    (admitted + Duration::days(stay as i64)).min(today),
                )),
                kind: if inpatient {
                    HealthVisitKind::Inpatient
                } else {
                    HealthVisitKind::Outpatient
                } as i32,
            })
        })
        .collect();
    visits.sort_by(|a, b| {
        let key = |v: &types::HealthVisit| v.admitted_on.map(|d| (d.year, d.month, d.day));
        key(b).cmp(&key(a))
    });
    visits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_codes_are_read_as_the_check_reads_them() {
        assert!(matches!(
            card_key("DN4565600000123"),
            Ok(CardKey::Legacy { .. })
        ));
        assert!(matches!(
            card_key(" dn4565600000123 "),
            Ok(CardKey::Legacy { .. })
        ));
        assert!(card_key("DN1565600000123").is_err(), "level 1 is not DN's");
        assert!(card_key("ZZ4565600000123").is_err());
        assert!(matches!(card_key("5600000123"), Ok(CardKey::Number(_))));
        assert!(matches!(card_key("056090000123"), Ok(CardKey::Citizen(_))));
        assert!(card_key("12345").is_err());
        // Fifteen bytes, not fifteen characters: refused, never split inside a character.
        assert!(card_key("AĐ4565600000123").is_err());
        assert!(card_key("ĐĐĐĐĐĐĐ1").is_err());
    }
}
