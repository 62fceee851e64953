//! What a caller claims about one person, validated before any upstream call.

use sandbox06_proto::{
    citizen::FieldVerdict, dates::date_from_proto, population::Citizen as Record, types,
};
use sandbox06_vn::{CitizenId, CivilDate, FieldError, FieldErrorKind, Sex};

use super::{
    CitizenApi,
    verify::{self, Checks},
};

const MAX_NAME_CHARS: usize = 200;
/// Longest claimed address, in characters.
pub(super) const MAX_ADDRESS_CHARS: usize = 500;

fn sex_of(value: i32, field: &str) -> Result<Option<Sex>, FieldError> {
    match types::Sex::try_from(value) {
        Ok(types::Sex::Unspecified) => Ok(None),
        Ok(types::Sex::Male) => Ok(Some(Sex::Male)),
        Ok(types::Sex::Female) => Ok(Some(Sex::Female)),
        Err(_) => Err(FieldError::new(
            FieldErrorKind::Other,
            field,
            format!("must be SEX_MALE or SEX_FEMALE, got {value}"),
        )),
    }
}

/// An unset date, or one with every part zero, is "not provided".
pub(super) fn optional_date(
    date: Option<&types::Date>,
    field: &str,
) -> Result<Option<CivilDate>, FieldError> {
    match date {
        None => Ok(None),
        Some(d) if d.year == 0 && d.month == 0 && d.day == 0 => Ok(None),
        Some(d) => date_from_proto(d, field).map(Some),
    }
}

/// Text with its surrounding blanks removed; `None` when nothing is left.
pub(super) fn optional_text(text: &str) -> Option<&str> {
    let t = text.trim();
    (!t.is_empty()).then_some(t)
}

/// The value of `result`, or `None` after adding its error to `bad`.
pub(super) fn collect<T>(result: Result<T, FieldError>, bad: &mut Vec<FieldError>) -> Option<T> {
    result.map_err(|e| bad.push(e)).ok()
}

/// Optional text of at most `max` characters.
pub(super) fn bounded<'a>(
    text: &'a str,
    field: &str,
    max: usize,
) -> Result<Option<&'a str>, FieldError> {
    let t = optional_text(text);
    match t {
        Some(t) if t.chars().count() > max => Err(FieldError::new(
            FieldErrorKind::Other,
            field,
            format!(
                "must be at most {max} characters, got {}",
                t.chars().count()
            ),
        )),
        Some(t) => match sandbox06_vn::forbidden_char(t) {
            Some(c) => Err(FieldError::new(
                FieldErrorKind::Other,
                field,
                format!(
                    "must not contain control or bidirectional-override characters, found U+{:04X}",
                    u32::from(c)
                ),
            )),
            None => Ok(Some(t)),
        },
        None => Ok(None),
    }
}

/// Checks an old 9-digit CMND number: the first non-digit is named, else the length.
pub(super) fn old_id_number(text: &str, field: &str) -> Result<(), FieldError> {
    let err = |description: String| FieldError::new(FieldErrorKind::Other, field, description);
    if let Some(bad) = text.chars().find(|c| !c.is_ascii_digit()) {
        return Err(err(format!("must contain only digits, found {bad:?}")));
    }
    if text.len() != 9 {
        return Err(err(format!(
            "must be the 9-digit CMND number, got {} digits",
            text.len()
        )));
    }
    Ok(())
}

/// A claim about one person, validated.
#[derive(Clone, Debug)]
pub(super) struct Claim {
    pub citizen_id: CitizenId,
    pub full_name: Option<String>,
    pub date_of_birth: Option<CivilDate>,
    pub sex: Option<Sex>,
}

/// The refusal of a claim that names nothing to compare besides the ID number (`fields` are the
/// ones the request could have claimed): verified, it would be a match of nothing. VerifyCitizen
/// answers it as the call's error, MatchCitizens as the record's, both before any lookup.
pub(super) fn nothing_claimed(fields: &str) -> FieldError {
    FieldError::new(
        FieldErrorKind::Other,
        "full_name",
        format!("claim at least one field besides citizen_id: {fields}"),
    )
}

