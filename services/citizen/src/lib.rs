//! The citizen service of sandbox06 (`sandbox06.citizen.v1.CitizenService`): identity lookup,
//! field-by-field verification, card QR verification and bulk matching, in front of the
//! population database, which it reaches over gRPC only.
//!
//! - `service`: the gRPC adapter and the verdict logic.
//! - `population`: the client trait of the population database and its gRPC client.
//! - `error`: the service's own error reasons and the failures of its logic.

pub mod component;
pub mod error;
pub mod population;
pub mod service;

pub use component::{CitizenComponent, CitizenConfig};
pub use error::{CitizenError, CitizenReason, REASONS};
pub use population::{GrpcPopulation, Identity, IdentityResult, PopulationClient, UpstreamError};
