//! The provider's OAuth 2.0 and OpenID Connect logic apart from HTTP: its errors, the records
//! it keeps in the store, and the flows, which return typed outcomes that the HTTP layer
//! ([`crate::http`]) renders.

pub mod authorize;
pub mod browser;
pub mod client_auth;
pub mod discovery;
pub mod errors;
pub mod grants;
pub mod introspect;
pub mod logout;
pub mod outcome;
pub mod records;
pub mod tokens;
pub mod userinfo;
