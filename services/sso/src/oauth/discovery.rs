//! The provider's metadata (OpenID Connect Discovery 1.0 and RFC 8414, one document for
//! both), as a typed struct.

use serde::Serialize;

use crate::claims::{ACR_VALUES, CLAIMS_SUPPORTED};
use crate::clients::{
    AUTH_METHODS, AUTHORIZATION_CODE, CLIENT_CREDENTIALS, OIDC_SCOPES, REFRESH_TOKEN,
};
use crate::http::paths;
use crate::provider::Provider;

/// The algorithms the provider signs with, and takes client assertions in.
const ALGS: [&str; 2] = ["RS256", "ES256"];

/// The discovery document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Discovery {
    /// The issuer.
    pub issuer: String,
    /// The authorization endpoint.
    pub authorization_endpoint: String,
    /// The token endpoint.
    pub token_endpoint: String,
    /// The userinfo endpoint.
    pub userinfo_endpoint: String,
    /// The JWKS.
    pub jwks_uri: String,
    /// The introspection endpoint (RFC 7662).
    pub introspection_endpoint: String,
    /// The revocation endpoint (RFC 7009).
    pub revocation_endpoint: String,
    /// RP-initiated logout.
    pub end_session_endpoint: String,
    /// The OpenID Connect scopes, then every client's API scopes, sorted.
    pub scopes_supported: Vec<String>,
    /// `code`.
    pub response_types_supported: [&'static str; 1],
    /// `query`, `form_post`.
    pub response_modes_supported: [&'static str; 2],
    /// The grants.
    pub grant_types_supported: [&'static str; 3],
    /// `public`.
    pub subject_types_supported: [&'static str; 1],
    /// RS256, ES256.
    pub id_token_signing_alg_values_supported: [&'static str; 2],
    /// Client authentication methods at the token endpoint.
    pub token_endpoint_auth_methods_supported: &'static [&'static str],
    /// Algorithms of `private_key_jwt` assertions.
    pub token_endpoint_auth_signing_alg_values_supported: [&'static str; 2],
    /// Client authentication methods at the introspection endpoint (confidential clients).
    pub introspection_endpoint_auth_methods_supported: [&'static str; 3],
    /// Client authentication methods at the revocation endpoint.
    pub revocation_endpoint_auth_methods_supported: &'static [&'static str],
    /// `S256` only.
    pub code_challenge_methods_supported: [&'static str; 1],
    /// Every claim the provider may return.
    pub claims_supported: &'static [&'static str],
    /// LoA1, LoA2.
    pub acr_values_supported: &'static [&'static str],
    /// `none`, `login`, `consent`.
    pub prompt_values_supported: [&'static str; 3],
    /// `vi`, `en`.
    pub ui_locales_supported: [&'static str; 2],
    /// No `claims` parameter.
    pub claims_parameter_supported: bool,
    /// No `request` parameter.
    pub request_parameter_supported: bool,
    /// No `request_uri` parameter.
    pub request_uri_parameter_supported: bool,
    /// `iss` in every authorization response (RFC 9207).
    pub authorization_response_iss_parameter_supported: bool,
}

/// The scopes of OpenID Connect, then every other scope a registered client may be granted,
/// sorted.
fn scopes_supported(provider: &Provider) -> Vec<String> {
    let mut scopes: Vec<String> = OIDC_SCOPES.iter().map(|s| (*s).to_owned()).collect();
    let mut api: Vec<String> = provider
        .clients
        .values()
        .flat_map(|c| c.config.scopes.iter().cloned())
        .filter(|s| !scopes.contains(s))
        .collect();
    api.sort();
    api.dedup();
    scopes.extend(api);
    scopes
}

impl Discovery {
    /// The document of `provider`.
    pub fn of(provider: &Provider) -> Self {
        let scopes = scopes_supported(provider);
        Self {
            issuer: provider.issuer.clone(),
            authorization_endpoint: provider.endpoint(paths::AUTHORIZE),
            token_endpoint: provider.endpoint(paths::TOKEN),
            userinfo_endpoint: provider.endpoint(paths::USERINFO),
            jwks_uri: provider.endpoint(paths::JWKS),
            introspection_endpoint: provider.endpoint(paths::INTROSPECT),
            revocation_endpoint: provider.endpoint(paths::REVOKE),
            end_session_endpoint: provider.endpoint(paths::LOGOUT),
            scopes_supported: scopes,
            response_types_supported: ["code"],
            response_modes_supported: ["query", "form_post"],
            grant_types_supported: [AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS],
            subject_types_supported: ["public"],
            id_token_signing_alg_values_supported: ALGS,
            token_endpoint_auth_methods_supported: &AUTH_METHODS,
            token_endpoint_auth_signing_alg_values_supported: ALGS,
            introspection_endpoint_auth_methods_supported: [
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
            ],
            revocation_endpoint_auth_methods_supported: &AUTH_METHODS,
            code_challenge_methods_supported: ["S256"],
            claims_supported: &CLAIMS_SUPPORTED,
            acr_values_supported: &ACR_VALUES,
            prompt_values_supported: ["none", "login", "consent"],
            ui_locales_supported: ["vi", "en"],
            claims_parameter_supported: false,
            request_parameter_supported: false,
            request_uri_parameter_supported: false,
            authorization_response_iss_parameter_supported: true,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::claims::TechIdKey;
    use crate::clients::registry;
    use crate::identity::Identity;
    use crate::keys::Keys;
    use crate::provider::{Lifetimes, Throttle};

    #[tokio::test]
    async fn the_document_has_the_fields_and_values_it_always_had_in_their_order() {
        let store: Arc<dyn sandbox06_store::Store> =
            Arc::new(sandbox06_store::MemoryStore::default());
        let nowhere =
            || tonic::transport::Endpoint::from_static("http://127.0.0.1:9").connect_lazy();
        let p = Provider {
            issuer: "https://sso.example".to_owned(),
            clients: registry(&[]).unwrap(),
            keys: Keys::new(store.clone(), Duration::from_secs(60)),
            store,
            identity: Identity::new(nowhere(), nowhere()),
            lifetimes: Lifetimes::default(),
            tech_ids: TechIdKey::default(),
            throttle: Throttle::default(),
            browser_key: crate::oauth::browser::BrowserKey::default(),
            clock: sandbox06_runtime::clock::Clock::system(),
        };
        let document = Discovery::of(&p);
        let scopes = scopes_supported(&p);
        assert!(scopes.iter().any(|s| s == "citizen.read"), "{scopes:?}");
        let endpoint = |path: &str| format!("https://sso.example{path}");
        // The document as it was written by hand before it had a type.
        let expected = json!({
            "issuer": "https://sso.example",
            "authorization_endpoint": endpoint("/oidc/authorize"),
            "token_endpoint": endpoint("/oidc/token"),
            "userinfo_endpoint": endpoint("/oidc/userinfo"),
            "jwks_uri": endpoint("/oidc/jwks"),
            "introspection_endpoint": endpoint("/oidc/introspect"),
            "revocation_endpoint": endpoint("/oidc/revoke"),
            "end_session_endpoint": endpoint("/oidc/logout"),
            "scopes_supported": scopes,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "form_post"],
            "grant_types_supported": [AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "token_endpoint_auth_methods_supported": AUTH_METHODS,
            "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
            "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": CLAIMS_SUPPORTED,
            "acr_values_supported": ACR_VALUES,
            "prompt_values_supported": ["none", "login", "consent"],
            "ui_locales_supported": ["vi", "en"],
            "claims_parameter_supported": false,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "authorization_response_iss_parameter_supported": true,
        });
        assert_eq!(
            serde_json::to_string(&document).unwrap(),
            expected.to_string()
        );
    }
}
