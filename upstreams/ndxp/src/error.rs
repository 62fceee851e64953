//! The NDXP mock's own error reasons, the failures of its logic, and their one mapping to the
//! suite's error model. A national service that finds nothing answers so (a health insurance
//! check's NOT_FOUND); these are the exchanges NDXP cannot route or judge.

use sandbox06_runtime::{ApiError, ErrorReason, Reason, error::UpstreamFailure};
use sandbox06_vn::FieldError;
use tonic::{Code, Status};

/// Why an NDXP call failed, beyond the generic reasons of the runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NdxpReason {
    /// No national service has the code.
    ServiceNotFound,
    /// The typed request is not the one the service takes.
    RequestMismatch,
    /// No citizen has the ID number asked about.
    CitizenNotFound,
}

/// Every reason the NDXP mock owns, in documentation order.
pub const REASONS: &[NdxpReason] = &[
    NdxpReason::ServiceNotFound,
    NdxpReason::RequestMismatch,
    NdxpReason::CitizenNotFound,
];

impl ErrorReason for NdxpReason {
    fn as_str(&self) -> &'static str {
        match self {
            NdxpReason::ServiceNotFound => "SERVICE_NOT_FOUND",
            NdxpReason::RequestMismatch => "REQUEST_MISMATCH",
            NdxpReason::CitizenNotFound => "CITIZEN_NOT_FOUND",
        }
    }

    fn code(&self) -> Code {
        match self {
            NdxpReason::ServiceNotFound | NdxpReason::CitizenNotFound => Code::NotFound,
            NdxpReason::RequestMismatch => Code::InvalidArgument,
        }
    }

    fn when(&self) -> &'static str {
        match self {
            NdxpReason::ServiceNotFound => {
                "No national service has the `service_code` (ListNationalServices lists them); `metadata.service_code` names it."
            }
            NdxpReason::RequestMismatch => {
                "The typed request set is not the one the service takes (or none is set); `metadata.expected` names the field the service reads."
            }
            NdxpReason::CitizenNotFound => {
                "A civil status, judicial record or health book query names an ID number no citizen has."
            }
        }
    }
}

/// Why NDXP could not answer.
#[derive(Debug, thiserror::Error)]
pub enum NdxpError {
    /// A request field is missing or malformed.
    #[error(transparent)]
    Field(#[from] FieldError),
    /// No national service has the code.
    #[error("no national service has the code {0:?}; ListNationalServices lists them")]
    ServiceNotFound(String),
    /// The request is not the service's.
    #[error("service {service} reads the request field {expected}")]
    RequestMismatch {
        /// The service's code.
        service: &'static str,
        /// The field it reads.
        expected: &'static str,
    },
    /// No citizen has the number.
    #[error("no citizen has this ID number")]
    CitizenNotFound,
    /// The population database did not answer as expected: what it said is logged, never
    /// answered.
    #[error("{}", UpstreamFailure::classify(POPULATION_DB, POPULATION_DB_SYSTEM, .0))]
    Population(Status),
}

/// The population database's name in `ErrorInfo.metadata.backend`.
pub(crate) const POPULATION_DB: &str = "population-db";

/// The population database, in words.
const POPULATION_DB_SYSTEM: &str = "the population database (the national services' source)";

impl From<NdxpError> for ApiError {
    fn from(e: NdxpError) -> Self {
        match e {
            NdxpError::Field(e) => {
                ApiError::invalid_field(Reason::InvalidArgument, e.field, e.description)
            }
            NdxpError::ServiceNotFound(code) => {
                let message = NdxpError::ServiceNotFound(code.clone()).to_string();
                ApiError::new(NdxpReason::ServiceNotFound, message)
                    .with_metadata("service_code", code)
            }
            e @ NdxpError::RequestMismatch { expected, .. } => {
                ApiError::new(NdxpReason::RequestMismatch, e.to_string())
                    .with_violation(expected, e.to_string())
                    .with_metadata("expected", expected)
            }
            e @ NdxpError::CitizenNotFound => {
                ApiError::new(NdxpReason::CitizenNotFound, e.to_string())
            }
            NdxpError::Population(status) => {
                UpstreamFailure::from_status(POPULATION_DB, POPULATION_DB_SYSTEM, &status).into()
            }
        }
    }
}

impl From<NdxpError> for Status {
    fn from(e: NdxpError) -> Self {
        ApiError::from(e).into()
    }
}
