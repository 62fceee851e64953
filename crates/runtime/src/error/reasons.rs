//! The generic reasons: why a call failed, whatever the service.

use std::fmt;

use tonic::Code;

use super::ErrorReason;

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
    /// A component's control service was called without the suite's control key.
    ControlKeyMissing,
    /// The call had no answer within its deadline.
    DeadlineExceeded,
    /// A component's memory store keeps state for as many tenants as it can; the call's tenant
    /// is a new one.
    TenantsFull,
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
    Reason::ControlKeyMissing,
    Reason::DeadlineExceeded,
    Reason::TenantsFull,
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
            Reason::ControlKeyMissing => "CONTROL_KEY_MISSING",
            Reason::DeadlineExceeded => "DEADLINE_EXCEEDED",
            Reason::TenantsFull => "TENANTS_FULL",
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
            Reason::ControlKeyMissing => Code::PermissionDenied,
            Reason::DeadlineExceeded => Code::DeadlineExceeded,
            Reason::TenantsFull => Code::ResourceExhausted,
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
            Reason::ControlKeyMissing => {
                "A component's control service (`FaultControl`, `StateControl`, `JournalControl`) was called without the suite's control key: they take the admin surface's calls only; use `sandbox06.admin.v1.AdminService` through the edge."
            }
            Reason::DeadlineExceeded => {
                "No answer within the call's deadline: the caller's `grpc-timeout`, or the server's `limits.request_timeout_seconds` (30 s by default), whichever is shorter."
            }
            Reason::TenantsFull => {
                "A component keeps state for as many tenants (`x-sandbox06-tenant`) in memory as it can (1000 by default), and the call's tenant is a new one: an operator's reset (`ResetSandbox` without a tenant) forgets the tenants that keep no snapshot and frees their places; a Redis store has no such limit. `metadata.max_tenants` says the limit, `metadata.backend` the component's store."
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
