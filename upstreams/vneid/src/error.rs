//! The VNeID mock's own error reasons, the failures of its logic, and their one mapping to
//! the suite's error model.

use sandbox06_runtime::{ApiError, ErrorReason, Reason, ReasonCode, error::UpstreamFailure, mask};
use sandbox06_store::StoreError;
use sandbox06_vn::{FieldError, FieldErrorKind};
use tonic::{Code, Status};

/// Why a VNeID call failed, beyond the generic reasons of the runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VneidReason {
    /// A personal ID number is not 12 digits or has an unknown province prefix.
    InvalidCitizenId,
    /// No VNeID account has this number.
    AccountNotFound,
    /// The password or the one-time code is wrong.
    WrongCredentials,
    /// The account is locked after too many wrong passwords or codes.
    AccountLocked,
    /// The account is closed: its holder's death is recorded.
    AccountClosed,
    /// The holder rejected the approval in the app.
    ApprovalRejected,
    /// A share code is not one of this mock's, or its signature does not verify.
    ShareCodeInvalid,
    /// A share code's time is up.
    ShareCodeExpired,
    /// A share code was redeemed before.
    ShareCodeUsed,
    /// A share code was issued for another facility.
    ShareCodeOtherFacility,
    /// No consent matches.
    ConsentNotFound,
}

/// Every reason the VNeID mock owns, in documentation order.
pub const REASONS: &[VneidReason] = &[
    VneidReason::InvalidCitizenId,
    VneidReason::AccountNotFound,
    VneidReason::WrongCredentials,
    VneidReason::AccountLocked,
    VneidReason::AccountClosed,
    VneidReason::ApprovalRejected,
    VneidReason::ShareCodeInvalid,
    VneidReason::ShareCodeExpired,
    VneidReason::ShareCodeUsed,
    VneidReason::ShareCodeOtherFacility,
    VneidReason::ConsentNotFound,
];

impl ErrorReason for VneidReason {
    fn as_str(&self) -> &'static str {
        match self {
            VneidReason::InvalidCitizenId => "INVALID_CITIZEN_ID",
            VneidReason::AccountNotFound => "ACCOUNT_NOT_FOUND",
            VneidReason::WrongCredentials => "WRONG_CREDENTIALS",
            VneidReason::AccountLocked => "ACCOUNT_LOCKED",
            VneidReason::AccountClosed => "ACCOUNT_CLOSED",
            VneidReason::ApprovalRejected => "APPROVAL_REJECTED",
            VneidReason::ShareCodeInvalid => "SHARE_CODE_INVALID",
            VneidReason::ShareCodeExpired => "SHARE_CODE_EXPIRED",
            VneidReason::ShareCodeUsed => "SHARE_CODE_USED",
            VneidReason::ShareCodeOtherFacility => "SHARE_CODE_OTHER_FACILITY",
            VneidReason::ConsentNotFound => "CONSENT_NOT_FOUND",
        }
    }

    fn code(&self) -> Code {
        match self {
            VneidReason::InvalidCitizenId | VneidReason::ShareCodeInvalid => Code::InvalidArgument,
            VneidReason::AccountNotFound | VneidReason::ConsentNotFound => Code::NotFound,
            VneidReason::WrongCredentials
            | VneidReason::ApprovalRejected
            | VneidReason::ShareCodeOtherFacility => Code::PermissionDenied,
            VneidReason::AccountLocked
            | VneidReason::AccountClosed
            | VneidReason::ShareCodeExpired
            | VneidReason::ShareCodeUsed => Code::FailedPrecondition,
        }
    }

    fn when(&self) -> &'static str {
        match self {
            VneidReason::InvalidCitizenId => {
                "The account number (a personal ID number) is not 12 digits or has an unknown province prefix."
            }
            VneidReason::AccountNotFound => {
                "No VNeID account has this number: no citizen has it, or the citizen has no account (under 14, no chip card, or never registered); `metadata.citizen_id` names it, masked."
            }
            VneidReason::WrongCredentials => {
                "The password or one-time code is wrong; `metadata.attempts_left` says how many more wrong ones lock the account."
            }
            VneidReason::AccountLocked => {
                "The account is locked after 5 wrong passwords or codes (or is the `vneid-locked` persona); UnlockAccount unlocks it."
            }
            VneidReason::AccountClosed => {
                "The holder's death is recorded on the population database: the account is closed."
            }
            VneidReason::ApprovalRejected => {
                "The holder rejected the approval in the app (the `vneid-app-rejects` persona always does)."
            }
            VneidReason::ShareCodeInvalid => {
                "The share code is not one of this VNeID mock's: not a compact JWS, its signature does not verify, or another issuer made it."
            }
            VneidReason::ShareCodeExpired => {
                "The share code's time is up on the suite's clock (`metadata.expire_time`); the holder shows a new one."
            }
            VneidReason::ShareCodeUsed => {
                "The share code was redeemed before: a code is redeemed once (a redemption with `validate_only` does not count)."
            }
            VneidReason::ShareCodeOtherFacility => {
                "The share code was issued for another facility than the one redeeming it."
            }
            VneidReason::ConsentNotFound => {
                "The holder has no consent with this id (WithdrawConsent), or none in force today for this recipient, data service and purpose (CheckConsent)."
            }
        }
    }
}

