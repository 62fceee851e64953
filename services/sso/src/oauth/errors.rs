//! Every OAuth error the provider answers, as one enum: the error codes of RFC 6749 (§4.1.2.1
//! at the authorization endpoint, §5.2 at the token endpoint), RFC 6750 (bearer tokens),
//! RFC 7009 (revocation) and OpenID Connect Core §3.1.2.6. Each knows, in one place, its HTTP
//! status, its JSON body (`error`, `error_description`), its `WWW-Authenticate` where one is
//! due, and its gRPC status.

use http::StatusCode;
use sandbox06_runtime::error::UpstreamFailure;
use sandbox06_runtime::{ApiError, Reason};
use serde_json::{Value, json};
use tonic::Status;

use crate::grpc::SsoReason;
use crate::keys::KeyError;

/// The realm of every `WWW-Authenticate` the provider sends.
const REALM: &str = "sandbox06";

/// Longest `error_description`, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 512;

/// The state store, as `ErrorInfo.metadata.backend` names it.
pub const STORE_BACKEND: &str = sandbox06_runtime::error::STORE_BACKEND;

/// An OAuth error, with what is wrong in the suite's words (for a developer; never a
/// library's or an upstream's text).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// `invalid_request`: a parameter is missing, repeated, malformed or not allowed.
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// `invalid_client`: the client did not authenticate (401, `WWW-Authenticate: Basic`).
    #[error("invalid_client: {0}")]
    InvalidClient(String),
    /// `invalid_client` while authentication of the client id or the caller's address is
    /// locked until `until` (Unix seconds): 429 with `Retry-After`.
    #[error("invalid_client: client authentication is locked until {until}")]
    ClientLocked {
        /// When the lock ends, Unix seconds by the suite's clock.
        until: i64,
        /// Seconds left until then.
        wait: i64,
    },
    /// `invalid_grant`: a code or refresh token that is unknown, expired, used, revoked, or
    /// another client's.
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    /// `unauthorized_client`: the client may not use this grant or act on this token.
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(String),
    /// `unsupported_grant_type`.
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(String),
    /// `unsupported_response_type`.
    #[error("unsupported_response_type: {0}")]
    UnsupportedResponseType(String),
    /// `unsupported_token_type` (RFC 7009 §2.2.1).
    #[error("unsupported_token_type: {0}")]
    UnsupportedTokenType(String),
    /// `invalid_scope`.
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    /// `access_denied`: the user declined, or could not log in.
    #[error("access_denied: {0}")]
    AccessDenied(String),
    /// `login_required` (OpenID Connect, `prompt=none`).
    #[error("login_required: {0}")]
    LoginRequired(String),
    /// `consent_required` (OpenID Connect, `prompt=none`).
    #[error("consent_required: {0}")]
    ConsentRequired(String),
    /// `unmet_authentication_requirements` (OpenID Connect, `acr_values`).
    #[error("unmet_authentication_requirements: {0}")]
    UnmetAuthenticationRequirements(String),
    /// `invalid_token` (RFC 6750 §3.1): 401 with a `Bearer` challenge.
    #[error("invalid_token: {0}")]
    InvalidToken(String),
    /// `insufficient_scope` (RFC 6750 §3.1): 403 with a `Bearer` challenge.
    #[error("insufficient_scope: {0}")]
    InsufficientScope(String),
    /// `server_error`: a failure inside the single sign-on (500).
    #[error("server_error: {0}")]
    ServerError(String),
    /// `temporarily_unavailable`: a system the provider needs (the state store, VNeID, the
    /// population database) does not answer (503).
    #[error("temporarily_unavailable: {description}")]
    TemporarilyUnavailable {
        /// What does not answer, in the suite's words.
        description: String,
        /// The system, as `ErrorInfo.metadata.backend` names it.
        backend: &'static str,
        /// How the upstream failed, when it is one: its reason on gRPC.
        failure: Option<Box<UpstreamFailure>>,
    },
}

