//! One mapping of a failed call to an upstream (a backend service, a mock national system, a
//! state store) into the error its caller answers: what kind of failure it was
//! ([`FailureKind`]), which upstream (`ErrorInfo.metadata.backend`), and a message naming the
//! system in the suite's words, never in the transport's or a library's.
//!
//! | the upstream answered                                   | kind               | the caller answers                                 |
//! |---------------------------------------------------------|--------------------|----------------------------------------------------|
//! | `UNAVAILABLE`, `UNKNOWN`, `CANCELLED`                   | `Unavailable`      | `UNAVAILABLE`, `UPSTREAM_UNAVAILABLE`, "… cannot be reached; retry later" |
//! | `DEADLINE_EXCEEDED`, outside a call being served        | `TimedOut`         | `UNAVAILABLE`, `UPSTREAM_UNAVAILABLE`, "… did not answer in time; retry later" |
//! | `DEADLINE_EXCEEDED` while serving a call (it inherits its deadline), or `CANCELLED` once that deadline has passed | `DeadlineExceeded` | `DEADLINE_EXCEEDED`, `DEADLINE_EXCEEDED`, "… did not answer within the call's deadline" |
//! | `INVALID_ARGUMENT`, `PERMISSION_DENIED`, `UNAUTHENTICATED` | `Refused`       | `INTERNAL`, `UPSTREAM_FAILED`, "… refused the request: …" (the caller validates and authenticates first: a refusal is a fault of ours) |
//! | `NOT_FOUND`                                             | `NotFound`         | `INTERNAL`, `UPSTREAM_FAILED`, "… failed: it answered NOT_FOUND …" (a caller for which it is an answer handles it first) |
//! | anything else                                           | `Unexpected`       | `INTERNAL`, `UPSTREAM_FAILED`, "… failed: it answered …" |

use std::fmt;

use tonic::{Code, Status};

use super::{ApiError, FieldViolation, Reason, code_name, field_violations_of, suite_reason_of};

/// What an upstream's unexpected answer was, in the suite's words: its code, and its reason when
/// it is one of the suite's; never its text, which may be a library's.
pub fn unexpected_answer(status: &Status) -> String {
    let code = code_name(status.code());
    match suite_reason_of(status) {
        Some(reason) => format!("it answered {code}, reason {reason}"),
        None => format!("it answered {code} without an error of the suite"),
    }
}

/// The state store's name in `ErrorInfo.metadata.backend`.
pub const STORE_BACKEND: &str = "store";

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

/// How a call to an upstream failed, as its caller's error tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// It cannot be reached: no connection, a connection lost, a library's unknown error.
    Unavailable,
    /// It did not answer within a time of its own (no call being served gave it a deadline).
    TimedOut,
    /// It did not answer within the deadline of the call being served, which it inherited.
    DeadlineExceeded,
    /// It refused the request: malformed, or not allowed. The caller validates and authenticates
    /// first, so this is a fault of the caller's service (a bug or a version skew).
    Refused,
    /// It has nothing by that name, where the caller expected something.
    NotFound,
    /// Any other answer, or an answer the caller cannot use.
    Unexpected,
}

impl FailureKind {
    /// The kind of a failed call that ended with `code`. `CANCELLED` is the deadline's once the
    /// deadline of the call being served has passed (the client's own timer cut the call short),
    /// and `DEADLINE_EXCEEDED` is the call's deadline while one is being served.
    pub fn of(code: Code) -> Self {
        let served = crate::call_deadline::remaining();
        match code {
            Code::DeadlineExceeded if served.is_some() => FailureKind::DeadlineExceeded,
            Code::DeadlineExceeded => FailureKind::TimedOut,
            Code::Cancelled if served.is_some_and(|left| left.is_zero()) => {
                FailureKind::DeadlineExceeded
            }
            Code::Unavailable | Code::Cancelled | Code::Unknown => FailureKind::Unavailable,
            Code::InvalidArgument | Code::PermissionDenied | Code::Unauthenticated => {
                FailureKind::Refused
            }
            Code::NotFound => FailureKind::NotFound,
            _ => FailureKind::Unexpected,
        }
    }

