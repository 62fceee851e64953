//! The citizen service's own error reasons, the failures of its logic, and their one mapping to
//! the suite's error model.

use sandbox06_runtime::{ApiError, ErrorReason, Reason, ReasonCode, mask};
use sandbox06_vn::{FieldError, FieldErrorKind};
use tonic::Code;

use sandbox06_runtime::error::UpstreamFailure;

use crate::population::{BACKEND, SYSTEM, UpstreamError, refuses_only_the_number};

/// Why a citizen service call failed, beyond the generic reasons of the runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CitizenReason {
    /// A personal ID number is not 12 digits or has an unknown province prefix.
    InvalidCitizenId,
    /// A date is not a real calendar date or is out of range.
    InvalidDate,
    /// A card QR payload does not parse.
    InvalidQrPayload,
    /// No citizen has this personal ID number.
    CitizenNotFound,
}

/// Every reason the citizen service owns, in documentation order.
pub const REASONS: &[CitizenReason] = &[
    CitizenReason::InvalidCitizenId,
    CitizenReason::InvalidDate,
    CitizenReason::InvalidQrPayload,
    CitizenReason::CitizenNotFound,
];

impl ErrorReason for CitizenReason {
    fn as_str(&self) -> &'static str {
        match self {
            CitizenReason::InvalidCitizenId => "INVALID_CITIZEN_ID",
            CitizenReason::InvalidDate => "INVALID_DATE",
            CitizenReason::InvalidQrPayload => "INVALID_QR_PAYLOAD",
            CitizenReason::CitizenNotFound => "CITIZEN_NOT_FOUND",
        }
    }

    fn code(&self) -> Code {
        match self {
            CitizenReason::InvalidCitizenId
            | CitizenReason::InvalidDate
            | CitizenReason::InvalidQrPayload => Code::InvalidArgument,
            CitizenReason::CitizenNotFound => Code::NotFound,
        }
    }

    fn when(&self) -> &'static str {
        match self {
            CitizenReason::InvalidCitizenId => {
                "A personal ID number is not 12 digits or has an unknown province prefix."
            }
            CitizenReason::InvalidDate => "A date is not a real calendar date or is out of range.",
            CitizenReason::InvalidQrPayload => "A card QR payload does not parse.",
            CitizenReason::CitizenNotFound => {
                "No citizen has this personal ID number; `metadata.citizen_id` names it, masked."
            }
        }
    }
}

/// The reason of a malformed field, by the family of rules it broke.
fn field_reason(kind: FieldErrorKind) -> ReasonCode {
    match kind {
        FieldErrorKind::CitizenId => CitizenReason::InvalidCitizenId.into(),
        FieldErrorKind::Date => CitizenReason::InvalidDate.into(),
        FieldErrorKind::QrPayload => CitizenReason::InvalidQrPayload.into(),
        FieldErrorKind::Other => Reason::InvalidArgument.into(),
    }
}

/// The message of [`CitizenError::NotFound`].
pub(crate) const NOT_FOUND: &str = "no citizen has this personal ID number";

