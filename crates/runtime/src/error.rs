//! The error model: every failure a client sees is a `google.rpc.Status` with a canonical code,
//! an `ErrorInfo { reason, domain: "sandbox06.vn" }` always, and `BadRequest` field violations
//! for bad input.
//!
//! The runtime owns the generic reasons ([`Reason`]); each service owns its own, as an enum
//! implementing [`ErrorReason`] with its list exported, and `docs/ERRORS.md` lists them all.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

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

/// Why a call failed, whatever the service: the generic reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// A request field is malformed (no more specific reason applies).
    InvalidArgument,
    /// A field mask names an unknown field.
    InvalidFieldMask,
    /// One request message is above the server's size limit.
    RequestTooLarge,
    /// A call's request metadata (headers) is above what the edge forwards.
    MetadataTooLarge,
    /// An answer's headers or trailers are above what a server sends.
    ResponseMetadataTooLarge,
    /// The call's message encoding (`grpc-encoding`, content type) is not one the server reads.
    UnsupportedEncoding,
    /// A request message's compressed flag is set without a `grpc-encoding`.
    CompressedWithoutEncoding,
    /// A call that takes one request message ended its request without one.
    RequestMessageMissing,
    /// A call that takes one request message carried more than one.
    TooManyRequestMessages,
    /// A backend or mock national system cannot be reached; retry later.
    UpstreamUnavailable,
    /// A backend or mock national system answered with an unexpected error.
    UpstreamFailed,
    /// No access token.
    TokenMissing,
    /// The access token is not one the suite accepts (signature, key, algorithm, issuer,
    /// audience, type).
    TokenInvalid,
    /// The access token has expired.
    TokenExpired,
    /// The access token lacks the scope the method requires.
    ScopeMissing,
    /// The gateway routes no service or method at this path.
    MethodNotFound,
    /// No HTTP route answers at this path.
    RouteNotFound,
    /// An HTTP route exists at this path, but not for this method (HTTP 405).
    HttpMethodNotAllowed,
    /// A browser's cross-origin request comes from an origin the edge does not allow.
    OriginNotAllowed,
    /// The call had no answer within its deadline.
    DeadlineExceeded,
    /// A bug in sandbox06.
    Internal,
}

/// Every generic reason, in documentation order.
pub const REASONS: &[Reason] = &[
    Reason::InvalidArgument,
    Reason::InvalidFieldMask,
    Reason::RequestTooLarge,
    Reason::MetadataTooLarge,
    Reason::ResponseMetadataTooLarge,
    Reason::UnsupportedEncoding,
    Reason::CompressedWithoutEncoding,
    Reason::RequestMessageMissing,
    Reason::TooManyRequestMessages,
    Reason::UpstreamUnavailable,
    Reason::UpstreamFailed,
    Reason::TokenMissing,
    Reason::TokenInvalid,
    Reason::TokenExpired,
    Reason::ScopeMissing,
    Reason::MethodNotFound,
    Reason::RouteNotFound,
    Reason::HttpMethodNotAllowed,
    Reason::OriginNotAllowed,
    Reason::DeadlineExceeded,
    Reason::Internal,
];

