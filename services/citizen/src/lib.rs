//! The citizen service of sandbox06 and its mock upstream, the national population database.
//!
//! - `domain`: ID numbers, dates, names and card QR codes, parsed once.
//! - `country`: the synthetic country the population database serves.
//! - `upstream`: the population database's gRPC server (the mock) and the client the service uses.
//! - `service`: `sandbox06.citizen.v1.CitizenService`.

pub mod country;
pub mod domain;
pub mod error;
pub mod service;
pub mod upstream;