    /// Whether the upstream cannot be reached or did not answer: retrying later may help.
    pub fn is_unreachable(self) -> bool {
        matches!(
            self,
            FailureKind::Unavailable | FailureKind::TimedOut | FailureKind::DeadlineExceeded
        )
    }
}

/// How an upstream refused a request, in its own terms: the code, its reason and the fields it
/// named, by its own paths. Only the caller decides what its own caller sees of it (a refusal
/// of a value the caller was given may be that caller's to fix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The code it answered.
    pub code: Code,
    /// Its `ErrorInfo.reason`, when it gave one of the suite's.
    pub reason: Option<String>,
    /// Its message; when the status is not the suite's (a library made it), the suite's words
    /// for its code instead.
    pub message: String,
    /// Its `BadRequest` field violations, by its own field paths.
    pub violations: Vec<FieldViolation>,
}

impl Refusal {
    /// The refusal a status carries. A status without the suite's `ErrorInfo` was made by a
    /// library, not by the upstream: its text is not kept, only its code.
    pub fn of(status: &Status) -> Self {
        match suite_reason_of(status) {
            None => Self {
                code: status.code(),
                reason: None,
                message: unexpected_answer(status),
                violations: Vec::new(),
            },
            reason => Self {
                code: status.code(),
                reason,
                message: status.message().to_owned(),
                violations: field_violations_of(status),
            },
        }
    }

    /// Whether it refused the request as malformed, naming only the field `field` (by the
    /// upstream's path): the value the caller put there was refused.
    pub fn names_only(&self, field: &str) -> bool {
        self.code == Code::InvalidArgument
            && !self.violations.is_empty()
            && self.violations.iter().all(|v| v.field == field)
    }
}

/// What was wrong, without the upstream's field paths: they mean nothing to the caller's caller.
impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut descriptions = self.violations.iter().map(|v| v.description.as_str());
        let Some(first) = descriptions.next() else {
            return f.write_str(&self.message);
        };
        f.write_str(first)?;
        descriptions.try_for_each(|d| write!(f, "; {d}"))
    }
}

/// A failed call to an upstream, as its caller reports it: which upstream (`backend`, its name in
/// `ErrorInfo.metadata.backend`), the system in words (`system`, e.g. "the population
/// database"), what kind of failure it was, and what it answered, in the suite's words.
///
/// ```
/// use sandbox06_runtime::error::{FailureKind, UpstreamFailure, reason_of};
/// use tonic::{Code, Status};
///
/// let answered = Status::unavailable("tcp connect error: Connection refused (os error 111)");
/// let failure = UpstreamFailure::from_status("population-db", "the population database", &answered);
/// assert_eq!(failure.kind(), FailureKind::Unavailable);
/// let status: Status = failure.into();
/// assert_eq!(status.code(), Code::Unavailable);
/// assert_eq!(reason_of(&status).as_deref(), Some("UPSTREAM_UNAVAILABLE"));
/// assert_eq!(status.message(), "the population database cannot be reached; retry later");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct UpstreamFailure {
    backend: &'static str,
    system: &'static str,
    kind: FailureKind,
    /// What it answered, in the suite's words ([`FailureKind::NotFound`], `Unexpected`).
    answer: String,
    /// How it refused ([`FailureKind::Refused`]).
    refusal: Option<Box<Refusal>>,
}

impl UpstreamFailure {
    /// The failure of a call to `backend` (`system` in words) that ended with `status`. What the
    /// status says is logged (masked), except for a `NOT_FOUND`, which is an answer.
    pub fn from_status(backend: &'static str, system: &'static str, status: &Status) -> Self {
        let failure = Self::classify(backend, system, status);
        if failure.kind != FailureKind::NotFound {
            log_upstream_failure(backend, status);
        }
        failure
    }

    /// [`Self::from_status`] without logging, e.g. to say what the failure was again.
    pub fn classify(backend: &'static str, system: &'static str, status: &Status) -> Self {
        let kind = FailureKind::of(status.code());
        let (answer, refusal) = match kind {
            FailureKind::Refused => (String::new(), Some(Box::new(Refusal::of(status)))),
            FailureKind::NotFound | FailureKind::Unexpected => (unexpected_answer(status), None),
            _ => (String::new(), None),
        };
        Self {
            backend,
            system,
            kind,
            answer,
            refusal,
        }
    }

