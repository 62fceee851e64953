//! The lodging service's own error reasons, the failures of its logic, and their one mapping to
//! the suite's error model.

use sandbox06_runtime::{ApiError, ErrorReason, Reason, error::UpstreamFailure};
use sandbox06_store::StoreError;
use tonic::{Code, Status};

/// Why a lodging call failed, beyond the generic reasons of the runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LodgingReason {
    /// The caller is not bound to the facility.
    FacilityNotPermitted,
    /// No facility has the id.
    FacilityNotFound,
    /// The facility has no declaration with the id.
    DeclarationNotFound,
    /// The declaration id is taken.
    DeclarationExists,
    /// The request id was used with another request.
    RequestIdReused,
    /// The declaration is checked out or cancelled.
    DeclarationClosed,
    /// The declaration changed since its etag was read.
    EtagMismatch,
    /// A guest id is not one of the declaration's staying guests.
    GuestNotFound,
    /// The event to resume after is no longer kept.
    EventNotFound,
    /// A share code is not a VNeID code.
    ShareCodeInvalid,
    /// A share code expired.
    ShareCodeExpired,
    /// A share code was redeemed before.
    ShareCodeUsed,
    /// A share code was issued for another facility.
    ShareCodeOtherFacility,
}

/// Every reason the lodging service owns, in documentation order.
pub const REASONS: &[LodgingReason] = &[
    LodgingReason::FacilityNotPermitted,
    LodgingReason::FacilityNotFound,
    LodgingReason::DeclarationNotFound,
    LodgingReason::DeclarationExists,
    LodgingReason::RequestIdReused,
    LodgingReason::DeclarationClosed,
    LodgingReason::EtagMismatch,
    LodgingReason::GuestNotFound,
    LodgingReason::EventNotFound,
    LodgingReason::ShareCodeInvalid,
    LodgingReason::ShareCodeExpired,
    LodgingReason::ShareCodeUsed,
    LodgingReason::ShareCodeOtherFacility,
];

impl LodgingReason {
    /// The reason of a VNeID refusal of a share code, by its `ErrorInfo.reason`.
    pub(crate) fn of_share_code(reason: &str) -> Option<Self> {
        [
            LodgingReason::ShareCodeInvalid,
            LodgingReason::ShareCodeExpired,
            LodgingReason::ShareCodeUsed,
            LodgingReason::ShareCodeOtherFacility,
        ]
        .into_iter()
        .find(|r| r.as_str() == reason)
    }
}

