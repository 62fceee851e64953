//! The single sign-on clients a component declares in its spec, and how each gets its secret.
//!
//! A component that calls other services through the edge declares its own client
//! ([`ClientSpec`]) in its [`super::ComponentSpec`]; the single sign-on registers every declared
//! client of the suite's components when it starts, so the list of clients a component needs is
//! kept in one place, beside the component. The secret is not declared: the binary gives the
//! [`super::Context`] a [`ClientSecrets`] rule, and both the single sign-on (to register the
//! client) and the component (to fetch its token) ask it, in one process or in separate ones.

use std::sync::Arc;

/// Grant: client credentials (a component's own calls).
pub const CLIENT_CREDENTIALS: &str = "client_credentials";

/// A client of the single sign-on that a component needs.
#[derive(Debug)]
pub struct ClientSpec {
    /// Its identifier, e.g. `svc-citizen`.
    pub client_id: &'static str,
    /// Its name on consent screens and in lists, in Vietnamese.
    pub name: &'static str,
    /// Its name in English.
    pub name_en: &'static str,
    /// The grants it may use, e.g. [`CLIENT_CREDENTIALS`].
    pub grant_types: &'static [&'static str],
    /// The scopes it may be granted: what the component calls.
    pub scopes: &'static [&'static str],
}

impl ClientSpec {
    /// Whether it may use the client-credentials grant.
    pub fn client_credentials(&self) -> bool {
        self.grant_types.contains(&CLIENT_CREDENTIALS)
    }
}

/// The rule giving each declared client its secret, from its client id.
#[derive(Clone)]
pub struct ClientSecrets(Arc<dyn Fn(&str) -> String + Send + Sync>);

impl ClientSecrets {
    /// The rule `secret_of`.
    pub fn new(secret_of: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        Self(Arc::new(secret_of))
    }

    /// The secret of `client_id`.
    pub fn secret(&self, client_id: &str) -> String {
        (self.0)(client_id)
    }
}

impl std::fmt::Debug for ClientSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecrets(..)")
    }
}