/// The message of [`VneidError::NotFound`].
const NOT_FOUND: &str = "no VNeID account has this number";

/// Why the VNeID mock could not answer: what its logic returns.
#[derive(Debug, thiserror::Error)]
pub enum VneidError {
    /// A request field is malformed.
    #[error(transparent)]
    Field(#[from] FieldError),
    /// No account has the number.
    #[error("{NOT_FOUND}")]
    NotFound {
        /// The number, masked: the error may be logged.
        masked_citizen_id: String,
    },
    /// A wrong password or code.
    #[error("wrong {what}; {attempts_left} more wrong attempts lock the account")]
    WrongCredentials {
        /// "password" or "one-time code".
        what: &'static str,
        /// Wrong attempts left before the account locks.
        attempts_left: u32,
    },
    /// The account is locked.
    #[error("the account is locked after too many wrong passwords or codes; unlock it first")]
    Locked,
    /// The account is closed.
    #[error("the account is closed: its holder's death is recorded")]
    Closed,
    /// The holder rejected the approval.
    #[error("the holder rejected the approval in the VNeID app")]
    ApprovalRejected,
    /// A share code is not one of this mock's; what was wrong is logged, never answered.
    #[error(
        "the share code is not a share code of this VNeID mock, or its signature does not verify"
    )]
    ShareCodeInvalid,
    /// A share code's time is up.
    #[error("the share code expired at {expire_time}; the holder shows a new one")]
    ShareCodeExpired {
        /// When it expired, RFC 3339.
        expire_time: String,
    },
    /// A share code was redeemed before.
    #[error("the share code was redeemed before; a share code is redeemed once")]
    ShareCodeUsed,
    /// A share code was issued for another facility.
    #[error("the share code was issued for another facility")]
    ShareCodeOtherFacility,
    /// No consent matches.
    #[error("{0}")]
    ConsentNotFound(String),
    /// The share codes' signing key cannot be made or read: what failed is logged, never
    /// answered.
    #[error("VNeID's share code key is not usable; retry later")]
    ShareKey(String),
    /// No method was given.
    #[error("one of password, one_time_code or app_approval is required")]
    MethodMissing,
    /// The population database did not answer as expected: what it (or the transport to it)
    /// said is logged, never answered; the text is the suite's own.
    #[error("{}", UpstreamFailure::classify(POPULATION_DB, POPULATION_DB_SYSTEM, .0))]
    Population(Status),
    /// The account states cannot be read or written: what the store said is logged, never
    /// answered.
    #[error("VNeID's state store (the account states) cannot be reached; retry later")]
    Store(#[from] StoreError),
}

/// The population database's name in `ErrorInfo.metadata.backend`.
const POPULATION_DB: &str = "population-db";

/// The population database, in words.
const POPULATION_DB_SYSTEM: &str = "the population database";

/// The state store, in words.
const STORE_SYSTEM: &str = "VNeID's state store (the account states)";

/// A failed call to the population database, as the runtime maps it.
fn population_failure(status: &Status) -> UpstreamFailure {
    UpstreamFailure::from_status(POPULATION_DB, POPULATION_DB_SYSTEM, status)
}

impl VneidError {
    /// No account has `citizen_id` (as the caller sent it).
    pub fn not_found(citizen_id: &str) -> Self {
        Self::NotFound {
            masked_citizen_id: mask::citizen_id(citizen_id),
        }
    }
}

fn field_reason(kind: FieldErrorKind) -> ReasonCode {
    match kind {
        FieldErrorKind::CitizenId => VneidReason::InvalidCitizenId.into(),
        _ => Reason::InvalidArgument.into(),
    }
}