/// Why the citizen service could not answer: what its logic returns.
#[derive(Clone, Debug, thiserror::Error)]
pub enum CitizenError {
    /// A request field is malformed; the field is the caller's.
    #[error(transparent)]
    Field(#[from] FieldError),
    /// Several request fields are malformed (at least one); each is reported.
    #[error("{} bad fields", .0.len())]
    Fields(Vec<FieldError>),
    /// A read mask path names no field of the record.
    #[error("{field}: {description}")]
    FieldMask {
        /// The bad path, e.g. `read_mask.paths[0]`.
        field: String,
        /// What is wrong with it.
        description: String,
    },
    /// No citizen has the number.
    #[error("{NOT_FOUND}")]
    NotFound {
        /// The number as the caller sent it, masked: the error may be logged.
        masked_citizen_id: String,
    },
    /// The population database could not answer.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// A bug in the service.
    #[error("{0}")]
    Internal(String),
}

impl CitizenError {
    /// A failure of the population database while it looked up the number the caller sent as
    /// `caller_field`. A refusal of that number alone is the caller's to fix, reported under the
    /// caller's field; any other refusal names the upstream's fields, not the caller's, and
    /// stays an upstream failure.
    pub fn upstream(e: UpstreamError, caller_field: &str) -> Self {
        match e.into_refusal() {
            Ok(refusal) if refuses_only_the_number(&refusal) => {
                let kind = if refusal.reason.as_deref()
                    == Some(CitizenReason::InvalidCitizenId.as_str())
                {
                    FieldErrorKind::CitizenId
                } else {
                    FieldErrorKind::Other
                };
                CitizenError::Field(FieldError::new(kind, caller_field, refusal.to_string()))
            }
            Ok(refusal) => {
                CitizenError::Upstream(UpstreamFailure::refused(BACKEND, SYSTEM, refusal))
            }
            Err(e) => CitizenError::Upstream(e),
        }
    }
}

impl CitizenError {
    /// No citizen has `citizen_id` (as the caller sent it).
    pub fn not_found(citizen_id: &str) -> Self {
        Self::NotFound {
            masked_citizen_id: mask::citizen_id(citizen_id),
        }
    }
}

impl From<CitizenError> for ApiError {
    fn from(e: CitizenError) -> Self {
        match e {
            CitizenError::Field(e) => {
                ApiError::invalid_field(field_reason(e.kind), e.field, e.description)
            }
            CitizenError::Fields(errors) => {
                let mut errors = errors.into_iter();
                let Some(first) = errors.next() else {
                    return ApiError::new(Reason::InvalidArgument, "the request is malformed");
                };
                let more = errors.len();
                let mut error = ApiError::invalid_field(
                    field_reason(first.kind),
                    first.field,
                    first.description,
                );
                if more > 0 {
                    error.message = format!(
                        "{} (and {more} more bad field{})",
                        error.message,
                        if more == 1 { "" } else { "s" }
                    );
                }
                errors.fold(error, |error, e| {
                    error.with_violation(e.field, e.description)
                })
            }
            CitizenError::FieldMask { field, description } => {
                ApiError::invalid_field(Reason::InvalidFieldMask, field, description)
            }
            CitizenError::NotFound { masked_citizen_id } => {
                ApiError::new(CitizenReason::CitizenNotFound, NOT_FOUND)
                    .with_metadata("citizen_id", masked_citizen_id)
            }
            CitizenError::Upstream(e) => e.into_api_error(),
            CitizenError::Internal(message) => ApiError::new(Reason::Internal, message),
        }
    }
}

impl From<CitizenError> for tonic::Status {
    fn from(e: CitizenError) -> Self {
        ApiError::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use sandbox06_runtime::error::{FieldViolation, field_violations_of, reason_of};
    use tonic::Status;
    use tonic_types::StatusExt;

    use super::*;
    use sandbox06_runtime::error::Refusal;

    fn refusal(reason: &str, fields: &[&str]) -> UpstreamError {
        UpstreamFailure::refused(
            BACKEND,
            SYSTEM,
            Refusal {
                code: Code::InvalidArgument,
                reason: Some(reason.into()),
                message: format!("{}: is wrong", fields.join(", ")),
                violations: fields
                    .iter()
                    .map(|f| FieldViolation {
                        field: (*f).into(),
                        description: "is wrong".into(),
                    })
                    .collect(),
            },
        )
    }

    #[test]
    fn reasons_are_their_own_and_documented() {
        for reason in REASONS {
            assert!(reason.when().ends_with('.'), "{reason:?}");
            assert!(
                Reason::parse(reason.as_str()).is_none(),
                "{reason:?} is generic"
            );
        }
    }

    #[test]
    fn a_refused_number_is_reported_on_the_callers_field() {
        let e = CitizenError::upstream(
            refusal("INVALID_CITIZEN_ID", &["citizen_id"]),
            "payload.citizen_id",
        );
        let status = Status::from(e);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(reason_of(&status).as_deref(), Some("INVALID_CITIZEN_ID"));
        assert_eq!(status.message(), "payload.citizen_id: is wrong");
        let fields: Vec<_> = field_violations_of(&status)
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["payload.citizen_id"]);

        // Another reason on the number is still the caller's, as a generic one.
        let status = Status::from(CitizenError::upstream(
            refusal("INVALID_ARGUMENT", &["citizen_id"]),
            "citizen_id",
        ));
        assert_eq!(reason_of(&status).as_deref(), Some("INVALID_ARGUMENT"));
    }

