//! The population database's own error reasons, the failures of its logic, and their one
//! mapping to the suite's error model.

use sandbox06_runtime::{ApiError, ErrorReason, Reason, ReasonCode, mask};
use sandbox06_store::StoreError;
use sandbox06_vn::{FieldError, FieldErrorKind};
use tonic::Code;

use crate::life_events::{LifeEventError, Party};

/// Why a population database call failed, beyond the generic reasons of the runtime.
///
/// The database is a mock of a separate national system: it owns its reasons, even where they
/// share a name and meaning with the citizen service's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PopulationReason {
    /// A personal ID number is not 12 digits or has an unknown province prefix.
    InvalidCitizenId,
    /// A date is not a real calendar date or is out of range.
    InvalidDate,
    /// No citizen has this personal ID number.
    CitizenNotFound,
    /// The citizen's history of life events is full.
    HistoryFull,
    /// An idempotency key was used before for another request.
    RequestIdReused,
    /// The records an event touches kept changing while it was being recorded.
    WriteConflict,
    /// The records a batch asks for exceed the size of one answer.
    ResponseTooLarge,
}

/// Every reason the population database owns, in documentation order.
pub const REASONS: &[PopulationReason] = &[
    PopulationReason::InvalidCitizenId,
    PopulationReason::InvalidDate,
    PopulationReason::CitizenNotFound,
    PopulationReason::HistoryFull,
    PopulationReason::RequestIdReused,
    PopulationReason::WriteConflict,
    PopulationReason::ResponseTooLarge,
];

impl ErrorReason for PopulationReason {
    fn as_str(&self) -> &'static str {
        match self {
            PopulationReason::InvalidCitizenId => "INVALID_CITIZEN_ID",
            PopulationReason::InvalidDate => "INVALID_DATE",
            PopulationReason::CitizenNotFound => "CITIZEN_NOT_FOUND",
            PopulationReason::HistoryFull => "HISTORY_FULL",
            PopulationReason::RequestIdReused => "REQUEST_ID_REUSED",
            PopulationReason::WriteConflict => "WRITE_CONFLICT",
            PopulationReason::ResponseTooLarge => "RESPONSE_TOO_LARGE",
        }
    }

    fn code(&self) -> Code {
        match self {
            PopulationReason::InvalidCitizenId | PopulationReason::InvalidDate => {
                Code::InvalidArgument
            }
            PopulationReason::CitizenNotFound => Code::NotFound,
            PopulationReason::HistoryFull => Code::FailedPrecondition,
            PopulationReason::RequestIdReused => Code::AlreadyExists,
            PopulationReason::WriteConflict => Code::Aborted,
            PopulationReason::ResponseTooLarge => Code::ResourceExhausted,
        }
    }

    fn when(&self) -> &'static str {
        match self {
            PopulationReason::InvalidCitizenId => {
                "A personal ID number (the citizen's, or a spouse's in a marriage) is not 12 digits or has an unknown province prefix."
            }
            PopulationReason::InvalidDate => {
                "A date (an event's effective date) is not a real calendar date."
            }
            PopulationReason::CitizenNotFound => {
                "No citizen (or no spouse named by a marriage) has this personal ID number; `metadata.citizen_id` names it, masked."
            }
            PopulationReason::HistoryFull => {
                "The citizen (or the spouse) already has 100 recorded life events, the most the sandbox keeps for one citizen; reset the sandbox (`POST /v1/admin:reset`, `sandbox06 reset`) or use another citizen."
            }
            PopulationReason::RequestIdReused => {
                "A life event's `request_id` was used before with another citizen or event; nothing was recorded. A retry must send the same request, a new request a new key."
            }
            PopulationReason::WriteConflict => {
                "The records a life event touches (the citizen's, a spouse's) kept changing under concurrent writes while it was being recorded; nothing was recorded. Retry."
            }
            PopulationReason::ResponseTooLarge => {
                "The records a BatchGetCitizens call asks for would exceed the size of one answer (`limits.max_request_bytes`, 4 MiB by default; `metadata.max_bytes`), as full records of citizens with long histories can; ask for fewer numbers per call, or a narrower view (identity or basic). ListCitizens cuts such a page short instead."
            }
        }
    }
}

/// The reason of a malformed field, by the family of rules it broke.
fn field_reason(kind: FieldErrorKind) -> ReasonCode {
    match kind {
        FieldErrorKind::CitizenId => PopulationReason::InvalidCitizenId.into(),
        FieldErrorKind::Date => PopulationReason::InvalidDate.into(),
        FieldErrorKind::QrPayload | FieldErrorKind::Other => Reason::InvalidArgument.into(),
    }
}

/// The message of [`PopulationError::NotFound`].
const NOT_FOUND: &str = "no citizen has this personal ID number";

