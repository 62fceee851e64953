//! The lodging registry mock's own error reasons, the failures of its logic, and their one
//! mapping to the suite's error model. A rejection is an answer, not an error: these are the
//! requests the registry cannot judge.

use sandbox06_runtime::{ApiError, ErrorReason, Reason, error::UpstreamFailure};
use sandbox06_store::StoreError;
use sandbox06_vn::FieldError;
use tonic::{Code, Status};

/// Why a lodging registry call failed, beyond the generic reasons of the runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LodgingRegistryReason {
    /// This declaration id and revision were submitted before with other content.
    RevisionConflict,
    /// A later revision of the declaration is recorded.
    StaleRevision,
    /// The registry never accepted a declaration with this id.
    DeclarationNotFound,
}

/// Every reason the lodging registry mock owns, in documentation order.
pub const REASONS: &[LodgingRegistryReason] = &[
    LodgingRegistryReason::RevisionConflict,
    LodgingRegistryReason::StaleRevision,
    LodgingRegistryReason::DeclarationNotFound,
];

impl ErrorReason for LodgingRegistryReason {
    fn as_str(&self) -> &'static str {
        match self {
            LodgingRegistryReason::RevisionConflict => "REVISION_CONFLICT",
            LodgingRegistryReason::StaleRevision => "STALE_REVISION",
            LodgingRegistryReason::DeclarationNotFound => "DECLARATION_NOT_FOUND",
        }
    }

    fn code(&self) -> Code {
        match self {
            LodgingRegistryReason::RevisionConflict => Code::AlreadyExists,
            LodgingRegistryReason::StaleRevision => Code::FailedPrecondition,
            LodgingRegistryReason::DeclarationNotFound => Code::NotFound,
        }
    }

    fn when(&self) -> &'static str {
        match self {
            LodgingRegistryReason::RevisionConflict => {
                "This `declaration_id` and `revision` were answered before for other content (another call, or other fields): a changed declaration is a new revision. The same content again answers the first answer (`replayed`); `metadata.revision` names the revision."
            }
            LodgingRegistryReason::StaleRevision => {
                "A later revision of the declaration is recorded (answered, accepted or rejected): `metadata.revision` names the one sent, `metadata.latest_revision` the latest."
            }
            LodgingRegistryReason::DeclarationNotFound => {
                "A departure, cancellation or read of a declaration the registry never accepted (never submitted, or every submission rejected); `metadata.declaration_id` names it."
            }
        }
    }
}

/// Why the lodging registry could not answer: what its logic returns.
#[derive(Debug, thiserror::Error)]
pub enum LodgingRegistryError {
    /// A request field is missing or malformed.
    #[error(transparent)]
    Field(#[from] FieldError),
    /// The revision was answered before for other content.
    #[error(
        "revision {revision} of this declaration was submitted before with other content; send a changed declaration as a new revision"
    )]
    RevisionConflict {
        /// The revision sent.
        revision: i64,
    },
    /// A later revision is recorded.
    #[error(
        "revision {revision} is older than revision {latest}, which the registry has recorded for this declaration"
    )]
    StaleRevision {
        /// The revision sent.
        revision: i64,
        /// The latest revision recorded.
        latest: i64,
    },
    /// No accepted declaration has this id.
    #[error("{NOT_FOUND}")]
    NotFound {
        /// The id, as sent.
        declaration_id: String,
    },
    /// The population database did not answer as expected: what it (or the transport to it)
    /// said is logged, never answered; the text is the suite's own.
    #[error("{}", UpstreamFailure::classify(POPULATION_DB, POPULATION_DB_SYSTEM, .0))]
    Population(Status),
    /// The declarations cannot be read or written: what the store said is logged, never
    /// answered.
    #[error("{STORE_SYSTEM} cannot be reached; retry later")]
    Store(#[from] StoreError),
}

/// The message of [`LodgingRegistryError::NotFound`].
const NOT_FOUND: &str = "the registry has accepted no declaration with this id";

/// The population database's name in `ErrorInfo.metadata.backend`.
pub(crate) const POPULATION_DB: &str = "population-db";

/// The population database, in words.
const POPULATION_DB_SYSTEM: &str = "the population database";

/// The state store, in words.
const STORE_SYSTEM: &str = "the lodging registry's state store (the declarations)";

impl From<LodgingRegistryError> for ApiError {
    fn from(e: LodgingRegistryError) -> Self {
        match e {
            LodgingRegistryError::Field(e) => {
                ApiError::invalid_field(Reason::InvalidArgument, e.field, e.description)
            }
            e @ LodgingRegistryError::RevisionConflict { revision } => {
                ApiError::new(LodgingRegistryReason::RevisionConflict, e.to_string())
                    .with_violation("revision", e.to_string())
                    .with_metadata("revision", revision.to_string())
            }
            e @ LodgingRegistryError::StaleRevision { revision, latest } => {
                ApiError::new(LodgingRegistryReason::StaleRevision, e.to_string())
                    .with_violation("revision", e.to_string())
                    .with_metadata("revision", revision.to_string())
                    .with_metadata("latest_revision", latest.to_string())
            }
            LodgingRegistryError::NotFound { declaration_id } => {
                ApiError::new(LodgingRegistryReason::DeclarationNotFound, NOT_FOUND)
                    .with_metadata("declaration_id", declaration_id)
            }
            LodgingRegistryError::Population(status) => {
                UpstreamFailure::from_status(POPULATION_DB, POPULATION_DB_SYSTEM, &status).into()
            }
            LodgingRegistryError::Store(error) => error.into_api_error(STORE_SYSTEM),
        }
    }
}

impl From<LodgingRegistryError> for Status {
    fn from(e: LodgingRegistryError) -> Self {
        ApiError::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use sandbox06_runtime::error::reason_of;
    use tonic_types::StatusExt as _;

    use super::*;

    fn metadata(status: &Status, key: &str) -> Option<String> {
        status
            .get_details_error_info()
            .and_then(|info| info.metadata.get(key).cloned())
    }

    #[test]
    fn the_contracts_errors_have_their_codes_and_reasons() {
        let status = Status::from(LodgingRegistryError::RevisionConflict { revision: 2 });
        assert_eq!(status.code(), Code::AlreadyExists);
        assert_eq!(reason_of(&status).as_deref(), Some("REVISION_CONFLICT"));
        assert_eq!(metadata(&status, "revision").as_deref(), Some("2"));

        let status = Status::from(LodgingRegistryError::StaleRevision {
            revision: 1,
            latest: 3,
        });
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(reason_of(&status).as_deref(), Some("STALE_REVISION"));
        assert_eq!(metadata(&status, "latest_revision").as_deref(), Some("3"));

        let status = Status::from(LodgingRegistryError::NotFound {
            declaration_id: "d-1".into(),
        });
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(reason_of(&status).as_deref(), Some("DECLARATION_NOT_FOUND"));
        assert_eq!(metadata(&status, "declaration_id").as_deref(), Some("d-1"));
    }

    #[test]
    fn an_unreachable_population_database_is_named_in_the_suites_words() {
        let status = Status::from(LodgingRegistryError::Population(Status::unavailable(
            "tcp connect error",
        )));
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        assert_eq!(reason_of(&status).as_deref(), Some("UPSTREAM_UNAVAILABLE"));
        assert!(!status.message().contains("tcp connect"), "{status:?}");
        assert_eq!(metadata(&status, "backend").as_deref(), Some(POPULATION_DB));
    }
}
