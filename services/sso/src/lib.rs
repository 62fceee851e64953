//! The national single sign-on of the sandbox: an OpenID Connect provider in front of the
//! VNeID mock. Portals log citizens in with the code flow and PKCE (a real login page, or at
//! once for CI with `login_hint`); systems get tokens with their own credentials. Tokens are
//! JWTs signed RS256 (or ES256 per client) with keys shared through the state store; the
//! edge verifies them on every call.
//!
//! - [`oauth`]: the flows apart from HTTP (authorization, login and consent, logout, the
//!   token endpoint's grants, client authentication, introspection, userinfo), returning typed
//!   outcomes and one [`oauth::errors::OAuthError`]; the store's typed records; discovery.
//! - [`http`]: the routes at the edge: reading requests and rendering the outcomes (pages,
//!   redirects, JSON, cookies), with the suite's CORS layer on the endpoints clients call.
//! - [`grpc`]: `sandbox06.sso.v1.SsoService` (introspection, clients, key rotation, tokens on
//!   demand).
//! - [`clients`]: the demo clients and the configured ones.

pub mod claims;
pub mod clients;
pub mod component;
pub mod grpc;
pub mod http;
pub mod identity;
pub mod keys;
pub mod oauth;
mod pages;
pub mod provider;

pub use component::{SsoComponent, SsoConfig};
pub use grpc::{REASONS, SsoReason};