    /// The state store (`backend` [`STORE_BACKEND`]) failed: logged here (the store's backend,
    /// the operation and its message, masked), answered as unavailable in `system`'s words.
    pub fn store(system: &'static str, store: &str, operation: &str, message: &str) -> Self {
        tracing::warn!(
            backend = STORE_BACKEND,
            store,
            operation,
            error = %crate::mask::path(message),
            "the state store failed"
        );
        Self::unavailable(STORE_BACKEND, system)
    }

    /// `backend` cannot be reached (what failed is the caller's to log).
    pub fn unavailable(backend: &'static str, system: &'static str) -> Self {
        Self {
            backend,
            system,
            kind: FailureKind::Unavailable,
            answer: String::new(),
            refusal: None,
        }
    }

    /// `backend` refused the request as `refusal` says (what failed is the caller's to log).
    pub fn refused(backend: &'static str, system: &'static str, refusal: Refusal) -> Self {
        Self {
            backend,
            system,
            kind: FailureKind::Refused,
            answer: String::new(),
            refusal: Some(Box::new(refusal)),
        }
    }

    /// `backend` answered something the caller cannot use: `what`, in the suite's words, e.g.
    /// "it answered an authentication without an account". Logged.
    pub fn unexpected(
        backend: &'static str,
        system: &'static str,
        what: impl Into<String>,
    ) -> Self {
        let answer = what.into();
        tracing::warn!(backend, error = %crate::mask::path(&answer), "an upstream answered unexpectedly");
        Self {
            backend,
            system,
            kind: FailureKind::Unexpected,
            answer,
            refusal: None,
        }
    }

    /// What kind of failure it was.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// The upstream's name in `ErrorInfo.metadata.backend`.
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// The system, in words.
    pub fn system(&self) -> &'static str {
        self.system
    }

    /// How it refused, when it did.
    pub fn refusal(&self) -> Option<&Refusal> {
        self.refusal.as_deref()
    }

    /// The refusal, taken out of a [`FailureKind::Refused`] failure; the failure itself otherwise.
    pub fn into_refusal(self) -> Result<Refusal, Self> {
        match self.refusal {
            Some(refusal) => Ok(*refusal),
            None => Err(self),
        }
    }

    /// The reason the caller answers with.
    pub fn reason(&self) -> Reason {
        match self.kind {
            FailureKind::Unavailable | FailureKind::TimedOut => Reason::UpstreamUnavailable,
            FailureKind::DeadlineExceeded => Reason::DeadlineExceeded,
            FailureKind::Refused | FailureKind::NotFound | FailureKind::Unexpected => {
                Reason::UpstreamFailed
            }
        }
    }

    /// The message the caller answers with, naming the system.
    pub fn message(&self) -> String {
        let system = self.system;
        match self.kind {
            FailureKind::Unavailable => format!("{system} cannot be reached; retry later"),
            FailureKind::TimedOut => format!("{system} did not answer in time; retry later"),
            FailureKind::DeadlineExceeded => {
                format!("{system} did not answer within the call's deadline")
            }
            FailureKind::Refused => match &self.refusal {
                Some(refusal) => format!("{system} refused the request: {refusal}"),
                None => format!("{system} refused the request"),
            },
            FailureKind::NotFound | FailureKind::Unexpected => {
                format!("{system} failed: {}", self.answer)
            }
        }
    }

    /// The caller's error: [`Self::reason`], [`Self::message`] and `metadata.backend`.
    pub fn into_api_error(self) -> ApiError {
        ApiError::new(self.reason(), self.message()).with_metadata("backend", self.backend)
    }

    /// The caller's status.
    pub fn into_status(self) -> Status {
        self.into_api_error().into()
    }
}

impl From<UpstreamFailure> for ApiError {
    fn from(failure: UpstreamFailure) -> Self {
        failure.into_api_error()
    }
}