impl ErrorReason for Reason {
    fn as_str(&self) -> &'static str {
        match self {
            Reason::InvalidArgument => "INVALID_ARGUMENT",
            Reason::InvalidFieldMask => "INVALID_FIELD_MASK",
            Reason::RequestTooLarge => "REQUEST_TOO_LARGE",
            Reason::MetadataTooLarge => "METADATA_TOO_LARGE",
            Reason::ResponseMetadataTooLarge => "RESPONSE_METADATA_TOO_LARGE",
            Reason::UnsupportedEncoding => "UNSUPPORTED_ENCODING",
            Reason::CompressedWithoutEncoding => "COMPRESSED_WITHOUT_ENCODING",
            Reason::RequestMessageMissing => "REQUEST_MESSAGE_MISSING",
            Reason::TooManyRequestMessages => "TOO_MANY_REQUEST_MESSAGES",
            Reason::UpstreamUnavailable => "UPSTREAM_UNAVAILABLE",
            Reason::UpstreamFailed => "UPSTREAM_FAILED",
            Reason::TokenMissing => "TOKEN_MISSING",
            Reason::TokenInvalid => "TOKEN_INVALID",
            Reason::TokenExpired => "TOKEN_EXPIRED",
            Reason::ScopeMissing => "SCOPE_MISSING",
            Reason::MethodNotFound => "METHOD_NOT_FOUND",
            Reason::RouteNotFound => "ROUTE_NOT_FOUND",
            Reason::HttpMethodNotAllowed => "METHOD_NOT_ALLOWED",
            Reason::OriginNotAllowed => "ORIGIN_NOT_ALLOWED",
            Reason::DeadlineExceeded => "DEADLINE_EXCEEDED",
            Reason::Internal => "INTERNAL",
        }
    }

    fn code(&self) -> Code {
        match self {
            Reason::InvalidArgument | Reason::InvalidFieldMask => Code::InvalidArgument,
            Reason::RequestTooLarge | Reason::MetadataTooLarge => Code::ResourceExhausted,
            Reason::ResponseMetadataTooLarge | Reason::CompressedWithoutEncoding => Code::Internal,
            Reason::UnsupportedEncoding
            | Reason::RequestMessageMissing
            | Reason::TooManyRequestMessages => Code::Unimplemented,
            Reason::UpstreamUnavailable => Code::Unavailable,
            Reason::UpstreamFailed | Reason::Internal => Code::Internal,
            Reason::TokenMissing | Reason::TokenInvalid | Reason::TokenExpired => {
                Code::Unauthenticated
            }
            Reason::ScopeMissing => Code::PermissionDenied,
            Reason::MethodNotFound => Code::Unimplemented,
            Reason::RouteNotFound => Code::NotFound,
            Reason::HttpMethodNotAllowed => Code::Unimplemented,
            Reason::OriginNotAllowed => Code::PermissionDenied,
            Reason::DeadlineExceeded => Code::DeadlineExceeded,
        }
    }

    fn when(&self) -> &'static str {
        match self {
            Reason::InvalidArgument => {
                "A request field is malformed and no more specific reason applies."
            }
            Reason::InvalidFieldMask => "A field mask names an unknown field.",
            Reason::RequestTooLarge => {
                "One request message, or an HTTP request body (answered 413), is above the server's size limit (`limits.max_request_bytes`, 4 MiB by default)."
            }
            Reason::MetadataTooLarge => {
                "A call's metadata (request headers), with what the edge adds to it, is above what the edge forwards to a backend (`metadata.limit_bytes`, 15.5 KiB counted as HTTP/2 counts it); send less metadata."
            }
            Reason::ResponseMetadataTooLarge => {
                "An answer's headers or trailers would be above what a server sends (`metadata.limit_bytes`, 12 KiB counted as HTTP/2 counts it): that call alone fails, never the connection it shares. A bug in sandbox06."
            }
            Reason::UnsupportedEncoding => {
                "The call's messages are in an encoding the servers do not read: a `grpc-encoding` other than `identity` (the answer's `grpc-accept-encoding` lists those they do), or a content type other than `application/grpc`, `application/grpc+proto` and the four gRPC-Web ones, e.g. `application/grpc+json` (answered with HTTP 415)."
            }
            Reason::CompressedWithoutEncoding => {
                "A request message's compressed flag is set, but the call names no `grpc-encoding` (or `identity`): the gRPC protocol makes this `INTERNAL` (see below); send messages uncompressed, flag 0."
            }
            Reason::RequestMessageMissing => {
                "A call that takes exactly one request message (unary or server-streaming) ended its request without one: a request cardinality violation, which the gRPC status codes make `UNIMPLEMENTED`."
            }
            Reason::TooManyRequestMessages => {
                "A call that takes exactly one request message (unary or server-streaming) carried a second one: a request cardinality violation, which the gRPC status codes make `UNIMPLEMENTED`; the call is refused before the method answers, over gRPC and gRPC-Web alike."
            }
            Reason::UpstreamUnavailable => {
                "A backend service or mock national system cannot be reached; `metadata.backend` names it. Retry later."
            }
            Reason::UpstreamFailed => {
                "A backend service or mock national system answered with an unexpected error."
            }
            Reason::TokenMissing => {
                "The call carries no `authorization: Bearer <access token>` and the method is not public."
            }
            Reason::TokenInvalid => {
                "The access token is refused; `metadata.problem` says why: `malformed`, `alg` (not RS256/ES256, or not its key's), `unknown_key`, `signature`, `type` (not an RFC 9068 access token), `issuer`, `audience` or `not_yet_valid`."
            }
            Reason::TokenExpired => {
                "The access token has expired (30 s of clock leeway); `metadata.expired_at` says when."
            }
            Reason::ScopeMissing => {
                "The access token lacks the scope the method's policy requires; `metadata.required_scope` names it, `metadata.granted` lists what the token has."
            }
            Reason::MethodNotFound => {
                "The gateway routes no service or method at this path; `metadata.path` names it."
            }
            Reason::RouteNotFound => {
                "An HTTP request names a path no route answers (HTTP 404); `metadata.path` names it."
            }
            Reason::HttpMethodNotAllowed => {
                "An HTTP route exists at this path, but not for this method (HTTP 405, with `Allow`); `metadata.allowed` names the methods it takes."
            }
            Reason::OriginNotAllowed => {
                "A browser's request or preflight comes from a page of another origin that the edge does not allow (CORS; HTTP 403): `gateway.cors.allowed_origins` lists those it does, by default pages on `localhost`, `127.0.0.1` and `[::1]`; `metadata.origin` names it."
            }
            Reason::DeadlineExceeded => {
                "No answer within the call's deadline: the caller's `grpc-timeout`, or the server's `limits.request_timeout_seconds` (30 s by default), whichever is shorter."
            }
            Reason::Internal => "A bug in sandbox06.",
        }
    }
}

