//! One MatchCitizens record: its claim against the population database's answer for its
//! number. Pure: the stream and the upstream calls are in `batching`.

use sandbox06_proto::citizen::{self as api, match_citizens_response::Result as RecordResult};
use sandbox06_runtime::{ApiError, mask};
use sandbox06_vn::FieldError;

use super::{claim::Claim, verify::Checks};
use crate::{
    error::CitizenError,
    population::{self, Identity, IdentityResult, UpstreamError},
};
use sandbox06_runtime::error::FailureKind;

/// What the population database answered for one record's number: its result, `None` when it
/// returned fewer results than numbers asked, or why the whole batch failed.
pub(super) type Answer<'a> = Result<Option<IdentityResult>, &'a UpstreamError>;

/// The result of a record that does not parse.
pub(super) fn malformed_record(e: FieldError) -> RecordResult {
    RecordResult::Error(record_error(&CitizenError::Field(e)))
}

/// The result of a record: its verdicts, or why it has none.
pub(super) fn match_record(claim: &Claim, answer: Answer<'_>) -> RecordResult {
    let wanted = claim.citizen_id.to_string();
    let record = match found(&wanted, answer) {
        Ok(record) => record,
        Err(e) => return RecordResult::Error(record_error(&e)),
    };
    let Some(record) = record else {
        return RecordResult::Error(record_error(&CitizenError::not_found(&wanted)));
    };
    let mut checks = Checks::new();
    claim.check_identity(
        &mut checks,
        &record.full_name,
        record.date_of_birth.as_ref(),
        record.sex,
    );
    let verdict = checks.verdict(record.life_status, true);
    let v = checks.into_inner();
    let at = |i: usize| v.get(i).map_or(0, |c| c.verdict);
    RecordResult::Match(api::RecordMatch {
        verdict: verdict as i32,
        full_name: at(0),
        date_of_birth: at(1),
        sex: at(2),
        life_status: record.life_status,
    })
}

/// The record of `wanted` in the answer, after checking the answer is about that number.
fn found(wanted: &str, answer: Answer<'_>) -> Result<Option<Identity>, CitizenError> {
    let failed = |m: String| CitizenError::Upstream(population::unusable(m));
    let result = match answer {
        Err(e) => return Err(CitizenError::Upstream(e.clone())),
        Ok(None) => {
            return Err(failed(
                "it returned fewer results than numbers asked".to_owned(),
            ));
        }
        Ok(Some(result)) => result,
    };
    if result.citizen_id != wanted {
        return Err(failed(format!(
            "it returned the result of another number ({}) in this record's place",
            mask::citizen_id(&result.citizen_id)
        )));
    }
    if !result.invalid_reason.is_empty() {
        return Err(failed(format!(
            "it refused a number the service accepted: {}",
            result.invalid_reason
        )));
    }
    match result.citizen {
        Some(c) if c.citizen_id != wanted => Err(failed(format!(
            "it returned the record of another number ({}) in this record's place",
            mask::citizen_id(&c.citizen_id)
        ))),
        other => Ok(other),
    }
}

/// A record's failure, in its own response: the code and reason of the same failure in a unary
/// call, the caller's field when it is the caller's to fix.
fn record_error(e: &CitizenError) -> api::RecordError {
    let field = match e {
        CitizenError::Field(f) => f.field.clone(),
        CitizenError::Fields(bad) => bad.first().map(|f| f.field.clone()).unwrap_or_default(),
        CitizenError::FieldMask { field, .. } => field.clone(),
        CitizenError::NotFound { .. } => "citizen_id".to_owned(),
        CitizenError::Upstream(_) | CitizenError::Internal(_) => String::new(),
    };
    let message = match e {
        CitizenError::Field(f) => f.description.clone(),
        CitizenError::Fields(bad) => bad
            .first()
            .map(|f| f.description.clone())
            .unwrap_or_default(),
        CitizenError::FieldMask { description, .. } => description.clone(),
        CitizenError::Upstream(e) if e.kind() == FailureKind::Unavailable => {
            "the population database cannot be reached; retry the record".to_owned()
        }
        other => other.to_string(),
    };
    let api = ApiError::from(e.clone());
    api::RecordError {
        code: api.code() as i32,
        reason: api.reason.as_str().to_owned(),
        field,
        message,
    }
}

