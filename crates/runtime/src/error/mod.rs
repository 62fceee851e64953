//! The error model: every failure a client sees is a `google.rpc.Status` with a canonical code,
//! an `ErrorInfo { reason, domain: "sandbox06.vn" }` always, and `BadRequest` field violations
//! for bad input.
//!
//! The runtime owns the generic reasons ([`Reason`]); each service owns its own, as an enum
//! implementing [`ErrorReason`] with its list exported, and `docs/ERRORS.md` lists them all.
//!
//! - `reasons`: the generic reasons and their codes;
//! - [`bounds`]: how much of a caller's input an error quotes, and the size bounds of an error;
//! - `upstream`: one mapping of a failed call to an upstream into the caller's error
//!   ([`UpstreamFailure`]);
//! - this module: [`ApiError`] and its [`Status`], and reading a status back.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

pub mod bounds;
mod reasons;
mod upstream;

pub use bounds::{MAX_QUOTE_CHARS, Quoted, bounded, quote};
pub use reasons::{REASONS, Reason};
pub use upstream::{
    FailureKind, Refusal, STORE_BACKEND, UpstreamFailure, log_upstream_failure, unexpected_answer,
};

/// Domain of every `ErrorInfo` sandbox06 returns.
pub const DOMAIN: &str = "sandbox06.vn";

/// A stable `ErrorInfo.reason`, with the gRPC code it is returned with and when it happens.
///
/// The runtime's generic [`Reason`] implements it, and so does each service's own reason enum.
pub trait ErrorReason: fmt::Debug + Send + Sync + 'static {
    /// The `ErrorInfo.reason` string, in SCREAMING_SNAKE_CASE.
    fn as_str(&self) -> &'static str;
    /// The gRPC code this reason is returned with.
    fn code(&self) -> Code;
    /// When it happens, as `docs/ERRORS.md` says it.
    fn when(&self) -> &'static str;
}

/// The `google.rpc.Code` name of `code`, e.g. `NOT_FOUND`.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// A reason as an error carries it: its `ErrorInfo.reason` string and its gRPC code, whoever
/// owns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReasonCode {
    reason: &'static str,
    code: Code,
}

impl ReasonCode {
    /// The `ErrorInfo.reason` string.
    pub fn as_str(self) -> &'static str {
        self.reason
    }

    /// The gRPC code.
    pub fn code(self) -> Code {
        self.code
    }
}

impl<R: ErrorReason> From<R> for ReasonCode {
    fn from(reason: R) -> Self {
        Self {
            reason: reason.as_str(),
            code: reason.code(),
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason)
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
    pub reason: ReasonCode,
    /// What went wrong, for the developer reading it; lowercase, no trailing period.
    pub message: String,
    /// Bad request fields.
    pub violations: Vec<FieldViolation>,
    /// `ErrorInfo.metadata`, e.g. `{"backend": "citizen"}`.
    pub metadata: BTreeMap<String, String>,
}

impl ApiError {
    /// An error with this reason (generic or a service's own) and message.
    pub fn new(reason: impl Into<ReasonCode>, message: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            message: message.into(),
            violations: Vec::new(),
            metadata: BTreeMap::new(),
        }
    }