impl From<UpstreamFailure> for Status {
    fn from(failure: UpstreamFailure) -> Self {
        failure.into_status()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use tonic_types::StatusExt as _;

    use super::*;
    use crate::error::{ApiError, reason_of};

    const SYSTEM: &str = "the population database";

    /// The caller's code, reason, message and `metadata.backend` for an upstream's `status`.
    fn mapped(status: &Status) -> (Code, String, String, String) {
        let answered = UpstreamFailure::from_status("population-db", SYSTEM, status).into_status();
        let info = answered.get_details_error_info().unwrap();
        (
            answered.code(),
            info.reason,
            answered.message().to_owned(),
            info.metadata["backend"].clone(),
        )
    }

    #[test]
    fn each_code_of_an_upstream_maps_to_one_of_the_callers() {
        let unavailable = (
            Code::Unavailable,
            "UPSTREAM_UNAVAILABLE",
            "the population database cannot be reached; retry later",
        );
        let failed = |code: &str| {
            (
                Code::Internal,
                "UPSTREAM_FAILED",
                format!(
                    "the population database failed: it answered {code} without an error of the suite"
                ),
            )
        };
        let refused = (
            Code::Internal,
            "UPSTREAM_FAILED",
            "the population database refused the request: it answered INVALID_ARGUMENT without an error of the suite",
        );
        let table = [
            (Code::Unavailable, unavailable),
            (Code::Unknown, unavailable),
            (Code::Cancelled, unavailable),
            (
                Code::DeadlineExceeded,
                (
                    Code::Unavailable,
                    "UPSTREAM_UNAVAILABLE",
                    "the population database did not answer in time; retry later",
                ),
            ),
            (Code::InvalidArgument, refused),
        ];
        for (upstream, (code, reason, message)) in table {
            let status = Status::new(upstream, "tcp connect error: h2 protocol error");
            assert_eq!(
                mapped(&status),
                (code, reason.into(), message.into(), "population-db".into()),
                "{upstream:?}"
            );
        }
        for upstream in [Code::PermissionDenied, Code::Unauthenticated] {
            let (code, reason, message, backend) = mapped(&Status::new(upstream, "no"));
            assert_eq!((code, reason.as_str()), (Code::Internal, "UPSTREAM_FAILED"));
            assert!(
                message.starts_with("the population database refused the request: it answered ")
            );
            assert_eq!(backend, "population-db");
        }
        for upstream in [
            Code::NotFound,
            Code::Internal,
            Code::ResourceExhausted,
            Code::FailedPrecondition,
            Code::Unimplemented,
            Code::DataLoss,
            Code::AlreadyExists,
            Code::Aborted,
            Code::OutOfRange,
            Code::Ok,
        ] {
            let (code, reason, message) = failed(code_name(upstream));
            assert_eq!(
                mapped(&Status::new(upstream, "h2 protocol error")),
                (code, reason.into(), message, "population-db".into()),
                "{upstream:?}"
            );
        }
    }

    #[test]
    fn the_kind_of_each_code() {
        for (code, kind) in [
            (Code::Unavailable, FailureKind::Unavailable),
            (Code::Unknown, FailureKind::Unavailable),
            (Code::Cancelled, FailureKind::Unavailable),
            (Code::DeadlineExceeded, FailureKind::TimedOut),
            (Code::InvalidArgument, FailureKind::Refused),
            (Code::PermissionDenied, FailureKind::Refused),
            (Code::Unauthenticated, FailureKind::Refused),
            (Code::NotFound, FailureKind::NotFound),
            (Code::Internal, FailureKind::Unexpected),
            (Code::ResourceExhausted, FailureKind::Unexpected),
        ] {
            assert_eq!(FailureKind::of(code), kind, "{code:?}");
        }
        assert!(FailureKind::TimedOut.is_unreachable());
        assert!(!FailureKind::Refused.is_unreachable());
    }

    /// The kinds of a `DEADLINE_EXCEEDED` and a `CANCELLED`, and the status of a `CANCELLED`, as
    /// a handler served with a deadline of `limit` sees them.
    async fn within_a_call(limit: Duration) -> (FailureKind, FailureKind, Status) {
        use tower::{Service as _, ServiceExt as _};
        let (tx, rx) = std::sync::mpsc::channel();
        let mut layered = tower::Layer::layer(
            &crate::deadline::DeadlineLayer::new(limit),
            tower::service_fn(move |_: http::Request<()>| {
                let tx = tx.clone();
                async move {
                    let status = Status::cancelled("operation was canceled");
                    let failure =
                        UpstreamFailure::from_status("vneid", "the VNeID service", &status);
                    let _ = tx.send((
                        FailureKind::of(Code::DeadlineExceeded),
                        FailureKind::of(Code::Cancelled),
                        failure.into_status(),
                    ));
                    Ok::<_, std::convert::Infallible>(http::Response::new(()))
                }
            }),
        );
        let _ = layered
            .ready()
            .await
            .unwrap()
            .call(http::Request::new(()))
            .await;
        rx.recv().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_of_the_call_being_served_is_the_callers() {
        // Time left: the upstream inherited the call's deadline, a cancellation is a lost link.
        let (inherited, cancelled, status) = within_a_call(Duration::from_secs(10)).await;
        assert_eq!(inherited, FailureKind::DeadlineExceeded);
        assert_eq!(cancelled, FailureKind::Unavailable);
        assert_eq!(status.code(), Code::Unavailable);
        // No time left: the cancellation is the call's deadline.
        let (inherited, cancelled, status) = within_a_call(Duration::ZERO).await;
        assert_eq!(inherited, FailureKind::DeadlineExceeded);
        assert_eq!(cancelled, FailureKind::DeadlineExceeded);
        assert_eq!(status.code(), Code::DeadlineExceeded);
        assert_eq!(reason_of(&status).as_deref(), Some("DEADLINE_EXCEEDED"));
        assert_eq!(
            status.message(),
            "the VNeID service did not answer within the call's deadline"
        );
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.metadata["backend"], "vneid");
    }

    #[test]
    fn a_refusal_of_the_suite_keeps_its_words_not_its_paths() {
        let status: Status = ApiError::invalid_field(Reason::InvalidArgument, "view", "is unknown")
            .with_violation("citizen_id", "is retired")
            .into();
        let failure = UpstreamFailure::from_status("population-db", SYSTEM, &status);
        let refusal = failure.refusal().unwrap();
        assert_eq!(refusal.reason.as_deref(), Some("INVALID_ARGUMENT"));
        assert_eq!(refusal.to_string(), "is unknown; is retired");
        assert!(!refusal.names_only("citizen_id"));
        assert_eq!(
            failure.message(),
            "the population database refused the request: is unknown; is retired"
        );
        let only: Status =
            ApiError::invalid_field(Reason::InvalidArgument, "citizen_id", "is retired").into();
        let refusal = UpstreamFailure::from_status("population-db", SYSTEM, &only)
            .into_refusal()
            .unwrap();
        assert!(refusal.names_only("citizen_id"));
        // Not allowed is never the caller's field to fix.
        let denied = Refusal {
            code: Code::PermissionDenied,
            ..refusal
        };
        assert!(!denied.names_only("citizen_id"));
        let again = UpstreamFailure::refused("population-db", SYSTEM, denied);
        assert_eq!(again.kind(), FailureKind::Refused);
        assert_eq!(
            again.to_string(),
            "the population database refused the request: is retired"
        );
    }

    #[test]
    fn an_unreachable_store_and_an_unusable_answer_name_their_system() {
        let store = UpstreamFailure::unavailable("store", "VNeID's state store").into_status();
        assert_eq!(store.code(), Code::Unavailable);
        assert_eq!(
            store.message(),
            "VNeID's state store cannot be reached; retry later"
        );
        let odd = UpstreamFailure::unexpected(
            "vneid",
            "the VNeID service",
            "it answered an authentication without an account",
        );
        assert_eq!(odd.kind(), FailureKind::Unexpected);
        assert_eq!(
            odd.to_string(),
            "the VNeID service failed: it answered an authentication without an account"
        );
        assert_eq!(
            reason_of(&odd.into_status()).as_deref(),
            Some("UPSTREAM_FAILED")
        );
    }
}
