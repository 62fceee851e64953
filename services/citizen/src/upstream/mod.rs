//! The population database upstream: its mock gRPC server (the synthetic country with
//! overlays) and the client the citizen service calls it with.

mod client;
mod convert;
mod mock;
pub mod overlay;

pub use client::{GrpcPopulation, PopulationClient, UpstreamError};
pub use convert::{address_of, card_qr, printed_address, record_of};
pub use mock::PopulationDb;