    #[test]
    fn an_upstream_refusal_of_its_own_fields_does_not_leak_them() {
        for fields in [&["view"][..], &["citizen_id", "view"], &[]] {
            let status = Status::from(CitizenError::upstream(
                refusal("INVALID_ARGUMENT", fields),
                "citizen_id",
            ));
            assert_eq!(status.code(), Code::Internal, "{fields:?}");
            assert_eq!(reason_of(&status).as_deref(), Some("UPSTREAM_FAILED"));
            assert!(field_violations_of(&status).is_empty(), "{fields:?}");
            assert!(!status.message().contains("view"), "{}", status.message());
            let info = status.get_details_error_info();
            assert_eq!(
                info.map(|i| i.metadata["backend"].clone()).as_deref(),
                Some("population-db")
            );
        }
    }

    #[test]
    fn no_error_grows_with_the_input_it_quotes() {
        use sandbox06_runtime::metadata_limit::{MAX_RESPONSE_METADATA_BYTES, header_list_size};
        let big = "ễ".repeat(17_000);
        let errors = [
            CitizenError::FieldMask {
                field: format!("read_mask.paths[{big}]"),
                description: format!("{big} is not a field of Citizen"),
            },
            CitizenError::Fields(
                (0..500)
                    .map(|i| FieldError::new(FieldErrorKind::Other, format!("f{i}.{big}"), &big))
                    .collect(),
            ),
            CitizenError::Field(FieldError::new(FieldErrorKind::CitizenId, &big, &big)),
            CitizenError::Internal(big.clone()),
            CitizenError::upstream(refusal("INVALID_CITIZEN_ID", &["citizen_id"]), &big),
        ];
        for error in errors {
            let status = Status::from(error);
            let mut headers = tonic::codegen::http::HeaderMap::new();
            status.add_header(&mut headers).unwrap();
            let size = header_list_size(&headers);
            assert!(
                size <= MAX_RESPONSE_METADATA_BYTES,
                "{size} bytes: {status:?}"
            );
            assert!(status.get_details_error_info().is_some());
        }
    }

    #[test]
    fn not_found_masks_the_number() {
        let status = Status::from(CitizenError::not_found("058090001234"));
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(status.message(), "no citizen has this personal ID number");
        assert_eq!(reason_of(&status).as_deref(), Some("CITIZEN_NOT_FOUND"));
        let info = status.get_details_error_info();
        assert_eq!(
            info.map(|i| i.metadata["citizen_id"].clone()).as_deref(),
            Some("058*******34")
        );
    }

    #[test]
    fn field_errors_get_the_reason_of_their_kind() {
        for (kind, reason) in [
            (FieldErrorKind::CitizenId, "INVALID_CITIZEN_ID"),
            (FieldErrorKind::Date, "INVALID_DATE"),
            (FieldErrorKind::QrPayload, "INVALID_QR_PAYLOAD"),
            (FieldErrorKind::Other, "INVALID_ARGUMENT"),
        ] {
            let status = Status::from(CitizenError::Field(FieldError::new(kind, "f", "bad")));
            assert_eq!(status.code(), Code::InvalidArgument);
            assert_eq!(reason_of(&status).as_deref(), Some(reason));
        }
    }
}