    /// A bad request field: message `<field>: <description>` plus one field violation.
    pub fn invalid_field(
        reason: impl Into<ReasonCode>,
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
    /// The status, every part of it within [`bounds`]: what a constructor quoted of the
    /// caller's input cannot make it larger.
    fn from(error: ApiError) -> Self {
        use bounds::*;
        let mut details = ErrorDetails::new();
        let entries = error.metadata.len();
        let mut metadata: HashMap<String, String> = error
            .metadata
            .into_iter()
            .take(METADATA_ENTRIES)
            .map(|(key, value)| {
                (
                    bounded(key, METADATA_KEY_BYTES),
                    bounded(value, METADATA_VALUE_BYTES),
                )
            })
            .collect();
        if entries > METADATA_ENTRIES {
            metadata.insert(
                "more_entries".to_owned(),
                (entries - METADATA_ENTRIES).to_string(),
            );
        }
        details.set_error_info(error.reason.as_str(), DOMAIN, metadata);
        let mut message = error.message;
        let total = error.violations.len();
        let mut budget = VIOLATIONS_BYTES;
        let mut listed = 0;
        for violation in error.violations {
            let field = bounded(violation.field, FIELD_BYTES);
            let description = bounded(violation.description, DESCRIPTION_BYTES);
            let size = field.len() + description.len();
            // The first is always listed: it is the one the message names.
            if listed > 0 && size > budget {
                break;
            }
            budget = budget.saturating_sub(size);
            listed += 1;
            details.add_bad_request_violation(field, description);
        }
        if listed < total {
            message = format!(
                "{message} ({} more field violations not listed)",
                total - listed
            );
        }
        Status::with_error_details(
            error.reason.code(),
            bounded(message, MESSAGE_BYTES),
            details,
        )
    }
}

/// `status` as a client may see it. A status of the suite's own (its `ErrorInfo` in
/// [`DOMAIN`]) is kept as it is; a bare one — made by a library from a transport or protocol
/// error, its text that error's (`hyper::Error(Io, …)`, `h2 protocol error: …`) — is replaced by
/// the suite's status of its kind, with a message of the suite's own. The text replaced is
/// logged, never shown.
pub fn client_status(status: Status) -> Status {
    use tonic_types::StatusExt as _;
    if status
        .get_details_error_info()
        .is_some_and(|info| info.domain == DOMAIN)
    {
        return status;
    }
    tracing::info!(code = ?status.code(), message = %status.message(), "a bare status replaced");
    let error = match status.code() {
        Code::DeadlineExceeded => ApiError::new(
            Reason::DeadlineExceeded,
            "no answer within the call's deadline",
        ),
        Code::Unavailable | Code::Cancelled | Code::Unknown => ApiError::new(
            Reason::UpstreamUnavailable,
            "the connection to a backend broke off during the call; retry",
        ),
        _ => ApiError::new(
            Reason::UpstreamFailed,
            format!(
                "a backend ended the call with {} and no explanation",
                code_name(status.code())
            ),
        ),
    };
    error.into()
}

/// The `ErrorInfo.reason` of a status, when it carries one.
pub fn reason_of(status: &Status) -> Option<String> {
    status.get_details_error_info().map(|info| info.reason)
}

/// The suite's `ErrorInfo.reason` of a status: `None` when it carries none, or one of another
/// domain (a status a library made).
pub fn suite_reason_of(status: &Status) -> Option<String> {
    status
        .get_details_error_info()
        .filter(|info| info.domain == DOMAIN)
        .map(|info| info.reason)
}

/// The `BadRequest` field violations of a status, none when it carries no `BadRequest`.
pub fn field_violations_of(status: &Status) -> Vec<FieldViolation> {
    status
        .get_details_bad_request()
        .map(|bad_request| {
            bad_request
                .field_violations
                .into_iter()
                .map(|v| FieldViolation {
                    field: v.field,
                    description: v.description,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A service's own reason, as a service crate declares it.
    #[derive(Clone, Copy, Debug)]
    enum ShopReason {
        ShopNotFound,
        InvalidSku,
    }

    impl ErrorReason for ShopReason {
        fn as_str(&self) -> &'static str {
            match self {
                ShopReason::ShopNotFound => "SHOP_NOT_FOUND",
                ShopReason::InvalidSku => "INVALID_SKU",
            }
        }

        fn code(&self) -> Code {
            match self {
                ShopReason::ShopNotFound => Code::NotFound,
                ShopReason::InvalidSku => Code::InvalidArgument,
            }
        }

        fn when(&self) -> &'static str {
            "In a test."
        }
    }

    #[test]
    fn status_carries_error_info_always() {
        let status: Status = ApiError::new(ShopReason::ShopNotFound, "no shop 058*******34")
            .with_metadata("shop_id", "058*******34")
            .into();
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(status.message(), "no shop 058*******34");
        assert_eq!(reason_of(&status).as_deref(), Some("SHOP_NOT_FOUND"));
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.domain, DOMAIN);
        assert_eq!(info.metadata["shop_id"], "058*******34");
        assert!(status.get_details_bad_request().is_none());
    }

    #[test]
    fn a_service_reason_and_a_generic_one_travel_alike() {
        let generic = ApiError::new(Reason::Internal, "boom");
        assert_eq!(generic.reason.as_str(), "INTERNAL");
        assert_eq!(generic.code(), Code::Internal);
        let own: ReasonCode = ShopReason::InvalidSku.into();
        assert_eq!(own.to_string(), "INVALID_SKU");
        assert_eq!(own.code(), Code::InvalidArgument);
    }

    #[test]
    fn invalid_field_adds_bad_request() {
        let status: Status =
            ApiError::invalid_field(ShopReason::InvalidSku, "sku", "must be 12 digits, got 11")
                .into();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "sku: must be 12 digits, got 11");
        let bad_request = status.get_details_bad_request().unwrap();
        assert_eq!(bad_request.field_violations.len(), 1);
        assert_eq!(bad_request.field_violations[0].field, "sku");
        assert_eq!(reason_of(&status).as_deref(), Some("INVALID_SKU"));
        assert_eq!(
            field_violations_of(&status),
            [FieldViolation {
                field: "sku".into(),
                description: "must be 12 digits, got 11".into()
            }]
        );
    }

    /// The size of a status as it travels, HTTP/2's count of its header block.
    fn block_size(status: &Status) -> usize {
        let mut headers = http::HeaderMap::new();
        status.add_header(&mut headers).unwrap();
        crate::metadata_limit::header_list_size(&headers)
    }

    #[test]
    fn no_constructor_makes_an_error_grow_with_the_input_it_quotes() {
        // Multi-byte characters too: a message is percent-encoded in `grpc-message`.
        for big in ["a".repeat(17_000), "ễ".repeat(17_000)] {
            let quoted = format!("{} is not a field", quote(&big));
            assert!(quoted.len() < 400, "{quoted}");
            assert!(quoted.contains("(17000 characters)"), "{quoted}");
            let mut many = ApiError::invalid_field(ShopReason::InvalidSku, &big, &big);
            for i in 0..100 {
                many = many
                    .with_violation(format!("{big}{i}"), &big)
                    .with_metadata(format!("{big}{i}"), &big);
            }
            let errors = [
                ApiError::new(ShopReason::ShopNotFound, big.clone()),
                ApiError::new(Reason::InvalidArgument, quoted.clone()).with_metadata("path", &big),
                ApiError::invalid_field(Reason::InvalidFieldMask, "read_mask", &big),
                many,
            ];
            for error in errors {
                let status = Status::from(error);
                let size = block_size(&status);
                assert!(
                    size <= crate::metadata_limit::MAX_RESPONSE_METADATA_BYTES,
                    "{size} bytes"
                );
                assert!(status.message().len() <= bounds::MESSAGE_BYTES);
                // What it says is still readable: the start, and how long the rest was.
                let message = status.message();
                assert!(
                    message.contains(" bytes)") || message.contains(" characters)"),
                    "{message}"
                );
                assert!(status.get_details_error_info().is_some());
            }
        }
        // The happy sizes are left as they are.
        let short = Status::from(ApiError::invalid_field(
            ShopReason::InvalidSku,
            "sku",
            format!("{} is not a SKU", quote("12")),
        ));
        assert_eq!(short.message(), "sku: \"12\" is not a SKU");
    }

    #[test]
    fn a_bare_status_reaches_a_client_in_the_suites_words() {
        let ours = Status::from(ApiError::new(Reason::TokenMissing, "no token"));
        assert_eq!(client_status(ours.clone()).message(), ours.message());
        for (bare, reason) in [
            (
                Status::unknown("hyper::Error(Io, Kind(ConnectionReset))"),
                "UPSTREAM_UNAVAILABLE",
            ),
            (
                Status::internal("h2 protocol error: stream error received"),
                "UPSTREAM_FAILED",
            ),
            (
                Status::cancelled("operation was canceled"),
                "UPSTREAM_UNAVAILABLE",
            ),
            (
                Status::deadline_exceeded("Timeout expired"),
                "DEADLINE_EXCEEDED",
            ),
        ] {
            let shown = client_status(bare.clone());
            assert_eq!(reason_of(&shown).as_deref(), Some(reason), "{bare:?}");
            for library in ["hyper", "h2", "Timeout expired", "canceled", "Error("] {
                assert!(!shown.message().contains(library), "{shown:?}");
            }
        }
    }

    #[test]
    fn reason_of_plain_status_is_none() {
        assert_eq!(reason_of(&Status::internal("boom")), None);
        assert!(field_violations_of(&Status::internal("boom")).is_empty());
    }
}
