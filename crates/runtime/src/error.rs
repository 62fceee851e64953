//! The error model: every failure a client sees is a `google.rpc.Status` with a canonical code,
//! an `ErrorInfo { reason, domain: "sandbox06.vn" }` always, and `BadRequest` field violations
//! for bad input. The reasons are the stable list in [`Reason`] (also `crates/runtime/ERRORS.md`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Domain of every `ErrorInfo` sandbox06 returns.
pub const DOMAIN: &str = "sandbox06.vn";

/// Why a call failed: the stable `ErrorInfo.reason` values, with their default gRPC code.
///
/// | reason | code | when |
/// |---|---|---|
/// | `INVALID_ARGUMENT` | INVALID_ARGUMENT | a request field is malformed (no more specific reason) |
/// | `INVALID_CITIZEN_ID` | INVALID_ARGUMENT | a personal ID number is not 12 digits or has an unknown province prefix |
/// | `INVALID_DATE` | INVALID_ARGUMENT | a date is not a real calendar date or is out of range |
/// | `INVALID_QR_PAYLOAD` | INVALID_ARGUMENT | a card QR payload does not parse |
/// | `INVALID_FIELD_MASK` | INVALID_ARGUMENT | a field mask names an unknown field |
/// | `REQUEST_TOO_LARGE` | RESOURCE_EXHAUSTED | one request message is above the server's size limit |
/// | `CITIZEN_NOT_FOUND` | NOT_FOUND | no citizen has this personal ID number |
/// | `UPSTREAM_UNAVAILABLE` | UNAVAILABLE | a backend or mock national system cannot be reached; retry later |
/// | `UPSTREAM_FAILED` | INTERNAL | a backend or mock national system answered with an unexpected error |
/// | `UNAUTHENTICATED` | UNAUTHENTICATED | no access token, or an invalid or expired one |
/// | `PERMISSION_DENIED` | PERMISSION_DENIED | the access token lacks the scope the method requires |
/// | `METHOD_NOT_FOUND` | UNIMPLEMENTED | the gateway routes no service or method at this path |
/// | `INTERNAL` | INTERNAL | a bug in sandbox06 |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// A request field is malformed (no more specific reason applies).
    InvalidArgument,
    /// A personal ID number is not 12 digits or has an unknown province prefix.
    InvalidCitizenId,
    /// A date is not a real calendar date or is out of range.
    InvalidDate,
    /// A card QR payload does not parse.
    InvalidQrPayload,
    /// A field mask names an unknown field.
    InvalidFieldMask,
    /// One request message is above the server's size limit.
    RequestTooLarge,
    /// No citizen has this personal ID number.
    CitizenNotFound,
    /// A backend or mock national system cannot be reached; retry later.
    UpstreamUnavailable,
    /// A backend or mock national system answered with an unexpected error.
    UpstreamFailed,
    /// No access token, or an invalid or expired one.
    Unauthenticated,
    /// The access token lacks the scope the method requires.
    PermissionDenied,
    /// The gateway routes no service or method at this path.
    MethodNotFound,
    /// A bug in sandbox06.
    Internal,
}

impl Reason {
    /// Every reason, in documentation order.
    pub const ALL: &'static [Reason] = &[
        Reason::InvalidArgument,
        Reason::InvalidCitizenId,
        Reason::InvalidDate,
        Reason::InvalidQrPayload,
        Reason::InvalidFieldMask,
        Reason::RequestTooLarge,
        Reason::CitizenNotFound,
        Reason::UpstreamUnavailable,
        Reason::UpstreamFailed,
        Reason::Unauthenticated,
        Reason::PermissionDenied,
        Reason::MethodNotFound,
        Reason::Internal,
    ];

    /// The `ErrorInfo.reason` string, in SCREAMING_SNAKE_CASE.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::InvalidArgument => "INVALID_ARGUMENT",
            Reason::InvalidCitizenId => "INVALID_CITIZEN_ID",
            Reason::InvalidDate => "INVALID_DATE",
            Reason::InvalidQrPayload => "INVALID_QR_PAYLOAD",
            Reason::InvalidFieldMask => "INVALID_FIELD_MASK",
            Reason::RequestTooLarge => "REQUEST_TOO_LARGE",
            Reason::CitizenNotFound => "CITIZEN_NOT_FOUND",
            Reason::UpstreamUnavailable => "UPSTREAM_UNAVAILABLE",
            Reason::UpstreamFailed => "UPSTREAM_FAILED",
            Reason::Unauthenticated => "UNAUTHENTICATED",
            Reason::PermissionDenied => "PERMISSION_DENIED",
            Reason::MethodNotFound => "METHOD_NOT_FOUND",
            Reason::Internal => "INTERNAL",
        }
    }

    /// The gRPC code this reason is returned with.
    pub const fn code(self) -> Code {
        match self {
            Reason::InvalidArgument
            | Reason::InvalidCitizenId
            | Reason::InvalidDate
            | Reason::InvalidQrPayload
            | Reason::InvalidFieldMask => Code::InvalidArgument,
            Reason::RequestTooLarge => Code::ResourceExhausted,
            Reason::CitizenNotFound => Code::NotFound,
            Reason::UpstreamUnavailable => Code::Unavailable,
            Reason::UpstreamFailed | Reason::Internal => Code::Internal,
            Reason::Unauthenticated => Code::Unauthenticated,
            Reason::PermissionDenied => Code::PermissionDenied,
            Reason::MethodNotFound => Code::Unimplemented,
        }
    }

    /// The reason with this `ErrorInfo.reason` string.
    pub fn parse(reason: &str) -> Option<Reason> {
        Reason::ALL.iter().copied().find(|r| r.as_str() == reason)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One bad request field, reported as a `google.rpc.BadRequest.FieldViolation`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the field in the request, e.g. `citizen_id` or `holder.date_of_birth`.
    pub field: String,
    /// What is wrong and how to fix it.
    pub description: String,
}