impl Claim {
    /// Whether the claim names no field to compare (only the ID number).
    pub fn is_empty(&self) -> bool {
        self.full_name.is_none() && self.date_of_birth.is_none() && self.sex.is_none()
    }

    /// Adds the verdicts of the name, date of birth and sex, in that order.
    pub fn check(&self, checks: &mut Checks, record: &Record) {
        self.check_identity(
            checks,
            &record.full_name,
            record.date_of_birth.as_ref(),
            record.sex,
        );
    }

    /// [`Self::check`] against a record's name, date of birth and sex.
    pub fn check_identity(
        &self,
        checks: &mut Checks,
        full_name: &str,
        date_of_birth: Option<&types::Date>,
        sex: i32,
    ) {
        checks.name("full_name", self.full_name.as_deref(), full_name);
        match self.date_of_birth {
            Some(d) => checks.push("date_of_birth", verify::date_verdict(d, date_of_birth), ""),
            None => checks.push("date_of_birth", FieldVerdict::NotProvided, ""),
        }
        match self.sex {
            Some(s) => checks.push("sex", verify::sex_verdict(s, sex), ""),
            None => checks.push("sex", FieldVerdict::NotProvided, ""),
        }
    }
}

impl CitizenApi {
    /// A personal ID number, judged as of the suite's year.
    pub(super) fn parse_id(&self, raw: &str, field: &str) -> Result<CitizenId, FieldError> {
        CitizenId::parse_at(raw, field, self.today().year())
    }

    /// The claim of a request's identity fields, or the first bad one.
    pub(super) fn claim(
        &self,
        citizen_id: &str,
        full_name: &str,
        date_of_birth: Option<&types::Date>,
        sex: i32,
    ) -> Result<Claim, FieldError> {
        let mut bad = Vec::new();
        self.claim_all(citizen_id, full_name, date_of_birth, sex, &mut bad)
            .ok_or_else(|| {
                bad.into_iter().next().unwrap_or_else(|| {
                    FieldError::new(FieldErrorKind::Other, "citizen_id", "is malformed")
                })
            })
    }

    /// The claim of a request's identity fields; every bad one is added to `bad`.
    pub(super) fn claim_all(
        &self,
        citizen_id: &str,
        full_name: &str,
        date_of_birth: Option<&types::Date>,
        sex: i32,
        bad: &mut Vec<FieldError>,
    ) -> Option<Claim> {
        // One today for the whole claim: the ID number's year and the date of birth.
        let today = self.today();
        let citizen_id = collect(
            CitizenId::parse_at(citizen_id, "citizen_id", today.year()),
            bad,
        );
        let full_name = collect(bounded(full_name, "full_name", MAX_NAME_CHARS), bad)
            .flatten()
            .map(str::to_owned);
        let date_of_birth = collect(optional_date(date_of_birth, "date_of_birth"), bad)
            .flatten()
            .filter(|d| {
                let future = *d > today;
                if future {
                    bad.push(FieldError::new(
                        FieldErrorKind::Date,
                        "date_of_birth",
                        format!("{d} is in the future"),
                    ));
                }
                !future
            });
        let sex = collect(sex_of(sex, "sex"), bad).flatten();
        if !bad.is_empty() {
            return None;
        }
        Some(Claim {
            citizen_id: citizen_id?,
            full_name,
            date_of_birth,
            sex,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_id_numbers_name_the_first_non_digit_else_the_length() {
        let e = old_id_number("12345678a", "old_id_number").unwrap_err();
        assert_eq!(e.description, "must contain only digits, found 'a'");
        assert_eq!(e.field, "old_id_number");
        let e = old_id_number("1234567", "old_id_number").unwrap_err();
        assert_eq!(
            e.description,
            "must be the 9-digit CMND number, got 7 digits"
        );
        assert!(old_id_number("012345678", "old_id_number").is_ok());
    }
}