/// Why the population database could not answer: what its logic returns.
#[derive(Debug, thiserror::Error)]
pub enum PopulationError {
    /// A request field is malformed.
    #[error(transparent)]
    Field(#[from] FieldError),
    /// No citizen has the number.
    #[error("{NOT_FOUND}")]
    NotFound {
        /// The number as the caller sent it, masked: the error may be logged.
        masked_citizen_id: String,
    },
    /// A life event breaks a rule of the civil status.
    #[error(transparent)]
    LifeEvent(#[from] LifeEventError),
    /// An idempotency key was used before for another request.
    #[error(
        "was used before with another citizen or event; a retry must send the same request, a new request a new key"
    )]
    RequestIdReused,
    /// The records an event touches kept changing over every attempt to record it.
    #[error(
        "the citizen's or the spouse's record kept changing under concurrent writes ({attempts} attempts); nothing was recorded, retry"
    )]
    WriteConflict {
        /// How many times it was read, checked and tried.
        attempts: usize,
    },
    /// The records asked for exceed the size of one answer.
    #[error(
        "the records asked for exceed the {max_bytes} bytes of one answer: ask for fewer numbers per call, or a narrower view (identity or basic)"
    )]
    ResponseTooLarge {
        /// The size limit.
        max_bytes: usize,
    },
    /// The overlays cannot be read or written: what the store said is logged, never answered.
    #[error("the population database's state store cannot be reached; retry later")]
    Store(#[from] StoreError),
}

/// The state store, in words.
const STORE_SYSTEM: &str = "the population database's state store";

/// The request field a life-event refusal is about.
fn life_event_field(e: &LifeEventError) -> &'static str {
    let party = |party: &Party| match party {
        Party::Citizen => "citizen_id",
        Party::Spouse => SPOUSE_FIELD,
    };
    match e {
        LifeEventError::DateOutOfRange { .. }
        | LifeEventError::BeforeLatestChange { .. }
        | LifeEventError::BeforeSpouseLatestChange { .. }
        | LifeEventError::ReplacementTooEarly { .. }
        | LifeEventError::DeathBeforeCard { .. } => "event.effective_date",
        LifeEventError::CitizenDeceased => "citizen_id",
        LifeEventError::ChangeMissing => "event.change",
        LifeEventError::UnknownCommune { .. } => "event.moved.commune_code",
        LifeEventError::StreetMissing
        | LifeEventError::StreetTooLong { .. }
        | LifeEventError::StreetWithSeparator
        | LifeEventError::StreetWithControl { .. } => "event.moved.street",
        LifeEventError::NoCardToReplace => "event.card_replaced",
        LifeEventError::VneidLevelUnspecified | LifeEventError::VneidTooYoung => {
            "event.vneid_changed.level"
        }
        LifeEventError::OwnNumberAsSpouse
        | LifeEventError::SameSex
        | LifeEventError::OfOneBlood => SPOUSE_FIELD,
        LifeEventError::HistoryFull { party: p, .. }
        | LifeEventError::Deceased { party: p }
        | LifeEventError::AlreadyMarried { party: p }
        | LifeEventError::UnderMarriageableAge { party: p, .. } => party(p),
    }
}

/// The path of the spouse's number in a CreateLifeEvent request.
pub(crate) const SPOUSE_FIELD: &str = "event.married.spouse_citizen_id";

impl PopulationError {
    /// No citizen has `citizen_id` (as the caller sent it).
    pub fn not_found(citizen_id: &str) -> Self {
        Self::NotFound {
            masked_citizen_id: mask::citizen_id(citizen_id),
        }
    }
}

impl From<PopulationError> for ApiError {
    fn from(e: PopulationError) -> Self {
        match e {
            PopulationError::Field(e) => {
                ApiError::invalid_field(field_reason(e.kind), e.field, e.description)
            }
            PopulationError::NotFound { masked_citizen_id } => {
                ApiError::new(PopulationReason::CitizenNotFound, NOT_FOUND)
                    .with_metadata("citizen_id", masked_citizen_id)
            }
            PopulationError::LifeEvent(e @ LifeEventError::HistoryFull { .. }) => {
                ApiError::new(PopulationReason::HistoryFull, e.to_string())
                    .with_violation(life_event_field(&e), e.to_string())
            }
            PopulationError::LifeEvent(e) => ApiError::invalid_field(
                Reason::InvalidArgument,
                life_event_field(&e),
                e.to_string(),
            ),
            e @ PopulationError::RequestIdReused => ApiError::invalid_field(
                PopulationReason::RequestIdReused,
                "request_id",
                e.to_string(),
            ),
            e @ PopulationError::WriteConflict { .. } => {
                ApiError::new(PopulationReason::WriteConflict, e.to_string())
            }
            e @ PopulationError::ResponseTooLarge { max_bytes } => ApiError::invalid_field(
                PopulationReason::ResponseTooLarge,
                "citizen_ids",
                e.to_string(),
            )
            .with_metadata("max_bytes", max_bytes.to_string()),
            PopulationError::Store(error) => error.into_api_error(STORE_SYSTEM),
        }
    }
}

