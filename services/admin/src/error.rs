//! The admin surface's own error reasons, and how a component's answer to a control call
//! becomes the admin's.

use sandbox06_runtime::ErrorReason;
use sandbox06_runtime::error::UpstreamFailure;
use tonic::{Code, Status};

/// Why an admin call failed, beyond the generic reasons of the runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AdminReason {
    /// The operator turned the admin surface off.
    AdminDisabled,
    /// No snapshot has the name, in every stateful component (a restore).
    SnapshotNotFound,
    /// A caller naming a tenant asked to move the clock every tenant shares.
    ClockShared,
}

/// Every reason the admin surface owns, in documentation order.
pub const REASONS: &[AdminReason] = &[
    AdminReason::AdminDisabled,
    AdminReason::SnapshotNotFound,
    AdminReason::ClockShared,
];

impl ErrorReason for AdminReason {
    fn as_str(&self) -> &'static str {
        match self {
            AdminReason::AdminDisabled => "ADMIN_DISABLED",
            AdminReason::SnapshotNotFound => "SNAPSHOT_NOT_FOUND",
            AdminReason::ClockShared => "CLOCK_SHARED",
        }
    }

    fn code(&self) -> Code {
        match self {
            AdminReason::AdminDisabled => Code::PermissionDenied,
            AdminReason::SnapshotNotFound => Code::NotFound,
            AdminReason::ClockShared => Code::FailedPrecondition,
        }
    }

    fn when(&self) -> &'static str {
        match self {
            AdminReason::AdminDisabled => {
                "The operator turned the admin surface off (`admin.access = \"off\"`): faults, reset, snapshots, the journal, finding citizens, life events, unlocks and share codes are refused."
            }
            AdminReason::SnapshotNotFound => {
                "No snapshot has the name in every stateful component (`RestoreSnapshot`); `ListSnapshots` lists the saved ones."
            }
            AdminReason::ClockShared => {
                "A call naming a tenant (`x-sandbox06-tenant`) asked to set, advance or reset the suite's clock, which every tenant shares: only a call without a tenant moves it. Reading it (`GetClock`) is open to all."
            }
        }
    }
}

/// The admin's answer when `component` answered a control call with `status`.
///
/// What the caller asked of the component is the caller's: a refusal of it (a bad rule, an
/// unknown snapshot, a rule already gone) is passed on as the component gave it, reason and
/// fields included. A component that cannot be reached or fails is reported through the one
/// mapping of upstream failures, naming the component.
pub fn from_component(component: &'static str, status: Status) -> Status {
    match status.code() {
        Code::InvalidArgument
        | Code::NotFound
        | Code::FailedPrecondition
        | Code::AlreadyExists
        | Code::OutOfRange
        | Code::ResourceExhausted
        | Code::PermissionDenied => status,
        _ => UpstreamFailure::from_status(component, component, &status).into(),
    }
}
