//! The lodging service (`sandbox06.lodging.v1`, models 5, 6 and 7 of the provincial plan): hotels,
//! guest houses, hospitals and coach operators declare who stays with them (thông báo lưu trú),
//! as the ASM software does, and the service delivers every declaration to the national lodging
//! registry (the mock `lodging-registry`).
//!
//! - [`facility`]: the declaring facilities and the clients bound to them.
//! - [`input`]: a declaration as sent, checked field by field.
//! - [`rules`]: the deadline and the findings about guests, on the suite's clock.
//! - [`service`]: declarations and their changes, each recorded with its event and delivery
//!   entry in one step ([`records`] says what is stored where).
//! - [`delivery`]: the worker that delivers the outbox to the registry, once per revision.
//! - [`events`]: the watch of declaration events.
//! - [`upstream`]: the citizen service (through the edge), VNeID's share codes, the registry.

pub mod component;
pub mod delivery;
mod error;
pub mod events;
pub mod facility;
pub mod input;
pub mod records;
pub mod rules;
pub mod service;
pub mod upstream;

pub use delivery::{Deliverer, registry_id};
pub use error::{BadField, LodgingError, LodgingReason, REASONS};
pub use facility::{Facilities, Facility, FacilityConfig};
pub use service::Lodging;