#[cfg(test)]
mod tests {
    use sandbox06_vn::{CitizenId, FieldErrorKind, Sex};
    use tonic::Code;

    use super::*;
    use sandbox06_runtime::error::UpstreamFailure;

    use sandbox06_runtime::error::Refusal;

    const ID: &str = "001090012345";

    fn claim() -> Claim {
        Claim {
            citizen_id: CitizenId::parse_field(ID, "citizen_id").unwrap(),
            full_name: Some("Nguyễn Văn An".into()),
            date_of_birth: None,
            sex: Some(Sex::Male),
        }
    }

    fn result(number: &str, citizen: Option<Identity>) -> IdentityResult {
        IdentityResult {
            citizen_id: number.into(),
            citizen,
            invalid_reason: String::new(),
        }
    }

    fn error_of(result: RecordResult) -> api::RecordError {
        match result {
            RecordResult::Error(e) => e,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn a_found_record_gets_its_verdicts() {
        let record = Identity {
            citizen_id: ID.into(),
            full_name: "Nguyễn Văn An".into(),
            sex: sandbox06_proto::types::Sex::Male as i32,
            ..Default::default()
        };
        let RecordResult::Match(m) = match_record(&claim(), Ok(Some(result(ID, Some(record)))))
        else {
            panic!("expected a match");
        };
        assert_eq!(m.full_name, api::FieldVerdict::Match as i32);
        assert_eq!(m.date_of_birth, api::FieldVerdict::NotProvided as i32);
        assert_eq!(m.sex, api::FieldVerdict::Match as i32);
    }

    #[test]
    fn an_unknown_number_is_not_found_on_the_callers_field() {
        let e = error_of(match_record(&claim(), Ok(Some(result(ID, None)))));
        assert_eq!(e.code, Code::NotFound as i32);
        assert_eq!(e.reason, "CITIZEN_NOT_FOUND");
        assert_eq!(e.field, "citizen_id");
        assert_eq!(e.message, "no citizen has this personal ID number");
    }

    #[test]
    fn answers_about_other_numbers_or_missing_are_upstream_failures() {
        let other = "079195034567";
        let refused = IdentityResult {
            invalid_reason: "must be 12 digits".into(),
            ..result(ID, None)
        };
        let wrong_record = result(
            ID,
            Some(Identity {
                citizen_id: other.into(),
                ..Default::default()
            }),
        );
        for (answer, text) in [
            (None, "fewer results"),
            (Some(result(other, None)), "079*******67"),
            (Some(refused), "refused a number the service accepted"),
            (Some(wrong_record), "the record of another number"),
        ] {
            let e = error_of(match_record(&claim(), Ok(answer)));
            assert_eq!(e.code, Code::Internal as i32, "{e:?}");
            assert_eq!(e.reason, "UPSTREAM_FAILED");
            assert!(e.field.is_empty(), "{e:?}");
            assert!(e.message.contains(text), "{}", e.message);
            assert!(!e.message.contains(other), "unmasked: {}", e.message);
        }
    }

    #[test]
    fn an_upstream_refusal_names_none_of_its_fields() {
        let refusal = UpstreamFailure::refused(
            population::BACKEND,
            population::SYSTEM,
            Refusal {
                code: Code::InvalidArgument,
                reason: Some("INVALID_ARGUMENT".into()),
                message: "citizen_ids: at most 10000 numbers per call, got 10001".into(),
                violations: vec![sandbox06_runtime::error::FieldViolation {
                    field: "citizen_ids".into(),
                    description: "at most 10000 numbers per call, got 10001".into(),
                }],
            },
        );
        let e = error_of(match_record(&claim(), Err(&refusal)));
        assert_eq!(e.code, Code::Internal as i32);
        assert_eq!(e.reason, "UPSTREAM_FAILED");
        assert!(e.field.is_empty());
        assert_eq!(
            e.message,
            "the population database refused the request: at most 10000 numbers per call, got 10001"
        );
    }

    #[test]
    fn a_malformed_record_names_the_callers_field() {
        let e = error_of(malformed_record(FieldError::new(
            FieldErrorKind::Date,
            "date_of_birth",
            "31/02/1990 does not exist",
        )));
        assert_eq!(e.code, Code::InvalidArgument as i32);
        assert_eq!(e.reason, "INVALID_DATE");
        assert_eq!(e.field, "date_of_birth");
        assert_eq!(e.message, "31/02/1990 does not exist");
    }
}