impl ErrorReason for LodgingReason {
    fn as_str(&self) -> &'static str {
        match self {
            LodgingReason::FacilityNotPermitted => "FACILITY_NOT_PERMITTED",
            LodgingReason::FacilityNotFound => "FACILITY_NOT_FOUND",
            LodgingReason::DeclarationNotFound => "DECLARATION_NOT_FOUND",
            LodgingReason::DeclarationExists => "DECLARATION_EXISTS",
            LodgingReason::RequestIdReused => "REQUEST_ID_REUSED",
            LodgingReason::DeclarationClosed => "DECLARATION_CLOSED",
            LodgingReason::EtagMismatch => "ETAG_MISMATCH",
            LodgingReason::GuestNotFound => "GUEST_NOT_FOUND",
            LodgingReason::EventNotFound => "EVENT_NOT_FOUND",
            LodgingReason::ShareCodeInvalid => "SHARE_CODE_INVALID",
            LodgingReason::ShareCodeExpired => "SHARE_CODE_EXPIRED",
            LodgingReason::ShareCodeUsed => "SHARE_CODE_USED",
            LodgingReason::ShareCodeOtherFacility => "SHARE_CODE_OTHER_FACILITY",
        }
    }

    fn code(&self) -> Code {
        match self {
            LodgingReason::FacilityNotPermitted | LodgingReason::ShareCodeOtherFacility => {
                Code::PermissionDenied
            }
            LodgingReason::FacilityNotFound
            | LodgingReason::DeclarationNotFound
            | LodgingReason::GuestNotFound => Code::NotFound,
            LodgingReason::DeclarationExists | LodgingReason::RequestIdReused => {
                Code::AlreadyExists
            }
            LodgingReason::DeclarationClosed
            | LodgingReason::ShareCodeExpired
            | LodgingReason::ShareCodeUsed => Code::FailedPrecondition,
            LodgingReason::EtagMismatch => Code::Aborted,
            LodgingReason::EventNotFound => Code::OutOfRange,
            LodgingReason::ShareCodeInvalid => Code::InvalidArgument,
        }
    }

    fn when(&self) -> &'static str {
        match self {
            LodgingReason::FacilityNotPermitted => {
                "The caller's client is not bound to the facility (`metadata.facility_id`), whether or not the facility exists: a facility sees only its own declarations. The facilities a client may declare for are listed by `ListFacilities`."
            }
            LodgingReason::FacilityNotFound => {
                "No facility has the id (`metadata.facility_id`); said only to a caller bound to every facility (the admin client, or any caller while the edge enforces no tokens)."
            }
            LodgingReason::DeclarationNotFound => {
                "The facility has no declaration with the id (`metadata.declaration_id`)."
            }
            LodgingReason::DeclarationExists => {
                "`declaration_id` is taken by another declaration of the facility. A retry of the same create carries the same `request_id` and answers the first declaration instead."
            }
            LodgingReason::RequestIdReused => {
                "The `request_id` was used before (within 24 hours on the suite's clock) with another request: a new request needs a new key."
            }
            LodgingReason::DeclarationClosed => {
                "The declaration is checked out or cancelled (`metadata.state`): it can no longer be amended, checked out or cancelled."
            }
            LodgingReason::EtagMismatch => {
                "The declaration changed since the `etag` sent was read: read it again, then amend."
            }
            LodgingReason::GuestNotFound => {
                "A `guest_ids` entry names no guest of the declaration still staying (`metadata.guest_id`)."
            }
            LodgingReason::EventNotFound => {
                "`start_after_event_id` is no longer kept (or never was): list the declarations again, then watch from now."
            }
            LodgingReason::ShareCodeInvalid => {
                "A guest's `vneid_share.share_code` is not a VNeID share code, or its signature is not VNeID's (`metadata.guest` is the guest's index)."
            }
            LodgingReason::ShareCodeExpired => {
                "A guest's share code expired (on the suite's clock): the citizen shows a new one (`metadata.guest`)."
            }
            LodgingReason::ShareCodeUsed => {
                "A guest's share code was redeemed before: each code is good once (`metadata.guest`)."
            }
            LodgingReason::ShareCodeOtherFacility => {
                "A guest's share code was issued for another facility (`metadata.guest`)."
            }
        }
    }
}

/// One bad field of a request: its path and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadField {
    /// The field's path in the request, e.g. `declaration.guests[0].citizen.citizen_id`.
    pub field: String,
    /// What is wrong and how to fix it.
    pub description: String,
}