impl OAuthError {
    /// `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::InvalidRequest(description.into())
    }

    /// `invalid_grant`.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::InvalidGrant(description.into())
    }

    /// `invalid_client`, 401.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::InvalidClient(description.into())
    }

    /// The one answer to every failed client authentication, whatever failed (an unknown
    /// client, a wrong secret, a method the client may not use, a forged assertion): nothing
    /// tells a client id that exists from one that does not.
    pub fn client_authentication_failed() -> Self {
        Self::invalid_client("client authentication failed")
    }

    /// `temporarily_unavailable`, 503: `backend` does not answer.
    pub fn unavailable(backend: &'static str, description: impl Into<String>) -> Self {
        Self::TemporarilyUnavailable {
            description: description.into(),
            backend,
            failure: None,
        }
    }

    /// `temporarily_unavailable`, 503: an upstream (VNeID, the population database) failed as
    /// `failure` says, told as `description`; on gRPC with the reason the runtime's mapping
    /// gives the failure.
    pub fn upstream(failure: UpstreamFailure, description: impl Into<String>) -> Self {
        Self::TemporarilyUnavailable {
            description: description.into(),
            backend: failure.backend(),
            failure: Some(Box::new(failure)),
        }
    }

    /// `temporarily_unavailable`, 503: the state store does not answer.
    pub fn store_unavailable() -> Self {
        Self::unavailable(STORE_BACKEND, "the state store does not answer; retry")
    }

    /// `server_error`, 500.
    pub fn server(description: impl Into<String>) -> Self {
        Self::ServerError(description.into())
    }

    /// `server_error`, 500, for a failure inside the single sign-on (a record that does not
    /// serialize or parse, a key that does not sign): `what` failed, in the suite's words; the
    /// library's error is logged, never answered.
    pub fn internal<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> OAuthError {
        move |error| {
            tracing::error!(error = %error, "{what}");
            OAuthError::server(format!("{what}: an internal error of the single sign-on"))
        }
    }

    /// The `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient(_) | Self::ClientLocked { .. } => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::UnsupportedResponseType(_) => "unsupported_response_type",
            Self::UnsupportedTokenType(_) => "unsupported_token_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::AccessDenied(_) => "access_denied",
            Self::LoginRequired(_) => "login_required",
            Self::ConsentRequired(_) => "consent_required",
            Self::UnmetAuthenticationRequirements(_) => "unmet_authentication_requirements",
            Self::InvalidToken(_) => "invalid_token",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::ServerError(_) => "server_error",
            Self::TemporarilyUnavailable { .. } => "temporarily_unavailable",
        }
    }

    /// What is wrong, as written (before [`description_text`]).
    pub fn description(&self) -> String {
        match self {
            Self::ClientLocked { until, .. } => {
                let when = time::OffsetDateTime::from_unix_timestamp(*until)
                    .ok()
                    .and_then(|t| {
                        t.format(&time::format_description::well_known::Rfc3339)
                            .ok()
                    })
                    .unwrap_or_else(|| until.to_string());
                format!("client authentication is locked until {when}")
            }
            Self::InvalidRequest(d)
            | Self::InvalidClient(d)
            | Self::InvalidGrant(d)
            | Self::UnauthorizedClient(d)
            | Self::UnsupportedGrantType(d)
            | Self::UnsupportedResponseType(d)
            | Self::UnsupportedTokenType(d)
            | Self::InvalidScope(d)
            | Self::AccessDenied(d)
            | Self::LoginRequired(d)
            | Self::ConsentRequired(d)
            | Self::UnmetAuthenticationRequirements(d)
            | Self::InvalidToken(d)
            | Self::InsufficientScope(d)
            | Self::ServerError(d)
            | Self::TemporarilyUnavailable { description: d, .. } => d.clone(),
        }
    }

    /// The HTTP status it is answered with.
    pub fn http_status(&self) -> StatusCode {
        match self {
            Self::InvalidClient(_) | Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::ClientLocked { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Self::ServerError(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::TemporarilyUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The JSON body: `error` and `error_description`.
    pub fn body(&self) -> Value {
        json!({"error": self.code(), "error_description": description_text(&self.description())})
    }

    /// The `WWW-Authenticate` challenge it is answered with, when one is due: `Basic` for a
    /// failed client authentication (RFC 6749 §5.2), `Bearer` with the error for a refused
    /// bearer token (RFC 6750 §3).
    pub fn www_authenticate(&self) -> Option<String> {
        match self {
            Self::InvalidClient(_) => Some(format!("Basic realm=\"{REALM}\"")),
            Self::InvalidToken(_) | Self::InsufficientScope(_) => Some(format!(
                "Bearer realm=\"{REALM}\", error=\"{}\", error_description=\"{}\"",
                self.code(),
                description_text(&self.description())
            )),
            _ => None,
        }
    }

    /// Seconds to wait before trying again (`Retry-After`), for a lock.
    pub fn retry_after(&self) -> Option<i64> {
        match self {
            Self::ClientLocked { wait, .. } => Some((*wait).max(1)),
            _ => None,
        }
    }

    /// The gRPC status: `invalid_client` UNAUTHENTICATED, `invalid_token` UNAUTHENTICATED,
    /// `insufficient_scope` PERMISSION_DENIED, `temporarily_unavailable` UNAVAILABLE with
    /// `metadata.backend`, `server_error` INTERNAL, the caller's other mistakes
    /// INVALID_ARGUMENT; the message is `error: description`.
    pub fn grpc_status(&self) -> Status {
        let message = format!("{}: {}", self.code(), self.description());
        let error = match self {
            Self::InvalidClient(_) | Self::ClientLocked { .. } => {
                ApiError::new(SsoReason::ClientAuthenticationFailed, message)
            }
            Self::InvalidToken(_) => ApiError::new(Reason::TokenInvalid, message),
            Self::InsufficientScope(_) => ApiError::new(Reason::ScopeMissing, message),
            Self::ServerError(_) => ApiError::new(Reason::Internal, message),
            Self::TemporarilyUnavailable {
                backend, failure, ..
            } => {
                let reason = failure
                    .as_ref()
                    .map_or(Reason::UpstreamUnavailable, |failure| failure.reason());
                ApiError::new(reason, message).with_metadata("backend", *backend)
            }
            _ => ApiError::new(Reason::InvalidArgument, message),
        };
        error.into()
    }
}

impl From<OAuthError> for Status {
    fn from(error: OAuthError) -> Self {
        error.grpc_status()
    }
}

impl From<sandbox06_store::StoreError> for OAuthError {
    fn from(error: sandbox06_store::StoreError) -> Self {
        tracing::warn!(error = %error, "state store failed");
        OAuthError::store_unavailable()
    }
}

impl From<KeyError> for OAuthError {
    fn from(error: KeyError) -> Self {
        tracing::warn!(error = %error, "signing keys unavailable");
        match error {
            KeyError::Store(_) => OAuthError::store_unavailable(),
            _ => OAuthError::server(
                "the signing keys cannot be read: an internal error of the single sign-on",
            ),
        }
    }
}

/// `text` within the characters RFC 6749 §5.2 allows in `error_description` (printable ASCII
/// without double quote and backslash): a double quote becomes `'`, a backslash `/`, any other
/// character outside `?`; cut to [`MAX_DESCRIPTION_CHARS`] (with the length it had), so that a
/// description quoting a caller's input never grows with it.
pub fn description_text(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_DESCRIPTION_CHARS + 1)
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' '..='~' => c,
            _ => '?',
        })
        .collect();
    if out.len() > MAX_DESCRIPTION_CHARS {
        out.truncate(MAX_DESCRIPTION_CHARS - 40);
        out.push_str(&format!("... ({} characters)", text.chars().count()));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use tonic::Code;
    use tonic_types::StatusExt;

    use super::*;

    fn every_kind() -> Vec<OAuthError> {
        let d = || "why".to_owned();
        vec![
            OAuthError::InvalidRequest(d()),
            OAuthError::InvalidClient(d()),
            OAuthError::ClientLocked { until: 0, wait: 1 },
            OAuthError::InvalidGrant(d()),
            OAuthError::UnauthorizedClient(d()),
            OAuthError::UnsupportedGrantType(d()),
            OAuthError::UnsupportedResponseType(d()),
            OAuthError::UnsupportedTokenType(d()),
            OAuthError::InvalidScope(d()),
            OAuthError::AccessDenied(d()),
            OAuthError::LoginRequired(d()),
            OAuthError::ConsentRequired(d()),
            OAuthError::UnmetAuthenticationRequirements(d()),
            OAuthError::InvalidToken(d()),
            OAuthError::InsufficientScope(d()),
            OAuthError::ServerError(d()),
            OAuthError::unavailable("vneid", d()),
        ]
    }

    #[test]
    fn each_error_has_its_code_status_challenge_and_grpc_status_in_one_place() {
        let expected: [(&str, u16, Option<&str>, Code); 17] = [
            ("invalid_request", 400, None, Code::InvalidArgument),
            ("invalid_client", 401, Some("Basic"), Code::Unauthenticated),
            ("invalid_client", 429, None, Code::Unauthenticated),
            ("invalid_grant", 400, None, Code::InvalidArgument),
            ("unauthorized_client", 400, None, Code::InvalidArgument),
            ("unsupported_grant_type", 400, None, Code::InvalidArgument),
            (
                "unsupported_response_type",
                400,
                None,
                Code::InvalidArgument,
            ),
            ("unsupported_token_type", 400, None, Code::InvalidArgument),
            ("invalid_scope", 400, None, Code::InvalidArgument),
            ("access_denied", 400, None, Code::InvalidArgument),
            ("login_required", 400, None, Code::InvalidArgument),
            ("consent_required", 400, None, Code::InvalidArgument),
            (
                "unmet_authentication_requirements",
                400,
                None,
                Code::InvalidArgument,
            ),
            ("invalid_token", 401, Some("Bearer"), Code::Unauthenticated),
            (
                "insufficient_scope",
                403,
                Some("Bearer"),
                Code::PermissionDenied,
            ),
            ("server_error", 500, None, Code::Internal),
            ("temporarily_unavailable", 503, None, Code::Unavailable),
        ];
        for (error, (code, status, challenge, grpc)) in every_kind().iter().zip(expected) {
            assert_eq!(error.code(), code, "{error:?}");
            assert_eq!(error.http_status().as_u16(), status, "{error:?}");
            assert_eq!(error.body()["error"], code, "{error:?}");
            let scheme = error.www_authenticate();
            assert_eq!(
                scheme.as_deref().and_then(|s| s.split(' ').next()),
                challenge,
                "{error:?}"
            );
            let grpc_status = error.grpc_status();
            assert_eq!(grpc_status.code(), grpc, "{error:?}");
            assert!(grpc_status.message().starts_with(code), "{grpc_status:?}");
        }
    }

    #[test]
    fn invalid_client_is_unauthenticated_on_grpc_not_invalid_argument() {
        let status = OAuthError::client_authentication_failed().grpc_status();
        assert_eq!(status.code(), Code::Unauthenticated);
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.reason, "CLIENT_AUTHENTICATION_FAILED");
    }

    /// An upstream's failure keeps the runtime mapping's reason on gRPC: an answer it did not
    /// expect is the suite's fault (INTERNAL), not a system that does not answer.
    #[test]
    fn an_upstreams_failure_keeps_its_kind_on_grpc() {
        for (failure, code, reason) in [
            (
                UpstreamFailure::unavailable("vneid", "the VNeID service"),
                Code::Unavailable,
                "UPSTREAM_UNAVAILABLE",
            ),
            (
                UpstreamFailure::unexpected(
                    "population-db",
                    "the population database",
                    "no record",
                ),
                Code::Internal,
                "UPSTREAM_FAILED",
            ),
        ] {
            let backend = failure.backend();
            let error = OAuthError::upstream(failure, "the identity systems do not answer");
            assert_eq!(error.code(), "temporarily_unavailable");
            assert_eq!(error.http_status(), StatusCode::SERVICE_UNAVAILABLE);
            let status = error.grpc_status();
            assert_eq!(status.code(), code);
            let info = status.get_details_error_info().unwrap();
            assert_eq!(info.reason, reason);
            assert_eq!(info.metadata["backend"], backend);
        }
    }

    #[test]
    fn an_unavailable_system_is_named_in_the_error_info_backend() {
        for (error, backend) in [
            (OAuthError::store_unavailable(), "store"),
            (
                OAuthError::unavailable(
                    "vneid",
                    "the VNeID service cannot be reached; retry later",
                ),
                "vneid",
            ),
            (
                OAuthError::unavailable(
                    "population-db",
                    "the population database cannot be reached",
                ),
                "population-db",
            ),
        ] {
            let status = error.grpc_status();
            assert_eq!(status.code(), Code::Unavailable);
            let info = status.get_details_error_info().unwrap();
            assert_eq!(info.reason, "UPSTREAM_UNAVAILABLE");
            assert_eq!(info.metadata["backend"], backend);
            assert_eq!(error.http_status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(error.body()["error"], "temporarily_unavailable");
        }
    }

    #[test]
    fn a_bearer_challenge_carries_the_error_and_its_cut_description() {
        let error = OAuthError::InvalidToken("the access token is \"expired\"".to_owned());
        assert_eq!(
            error.www_authenticate().unwrap(),
            "Bearer realm=\"sandbox06\", error=\"invalid_token\", error_description=\"the access token is 'expired'\""
        );
        let long = OAuthError::invalid_request("x".repeat(2000));
        let description = long.body()["error_description"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(description.len() <= MAX_DESCRIPTION_CHARS, "{description}");
        assert!(description.ends_with("(2000 characters)"));
    }

    #[test]
    fn a_lock_says_until_when_and_how_long_to_wait() {
        let until = time::OffsetDateTime::now_utc().unix_timestamp() + 120;
        let locked = OAuthError::ClientLocked { until, wait: 120 };
        assert!(
            locked
                .description()
                .starts_with("client authentication is locked until ")
        );
        assert!(locked.retry_after().unwrap() > 100);
        assert_eq!(locked.www_authenticate(), None);
    }

    #[test]
    fn an_internal_failure_is_answered_in_the_suites_words_not_the_librarys() {
        let library = serde_json::from_slice::<Value>(b"{").unwrap_err();
        let error = OAuthError::internal("a stored code cannot be read")(library);
        assert_eq!(error.code(), "server_error");
        assert_eq!(error.http_status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            error.description(),
            "a stored code cannot be read: an internal error of the single sign-on"
        );
        let stored = OAuthError::from(KeyError::Stored("EOF while parsing at line 1".into()));
        assert!(!stored.description().contains("EOF"), "{stored:?}");
        assert_eq!(stored.code(), "server_error");
    }
}