impl From<PopulationError> for tonic::Status {
    fn from(e: PopulationError) -> Self {
        ApiError::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use sandbox06_runtime::error::{field_violations_of, reason_of};
    use time::macros::date;
    use tonic::Status;

    use super::*;

    #[test]
    fn each_life_event_refusal_names_its_field() {
        let on = date!(2026 - 05 - 01);
        let cases = [
            (
                LifeEventError::DateOutOfRange { reference: on, on },
                "event.effective_date",
            ),
            (LifeEventError::CitizenDeceased, "citizen_id"),
            (
                LifeEventError::BeforeLatestChange { latest: on, on },
                "event.effective_date",
            ),
            (LifeEventError::ChangeMissing, "event.change"),
            (
                LifeEventError::UnknownCommune { code: "1".into() },
                "event.moved.commune_code",
            ),
            (LifeEventError::StreetMissing, "event.moved.street"),
            (
                LifeEventError::StreetTooLong { count: 201 },
                "event.moved.street",
            ),
            (LifeEventError::StreetWithSeparator, "event.moved.street"),
            (
                LifeEventError::StreetWithControl { found: '\n' },
                "event.moved.street",
            ),
            (LifeEventError::NoCardToReplace, "event.card_replaced"),
            (
                LifeEventError::ReplacementTooEarly {
                    earliest: on,
                    because: "the first chip cards",
                    on,
                },
                "event.effective_date",
            ),
            (
                LifeEventError::DeathBeforeCard { issued: on, on },
                "event.effective_date",
            ),
            (
                LifeEventError::VneidLevelUnspecified,
                "event.vneid_changed.level",
            ),
            (LifeEventError::VneidTooYoung, "event.vneid_changed.level"),
            (LifeEventError::OwnNumberAsSpouse, SPOUSE_FIELD),
            (LifeEventError::SameSex, SPOUSE_FIELD),
            (LifeEventError::OfOneBlood, SPOUSE_FIELD),
            (
                LifeEventError::Deceased {
                    party: Party::Citizen,
                },
                "citizen_id",
            ),
            (
                LifeEventError::AlreadyMarried {
                    party: Party::Spouse,
                },
                SPOUSE_FIELD,
            ),
            (
                LifeEventError::UnderMarriageableAge {
                    party: Party::Spouse,
                    age: 17,
                    on,
                    who: "women",
                    min: 18,
                },
                SPOUSE_FIELD,
            ),
            (
                LifeEventError::BeforeSpouseLatestChange { latest: on, on },
                "event.effective_date",
            ),
        ];
        for (e, field) in cases {
            let description = e.to_string();
            let status = Status::from(PopulationError::from(e));
            assert_eq!(status.code(), Code::InvalidArgument, "{description}");
            assert_eq!(reason_of(&status).as_deref(), Some("INVALID_ARGUMENT"));
            assert_eq!(status.message(), format!("{field}: {description}"));
            let violations = field_violations_of(&status);
            assert_eq!(violations.len(), 1);
            assert_eq!(violations[0].field, field);
            assert_eq!(violations[0].description, description);
        }
    }

    #[test]
    fn reads_and_writes_fail_with_their_own_reasons() {
        let status = Status::from(PopulationError::not_found("058090001234"));
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(reason_of(&status).as_deref(), Some("CITIZEN_NOT_FOUND"));
        assert_eq!(status.message(), "no citizen has this personal ID number");

        let status = Status::from(PopulationError::from(FieldError::new(
            FieldErrorKind::CitizenId,
            SPOUSE_FIELD,
            "must be 12 digits, got 11",
        )));
        assert_eq!(reason_of(&status).as_deref(), Some("INVALID_CITIZEN_ID"));
        assert_eq!(field_violations_of(&status)[0].field, SPOUSE_FIELD);

        let status = Status::from(PopulationError::from(StoreError::new(
            "redis",
            "list",
            "Connection refused (os error 111)",
        )));
        assert_eq!(status.code(), Code::Unavailable);
        assert_eq!(reason_of(&status).as_deref(), Some("UPSTREAM_UNAVAILABLE"));
        // What the store said is logged, not answered.
        assert_eq!(
            status.message(),
            "the population database's state store cannot be reached; retry later"
        );
    }

    #[test]
    fn reasons_are_documented() {
        for reason in REASONS {
            assert!(reason.when().ends_with('.'), "{reason:?}");
        }
    }
}
