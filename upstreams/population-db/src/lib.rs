//! The mock of the national population database (`sandbox06.upstream.population.v1`): the
//! synthetic country, with the changes recorded through life events (overlays) applied on read.
//!
//! It alone writes population overlays; other components read changed facts through its gRPC API.

pub mod component;
mod convert;
pub mod error;
pub mod life_events;
mod mock;
pub mod overlay;

pub use component::{PopulationConfig, PopulationDbComponent};
pub use convert::{address_of, record_of};
pub use error::{PopulationError, PopulationReason, REASONS};
pub use mock::{DEFAULT_MAX_RESPONSE_BYTES, MAX_BATCH, PopulationDb};