impl Reason {
    /// The generic reason with this `ErrorInfo.reason` string.
    pub fn parse(reason: &str) -> Option<Reason> {
        REASONS.iter().copied().find(|r| r.as_str() == reason)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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

/// Longest piece of a caller's input that an error quotes back, in characters ([`quote`]).
pub const MAX_QUOTE_CHARS: usize = 64;

/// Bounds of what one error carries, in bytes, whatever its constructor put in: an error
/// travels in the response's headers or trailers (`grpc-message`, `grpc-status-details-bin`),
/// which every HTTP/2 peer bounds (16 KiB here), and one that passes the bound fails the whole
/// connection that carries it, not just the call. So an error that quotes a caller's input
/// never grows with it.
pub mod bounds {
    /// `Status.message`.
    pub const MESSAGE_BYTES: usize = 768;
    /// `BadRequest.FieldViolation.field`.
    pub const FIELD_BYTES: usize = 128;
    /// `BadRequest.FieldViolation.description`.
    pub const DESCRIPTION_BYTES: usize = 512;
    /// All the field violations of one error together: those past it are counted, not listed.
    pub const VIOLATIONS_BYTES: usize = 2048;
    /// An `ErrorInfo.metadata` key.
    pub const METADATA_KEY_BYTES: usize = 64;
    /// An `ErrorInfo.metadata` value.
    pub const METADATA_VALUE_BYTES: usize = 128;
    /// `ErrorInfo.metadata` entries.
    pub const METADATA_ENTRIES: usize = 8;
}

/// A caller's input as an error quotes it: in quotes (escaped as Rust's `{:?}` does), cut to
/// [`MAX_QUOTE_CHARS`] characters and followed by its length when longer, e.g.
/// `"aaaaaaaa…"… (17000 characters)`; displayed without allocating.
#[derive(Clone, Copy, Debug)]
pub struct Quoted<'a>(pub &'a str);

/// [`Quoted`] of `input`, for `format!("{} is not a field", quote(path))`.
pub fn quote(input: &str) -> Quoted<'_> {
    Quoted(input)
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = self.0;
        // Fewer bytes than the bound: fewer characters too, no counting.
        if input.len() <= MAX_QUOTE_CHARS {
            return write!(f, "{input:?}");
        }
        match input.char_indices().nth(MAX_QUOTE_CHARS) {
            Some((cut, _)) => write!(
                f,
                "{:?}… ({} characters)",
                &input[..cut],
                input.chars().count()
            ),
            None => write!(f, "{input:?}"),
        }
    }
}

/// `text` cut to at most `max_bytes` bytes (on a character boundary), with `… (N bytes)`
/// saying how long it was; unchanged (and not copied) when it fits.
pub fn bounded(text: String, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text;
    }
    let marker = format!("… ({} bytes)", text.len());
    let mut cut = max_bytes.saturating_sub(marker.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut out = String::with_capacity(cut + marker.len());
    out.push_str(&text[..cut]);
    out.push_str(&marker);
    out
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

/// What an upstream's unexpected answer was, in the suite's words: its code, and its reason when
/// it is one of the suite's; never its text, which may be a library's.
pub fn unexpected_answer(status: &Status) -> String {
    let code = code_name(status.code());
    match suite_reason_of(status) {
        Some(reason) => format!("it answered {code}, reason {reason}"),
        None => format!("it answered {code} without an error of the suite"),
    }
}

/// Logs a failed call to the upstream `backend` with what it (or the transport, and the errors
/// under it) said, every run of digits long enough to be an ID number masked: the caller gets
/// the suite's words, the operator the cause.
pub fn log_upstream_failure(backend: &str, status: &Status) {
    let mut sources = Vec::new();
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        sources.push(error.to_string());
        source = error.source();
    }
    tracing::warn!(
        backend,
        code = code_name(status.code()),
        reason = suite_reason_of(status).as_deref(),
        error = %crate::mask::path(status.message()),
        source = %crate::mask::path(&sources.join(": ")),
        "a call to an upstream failed"
    );
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
    fn reasons_round_trip_and_are_screaming_snake_case() {
        for reason in REASONS {
            let text = reason.as_str();
            assert!(
                text.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{text}"
            );
            assert_eq!(Reason::parse(text), Some(*reason));
            assert!(reason.when().ends_with('.'), "{text}");
        }
        assert_eq!(Reason::parse("NOPE"), None);
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
    fn bounded_cuts_on_a_character_and_says_the_length() {
        assert_eq!(bounded("short".into(), 10), "short");
        let cut = bounded("ễ".repeat(100), 40);
        assert!(cut.len() <= 40, "{cut}");
        assert!(cut.ends_with("… (300 bytes)"), "{cut}");
        assert_eq!(quote("abc").to_string(), "\"abc\"");
        assert_eq!(quote("a\"b").to_string(), "\"a\\\"b\"");
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
