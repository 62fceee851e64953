//! The admin surface of sandbox06 (`sandbox06.admin.v1.AdminService`): the controls a CI
//! contract test drives the suite with, served through the edge like every service.
//!
//! - `access`: who may use it (`admin.access`), against the caller the edge vouched for.
//! - `service`: each call forwarded to the control service of the component it concerns
//!   (fault rules, state and snapshots, the edge's journal) or to the population database
//!   (finding citizens, life events) or VNeID (account unlocks).
//! - `records`: life events and unlocks, the admin's messages to and from the mocks' own.
//! - `error`: its own reasons, and how a component's answer becomes the admin's.
//! - `component`: its section (`admin`) and how it starts, calling every other component.

pub mod access;
pub mod component;
pub mod error;
pub mod records;
pub mod service;

pub use access::{ADMIN_SCOPE, Access};
pub use component::{AdminComponent, AdminConfig};
pub use error::{AdminReason, REASONS};
pub use service::Admin;
