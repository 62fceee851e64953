//! What a fault does to a call, once validated, whether a rule or the call's header asked for
//! it; and how a status fault finds its reason among the component's own.

use std::time::Duration;

use tonic::Code;

use crate::error::{ApiError, ErrorReason, REASONS, ReasonCode, code_name};

/// How long a latency fault delays a call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Delay {
    /// Always this long.
    Fixed(Duration),
    /// Uniformly between two bounds.
    Uniform(Duration, Duration),
    /// Normally around a mean (mean, deviation).
    Normal(Duration, Duration),
}

impl Delay {
    /// One draw.
    pub(crate) fn draw(&self) -> Duration {
        match *self {
            Delay::Fixed(delay) => delay,
            Delay::Uniform(min, max) => super::random::uniform(min, max),
            Delay::Normal(mean, stddev) => super::random::normal(mean, stddev),
        }
    }
}

/// How a fault ends a call instead of its handler.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Ending {
    /// An error in the component's own shape (the `fault_rule` metadata is added when applied).
    Status(ApiError),
    /// A reset stream.
    Drop,
    /// UNAVAILABLE without details, as an unreachable server.
    Down,
}

/// One fault.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Action {
    /// Delays the call.
    Delay(Delay),
    /// Ends it.
    End(Ending),
}

/// The reason of a status fault for a code no reason of the component or of the runtime is
/// returned with: the code's own name (`ALREADY_EXISTS`), as an unexpected failure would read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CodeReason(pub(crate) Code);

impl ErrorReason for CodeReason {
    fn as_str(&self) -> &'static str {
        code_name(self.0)
    }

    fn code(&self) -> Code {
        self.0
    }

    fn when(&self) -> &'static str {
        "A fault rule asked for this code, and no reason of the component is returned with it."
    }
}

/// Which part of a status fault is wrong.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReasonError {
    /// The code (zero without a reason, out of range, or not the reason's).
    Code(String),
    /// The reason is not one the component owns.
    Reason(String),
}

/// The reasons a component's faults may name: its own, then the runtime's generic ones.
#[derive(Clone, Debug)]
pub(crate) struct Reasons {
    own: Vec<ReasonCode>,
}

impl Reasons {
    pub(crate) fn new(own: Vec<ReasonCode>) -> Self {
        Self { own }
    }

    fn all(&self) -> impl Iterator<Item = ReasonCode> + '_ {
        self.own
            .iter()
            .copied()
            .chain(REASONS.iter().map(|&reason| ReasonCode::from(reason)))
    }

    /// The reason of a status fault: `reason` when given (its code must be `code`'s when that
    /// is given too), else the component's first reason returned with `code`, else the
    /// runtime's, else the code's name.
    pub(crate) fn resolve(
        &self,
        component: &str,
        code: Option<Code>,
        reason: Option<&str>,
    ) -> Result<ReasonCode, ReasonError> {
        match reason {
            Some(name) => {
                let found = self
                    .all()
                    .find(|candidate| candidate.as_str() == name)
                    .ok_or_else(|| {
                        let own: Vec<&str> = self.own.iter().map(|r| r.as_str()).collect();
                        ReasonError::Reason(format!(
                            "{} is not a reason of {component}: one of its own ({}) or a generic one (docs/ERRORS.md)",
                            crate::error::quote(name),
                            if own.is_empty() {
                                "none".to_owned()
                            } else {
                                own.join(", ")
                            }
                        ))
                    })?;
                match code {
                    Some(code) if code != found.code() => Err(ReasonError::Code(format!(
                        "{} is returned with {}, not {}; give that code or none",
                        found.as_str(),
                        code_name(found.code()),
                        code_name(code)
                    ))),
                    _ => Ok(found),
                }
            }
            None => {
                let code = code.ok_or_else(|| {
                    ReasonError::Code("required (1 to 16) when no reason is given".to_owned())
                })?;
                Ok(self
                    .all()
                    .find(|candidate| candidate.code() == code)
                    .unwrap_or_else(|| CodeReason(code).into()))
            }
        }
    }
}

/// The gRPC code numbered `number`, when it is one a fault may answer with (not OK).
pub(crate) fn error_code(number: i32) -> Option<Code> {
    (1..=16).contains(&number).then(|| Code::from_i32(number))
}

/// The gRPC code named `name` (`unavailable`, `NOT_FOUND`, `deadline-exceeded`), not OK.
pub(crate) fn code_named(name: &str) -> Option<Code> {
    let wanted = name.to_ascii_uppercase().replace('-', "_");
    (1..=16)
        .map(Code::from_i32)
        .find(|&code| code_name(code) == wanted)
}

/// The message of a status fault that gives none.
pub(crate) fn default_message(reason: ReasonCode) -> String {
    format!(
        "{} injected by a fault rule of the sandbox",
        reason.as_str().to_ascii_lowercase().replace('_', " ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Reason;

    #[derive(Clone, Copy, Debug)]
    struct Own;

    impl ErrorReason for Own {
        fn as_str(&self) -> &'static str {
            "CITIZEN_NOT_FOUND"
        }
        fn code(&self) -> Code {
            Code::NotFound
        }
        fn when(&self) -> &'static str {
            "In a test."
        }
    }

    #[test]
    fn a_reason_is_found_among_the_components_then_the_runtimes() {
        let reasons = Reasons::new(vec![Own.into()]);
        let found = reasons.resolve("db", None, Some("CITIZEN_NOT_FOUND"));
        assert_eq!(found, Ok(Own.into()));
        assert_eq!(
            reasons.resolve("db", Some(Code::NotFound), None),
            Ok(Own.into())
        );
        assert_eq!(
            reasons.resolve("db", Some(Code::Unavailable), None),
            Ok(Reason::UpstreamUnavailable.into())
        );
        let odd = reasons.resolve("db", Some(Code::AlreadyExists), None);
        assert_eq!(odd.map(|r| r.as_str()), Ok("ALREADY_EXISTS"));
        assert!(matches!(
            reasons.resolve("db", None, Some("SHOP_CLOSED")),
            Err(ReasonError::Reason(_))
        ));
        assert!(matches!(
            reasons.resolve("db", Some(Code::Internal), Some("CITIZEN_NOT_FOUND")),
            Err(ReasonError::Code(_))
        ));
        assert!(matches!(
            reasons.resolve("db", None, None),
            Err(ReasonError::Code(_))
        ));
    }

    #[test]
    fn codes_are_named_as_grpc_names_them() {
        assert_eq!(code_named("unavailable"), Some(Code::Unavailable));
        assert_eq!(
            code_named("deadline-exceeded"),
            Some(Code::DeadlineExceeded)
        );
        assert_eq!(code_named("NOT_FOUND"), Some(Code::NotFound));
        assert_eq!(code_named("ok"), None);
        assert_eq!(error_code(0), None);
        assert_eq!(error_code(14), Some(Code::Unavailable));
        assert_eq!(error_code(17), None);
    }
}