/// A failure to report to a client; converts into a [`tonic::Status`] with details.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// Why the call failed.
    pub reason: Reason,
    /// What went wrong, for the developer reading it; lowercase, no trailing period.
    pub message: String,
    /// Bad request fields.
    pub violations: Vec<FieldViolation>,
    /// `ErrorInfo.metadata`, e.g. `{"backend": "citizen"}`.
    pub metadata: BTreeMap<String, String>,
}

impl ApiError {
    /// An error with this reason and message.
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            violations: Vec::new(),
            metadata: BTreeMap::new(),
        }
    }

    /// A bad request field: message `<field>: <description>` plus one field violation.
    pub fn invalid_field(
        reason: Reason,
        field: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        let field = field.into();
        let description = description.into();
        Self::new(reason, format!("{field}: {description}")).with_violation(field, description)
    }

    /// Adds a field violation.
    pub fn with_violation(
        mut self,
        field: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        self.violations.push(FieldViolation {
            field: field.into(),
            description: description.into(),
        });
        self
    }

    /// Adds an `ErrorInfo.metadata` entry.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// The gRPC code this error is returned with.
    pub fn code(&self) -> Code {
        self.reason.code()
    }
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        let mut details = ErrorDetails::new();
        let metadata: HashMap<String, String> = error.metadata.into_iter().collect();
        details.set_error_info(error.reason.as_str(), DOMAIN, metadata);
        for violation in error.violations {
            details.add_bad_request_violation(violation.field, violation.description);
        }
        Status::with_error_details(error.reason.code(), error.message, details)
    }
}

/// The `ErrorInfo.reason` of a status, when it carries one.
pub fn reason_of(status: &Status) -> Option<String> {
    status.get_details_error_info().map(|info| info.reason)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip_and_are_screaming_snake_case() {
        for reason in Reason::ALL {
            let text = reason.as_str();
            assert!(
                text.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{text}"
            );
            assert_eq!(Reason::parse(text), Some(*reason));
        }
        assert_eq!(Reason::parse("NOPE"), None);
    }

    #[test]
    fn errors_doc_lists_every_reason() {
        let doc = include_str!("../ERRORS.md");
        for reason in Reason::ALL {
            assert!(
                doc.contains(&format!("`{}`", reason.as_str())),
                "{reason} missing"
            );
        }
    }

    #[test]
    fn status_carries_error_info_always() {
        let status: Status = ApiError::new(Reason::CitizenNotFound, "no citizen 058*******34")
            .with_metadata("citizen_id", "058*******34")
            .into();
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(status.message(), "no citizen 058*******34");
        assert_eq!(reason_of(&status).as_deref(), Some("CITIZEN_NOT_FOUND"));
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.domain, DOMAIN);
        assert_eq!(info.metadata["citizen_id"], "058*******34");
        assert!(status.get_details_bad_request().is_none());
    }

    #[test]
    fn invalid_field_adds_bad_request() {
        let status: Status = ApiError::invalid_field(
            Reason::InvalidCitizenId,
            "citizen_id",
            "must be 12 digits, got 11",
        )
        .into();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "citizen_id: must be 12 digits, got 11");
        let bad_request = status.get_details_bad_request().unwrap();
        assert_eq!(bad_request.field_violations.len(), 1);
        assert_eq!(bad_request.field_violations[0].field, "citizen_id");
        assert_eq!(reason_of(&status).as_deref(), Some("INVALID_CITIZEN_ID"));
    }

    #[test]
    fn reason_of_plain_status_is_none() {
        assert_eq!(reason_of(&Status::internal("boom")), None);
    }
}