impl BadField {
    /// A bad `field`.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// Why a lodging call failed: what its logic returns.
#[derive(Debug, thiserror::Error)]
pub enum LodgingError {
    /// One or more request fields are missing or malformed: every one found.
    #[error("{}", invalid_message(.0))]
    Invalid(Vec<BadField>),
    /// The caller is not bound to the facility.
    #[error("the caller is not bound to facility {facility_id:?}")]
    NotPermitted {
        /// The facility id asked for.
        facility_id: String,
    },
    /// No facility has the id.
    #[error("no facility has the id {facility_id:?}")]
    FacilityNotFound {
        /// The facility id asked for.
        facility_id: String,
    },
    /// The facility has no such declaration.
    #[error("the facility has no declaration {declaration_id:?}")]
    DeclarationNotFound {
        /// The declaration id asked for.
        declaration_id: String,
    },
    /// The declaration id is taken.
    #[error(
        "the facility has a declaration {declaration_id:?} already; a retry of the same create carries the same request_id"
    )]
    DeclarationExists {
        /// The declaration id.
        declaration_id: String,
    },
    /// The request id was used with another request.
    #[error("request_id was used before with another request; a new request needs a new key")]
    RequestIdReused,
    /// The declaration is closed.
    #[error("the declaration is {state} and can no longer change")]
    Closed {
        /// "checked out" or "cancelled".
        state: &'static str,
    },
    /// The etag is not the declaration's.
    #[error("the declaration changed since this etag was read; read it again, then amend")]
    EtagMismatch,
    /// A guest id is not of a staying guest.
    #[error("guest {guest_id:?} is not a guest of this declaration still staying")]
    GuestNotFound {
        /// The guest id.
        guest_id: String,
    },
    /// The event to resume after is not kept.
    #[error(
        "event {event_id} is no longer kept (or never was); list the declarations again, then watch from now"
    )]
    EventNotFound {
        /// The event id asked for.
        event_id: String,
    },
    /// VNeID refused a guest's share code.
    #[error("declaration.guests[{guest}].vneid_share.share_code: {message}")]
    ShareCode {
        /// Which refusal.
        reason: LodgingReason,
        /// The guest's index.
        guest: usize,
        /// VNeID's words.
        message: String,
    },
    /// An upstream (the citizen service, VNeID) failed.
    #[error(transparent)]
    Upstream(#[from] UpstreamFailure),
    /// The declarations cannot be read or written.
    #[error("{STORE_SYSTEM} cannot be reached; retry later")]
    Store(#[from] StoreError),
    /// Refused as the runtime refuses it (a malformed tenant).
    #[error("{0}")]
    Refused(ApiError),
}

fn invalid_message(fields: &[BadField]) -> String {
    match fields {
        [] => "the request is invalid".to_owned(),
        [one] => format!("{}: {}", one.field, one.description),
        [first, rest @ ..] => format!(
            "{}: {} (and {} more bad fields)",
            first.field,
            first.description,
            rest.len()
        ),
    }
}

/// The state store, in words.
pub(crate) const STORE_SYSTEM: &str = "the lodging service's state store (the declarations)";

impl From<LodgingError> for ApiError {
    fn from(e: LodgingError) -> Self {
        let message = e.to_string();
        match e {
            LodgingError::Invalid(fields) => fields.into_iter().fold(
                ApiError::new(Reason::InvalidArgument, message),
                |error, f| error.with_violation(f.field, f.description),
            ),
            LodgingError::NotPermitted { facility_id } => {
                ApiError::new(LodgingReason::FacilityNotPermitted, message)
                    .with_metadata("facility_id", facility_id)
            }
            LodgingError::FacilityNotFound { facility_id } => {
                ApiError::new(LodgingReason::FacilityNotFound, message)
                    .with_metadata("facility_id", facility_id)
            }
            LodgingError::DeclarationNotFound { declaration_id } => {
                ApiError::new(LodgingReason::DeclarationNotFound, message)
                    .with_metadata("declaration_id", declaration_id)
            }
            LodgingError::DeclarationExists { declaration_id } => {
                ApiError::new(LodgingReason::DeclarationExists, message)
                    .with_metadata("declaration_id", declaration_id)
            }
            LodgingError::RequestIdReused => ApiError::new(LodgingReason::RequestIdReused, message)
                .with_violation("request_id", "used before with another request"),
            LodgingError::Closed { state } => {
                ApiError::new(LodgingReason::DeclarationClosed, message)
                    .with_metadata("state", state)
            }
            LodgingError::EtagMismatch => ApiError::new(LodgingReason::EtagMismatch, message),
            LodgingError::GuestNotFound { guest_id } => {
                ApiError::new(LodgingReason::GuestNotFound, message)
                    .with_metadata("guest_id", guest_id)
            }
            LodgingError::EventNotFound { event_id } => {
                ApiError::new(LodgingReason::EventNotFound, message)
                    .with_metadata("event_id", event_id)
            }
            LodgingError::ShareCode { reason, guest, .. } => {
                let field = format!("declaration.guests[{guest}].vneid_share.share_code");
                let error = ApiError::new(reason, message.clone())
                    .with_metadata("guest", guest.to_string());
                if reason.code() == Code::InvalidArgument {
                    error.with_violation(field, message)
                } else {
                    error
                }
            }
            LodgingError::Upstream(failure) => failure.into_api_error(),
            LodgingError::Store(e) => e.into_api_error(STORE_SYSTEM),
            LodgingError::Refused(e) => e,
        }
    }
}

impl From<LodgingError> for Status {
    fn from(e: LodgingError) -> Self {
        ApiError::from(e).into()
    }
}
