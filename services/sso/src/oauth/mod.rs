//! The provider's OAuth 2.0 and OpenID Connect logic apart from HTTP: its errors, the records
//! it keeps in the store, and the flows, which return typed outcomes that the HTTP layer
//! ([`crate::http`]) renders.

pub mod errors;