impl From<VneidError> for ApiError {
    fn from(e: VneidError) -> Self {
        match e {
            VneidError::Field(e) => {
                ApiError::invalid_field(field_reason(e.kind), e.field, e.description)
            }
            VneidError::NotFound { masked_citizen_id } => {
                ApiError::new(VneidReason::AccountNotFound, NOT_FOUND)
                    .with_metadata("citizen_id", masked_citizen_id)
            }
            e @ VneidError::WrongCredentials {
                attempts_left,
                what,
            } => {
                let field = if what == "password" {
                    "password"
                } else {
                    "one_time_code"
                };
                ApiError::new(VneidReason::WrongCredentials, e.to_string())
                    .with_violation(field, e.to_string())
                    .with_metadata("attempts_left", attempts_left.to_string())
            }
            e @ VneidError::Locked => ApiError::new(VneidReason::AccountLocked, e.to_string()),
            e @ VneidError::Closed => ApiError::new(VneidReason::AccountClosed, e.to_string()),
            e @ VneidError::ApprovalRejected => {
                ApiError::new(VneidReason::ApprovalRejected, e.to_string())
            }
            e @ VneidError::ShareCodeInvalid => {
                ApiError::invalid_field(VneidReason::ShareCodeInvalid, "share_code", e.to_string())
            }
            VneidError::ShareCodeExpired { expire_time } => {
                let message = VneidError::ShareCodeExpired {
                    expire_time: expire_time.clone(),
                }
                .to_string();
                ApiError::new(VneidReason::ShareCodeExpired, message)
                    .with_metadata("expire_time", expire_time)
            }
            e @ VneidError::ShareCodeUsed => {
                ApiError::new(VneidReason::ShareCodeUsed, e.to_string())
            }
            e @ VneidError::ShareCodeOtherFacility => {
                ApiError::new(VneidReason::ShareCodeOtherFacility, e.to_string())
                    .with_violation("facility", e.to_string())
            }
            e @ VneidError::ShareKey(_) => ApiError::new(Reason::Internal, e.to_string()),
            VneidError::ConsentNotFound(message) => {
                ApiError::new(VneidReason::ConsentNotFound, message)
            }
            e @ VneidError::MethodMissing => {
                ApiError::invalid_field(Reason::InvalidArgument, "method", e.to_string())
            }
            VneidError::Population(status) => population_failure(&status).into(),
            VneidError::Store(error) => error.into_api_error(STORE_SYSTEM),
        }
    }
}

impl From<VneidError> for Status {
    fn from(e: VneidError) -> Self {
        ApiError::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use sandbox06_runtime::error::reason_of;
    use tonic_types::StatusExt as _;

    use super::*;

    /// The `metadata.backend` of a status.
    fn backend(status: &Status) -> Option<String> {
        status
            .get_details_error_info()
            .and_then(|info| info.metadata.get("backend").cloned())
    }

    #[test]
    fn an_unreachable_population_database_is_named_in_the_suites_words() {
        for transport in [
            Status::unavailable("tcp connect error"),
            Status::unknown("transport error: h2 protocol error"),
            Status::deadline_exceeded("Timeout expired"),
        ] {
            let status = Status::from(VneidError::Population(transport));
            assert_eq!(status.code(), Code::Unavailable, "{status:?}");
            assert_eq!(reason_of(&status).as_deref(), Some("UPSTREAM_UNAVAILABLE"));
            assert!(status.message().ends_with("; retry later"), "{status:?}");
            for library in ["tcp connect", "transport", "h2", "Timeout"] {
                assert!(!status.message().contains(library), "{status:?}");
            }
            assert_eq!(backend(&status).as_deref(), Some(POPULATION_DB));
        }
    }

    #[test]
    fn an_unexpected_answer_of_the_population_database_is_named_by_its_code() {
        let status = Status::from(VneidError::Population(Status::internal(
            "h2 protocol error: frame too large",
        )));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(reason_of(&status).as_deref(), Some("UPSTREAM_FAILED"));
        assert_eq!(
            status.message(),
            "the population database failed: it answered INTERNAL without an error of the suite"
        );
        assert_eq!(backend(&status).as_deref(), Some(POPULATION_DB));

        let own: Status = ApiError::new(VneidReason::AccountClosed, "its own words").into();
        let status = Status::from(VneidError::Population(own));
        assert_eq!(
            status.message(),
            "the population database failed: it answered FAILED_PRECONDITION, reason ACCOUNT_CLOSED"
        );
    }

    #[test]
    fn a_failing_store_is_named_in_the_suites_words() {
        let status = Status::from(VneidError::from(StoreError::new(
            "redis",
            "list",
            "Connection refused (os error 111)",
        )));
        assert_eq!(status.code(), Code::Unavailable);
        assert_eq!(reason_of(&status).as_deref(), Some("UPSTREAM_UNAVAILABLE"));
        assert_eq!(
            status.message(),
            "VNeID's state store (the account states) cannot be reached; retry later"
        );
        assert_eq!(
            backend(&status).as_deref(),
            Some(sandbox06_runtime::error::STORE_BACKEND)
        );
    }
}
