//! The VNeID mock's own error reasons, the failures of its logic, and their one mapping to
//! the suite's error model.

use sandbox06_runtime::{ApiError, ErrorReason, Reason, ReasonCode, mask};
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
}

/// Every reason the VNeID mock owns, in documentation order.
pub const REASONS: &[VneidReason] = &[
    VneidReason::InvalidCitizenId,
    VneidReason::AccountNotFound,
    VneidReason::WrongCredentials,
    VneidReason::AccountLocked,
    VneidReason::AccountClosed,
    VneidReason::ApprovalRejected,
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
        }
    }

    fn code(&self) -> Code {
        match self {
            VneidReason::InvalidCitizenId => Code::InvalidArgument,
            VneidReason::AccountNotFound => Code::NotFound,
            VneidReason::WrongCredentials | VneidReason::ApprovalRejected => Code::PermissionDenied,
            VneidReason::AccountLocked | VneidReason::AccountClosed => Code::FailedPrecondition,
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
    /// No method was given.
    #[error("one of password, one_time_code or app_approval is required")]
    MethodMissing,
    /// The population database did not answer.
    #[error("population database unavailable: {0}")]
    Population(Status),
    /// The account states cannot be read or written.
    #[error("account states unavailable: {0}")]
    Store(#[from] StoreError),
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
            e @ VneidError::MethodMissing => {
                ApiError::invalid_field(Reason::InvalidArgument, "method", e.to_string())
            }
            e @ VneidError::Population(_) => {
                ApiError::new(Reason::UpstreamUnavailable, e.to_string())
                    .with_metadata("upstream", "population-db")
            }
            e @ VneidError::Store(_) => ApiError::new(Reason::UpstreamUnavailable, e.to_string())
                .with_metadata("backend", "store"),
        }
    }
}

impl From<VneidError> for Status {
    fn from(e: VneidError) -> Self {
        ApiError::from(e).into()
    }
}
