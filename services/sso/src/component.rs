//! The single sign-on as a component of the suite: its configuration section (`sso`) and how
//! it starts. Its HTTP routes (discovery, `/oidc/...`) are served on the edge port.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use figment::Figment;
use sandbox06_proto::sso::sso_service_server::SsoServiceServer;
use sandbox06_runtime::{
    component::{
        CLIENT_CREDENTIALS, ClientSecrets, ClientSpec, Component, ComponentSpec, Context,
        ErrorReasons, Role, Running, Shutdown, StartError,
    },
    config::{self, ConfigError},
    server::ServerBuilder,
};
use sandbox06_store::{StoreConfig, control::StateService};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::claims::TechIdKey;
use crate::clients::{ClientConfig, registry};
use crate::grpc::SsoApi;
use crate::http::paths;
use crate::identity::Identity;
use crate::keys::Keys;
use crate::oauth::browser::BrowserKey;
use crate::provider::{Lifetimes, MAX_REFRESH_REUSE_GRACE_SECONDS, Provider, Throttle};

/// The VNeID mock, as the list of components names it.
const VNEID: &str = "vneid";
/// The population database, as the list of components names it.
const POPULATION_DB: &str = "population-db";

/// The issuer when neither configured nor derived from an edge in the same process.
pub const DEFAULT_ISSUER: &str = "http://127.0.0.1:4606";

/// What the single sign-on is.
pub static SPEC: ComponentSpec = ComponentSpec {
    name: "sso",
    summary: "the national single sign-on: an OpenID Connect provider in front of VNeID",
    role: Role::Service,
    section: SECTION,
    grpc_services: &[<SsoServiceServer<SsoApi> as tonic::server::NamedService>::NAME],
    http_prefixes: &[
        paths::DISCOVERY,
        paths::OAUTH_METADATA,
        "/oidc",
        paths::OAUTH2_PREFIX,
    ],
    peers: &[VNEID, POPULATION_DB],
    container_port: 4640,
    clients: &[ClientSpec {
        client_id: "svc-sso",
        name: "Đăng nhập một lần",
        name_en: "Single sign-on",
        grant_types: &[CLIENT_CREDENTIALS],
        scopes: &["vneid.read", "vneid.authenticate", "population.read"],
    }],
};

/// The key the secrets of the components' declared clients are derived with when
/// `sso.service_client_key` is not set. It is published: set another key in every process of
/// the suite to keep those secrets to the suite.
pub const DEFAULT_SERVICE_CLIENT_KEY: &str = "sandbox06-service-clients";

/// Its configuration section.
pub const SECTION: &str = "sso";

/// How long the store may take to answer its health probe.
const STORE_PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The keys of the store that are configuration, not state: the signing keys and the browser
/// cookies' key. Resets and restores leave them, so tokens already issued (the admin's own)
/// stay verifiable at the edge.
const KEPT: &[&str] = &["sso:keys", "sso:browser-key"];

/// The `sso` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SsoConfig {
    /// Address to listen on; port 0 picks an ephemeral port.
    pub listen: SocketAddr,
    /// The issuer: the URL browsers and clients reach the edge at, e.g. `http://127.0.0.1:4606`
    /// (no trailing slash). When unset: the edge's address when it runs in the same process,
    /// else `http://127.0.0.1:4606`.
    pub issuer: Option<String>,
    /// URL of the VNeID mock when the SSO runs alone, e.g. `http://vneid:4630`.
    pub vneid_url: Option<String>,
    /// URL of the population database when the SSO runs alone.
    pub population_url: Option<String>,
    /// Clients added to the demo ones, or replacing a demo client of the same id.
    pub clients: Vec<ClientConfig>,
    /// Lifetime of access and ID tokens, seconds.
    pub access_token_lifetime_seconds: u64,
    /// Lifetime of refresh tokens, seconds.
    pub refresh_token_lifetime_seconds: u64,
    /// How long after a refresh token's first use the same client may use it again and get
    /// tokens of the same grant (two tabs refreshing at once), seconds, at most 60; 0: never.
    /// A later reuse, or one by another client, revokes the grant.
    pub refresh_token_reuse_grace_seconds: u64,
    /// The key the accounts' opaque `TechID`s are derived with: with the same key (and the same
    /// country), an account has the same `TechID` on every run.
    pub tech_id_key: String,
    /// The key the secret of every client a component declares is derived with
    /// ([`service_client_secret`]): every process of the suite must have the same.
    pub service_client_key: String,
}

impl Default for SsoConfig {
    fn default() -> Self {
        let lifetimes = Lifetimes::default();
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            issuer: None,
            vneid_url: None,
            population_url: None,
            clients: Vec::new(),
            access_token_lifetime_seconds: lifetimes.access_token.as_secs(),
            refresh_token_lifetime_seconds: lifetimes.refresh_token.as_secs(),
            refresh_token_reuse_grace_seconds: lifetimes.refresh_reuse_grace.as_secs(),
            tech_id_key: crate::claims::DEFAULT_TECH_ID_KEY.to_owned(),
            service_client_key: DEFAULT_SERVICE_CLIENT_KEY.to_owned(),
        }
    }
}

impl SsoConfig {
    /// Checks what serde cannot: the issuer's form, the clients, the lifetimes.
    pub fn check(&self) -> Result<(), ConfigError> {
        if let Some(issuer) = &self.issuer {
            let parsed: Option<http::Uri> = issuer.parse().ok();
            let valid = parsed.as_ref().is_some_and(|uri| {
                matches!(uri.scheme_str(), Some("http" | "https"))
                    && uri.authority().is_some()
                    && uri.query().is_none()
            }) && !issuer.ends_with('/')
                && crate::clients::uri_problem(issuer).is_none();
            if !valid {
                return Err(ConfigError::Value {
                    key: format!("{SECTION}.issuer"),
                    message: format!(
                        "{issuer:?} must be an http(s) URL without userinfo, query, fragment or trailing slash, e.g. http://127.0.0.1:4606"
                    ),
                });
            }
        }
        registry(&self.clients).map_err(|e| ConfigError::Value {
            key: format!("{SECTION}.clients"),
            message: e.to_string(),
        })?;
        for (key, value) in [
            (
                "access_token_lifetime_seconds",
                self.access_token_lifetime_seconds,
            ),
            (
                "refresh_token_lifetime_seconds",
                self.refresh_token_lifetime_seconds,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Value {
                    key: format!("{SECTION}.{key}"),
                    message: "must be at least 1 second".to_owned(),
                });
            }
        }
        if self.refresh_token_reuse_grace_seconds > MAX_REFRESH_REUSE_GRACE_SECONDS {
            return Err(ConfigError::Value {
                key: format!("{SECTION}.refresh_token_reuse_grace_seconds"),
                message: format!("must be at most {MAX_REFRESH_REUSE_GRACE_SECONDS} seconds"),
            });
        }
        for (key, value) in [
            ("tech_id_key", &self.tech_id_key),
            ("service_client_key", &self.service_client_key),
        ] {
            if value.is_empty() {
                return Err(ConfigError::Value {
                    key: format!("{SECTION}.{key}"),
                    message: "must not be empty".to_owned(),
                });
            }
        }
        Ok(())
    }
}

/// The secret of the declared client `client_id` under `key`: base64url(HMAC-SHA256(key,
/// client_id)), the same in every process given the same key.
pub fn service_client_secret(key: &str, client_id: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
    sandbox06_jose::base64url(ring::hmac::sign(&key, client_id.as_bytes()).as_ref())
}

impl SsoConfig {
    /// The secret of the client `client_id` a component declares: the secret of an
    /// `[[sso.clients]]` entry of that id when one names it, else [`service_client_secret`] with
    /// `service_client_key`. The one rule: the single sign-on registers the client with it
    /// ([`registered_clients`]), and the component fetches its tokens with it.
    pub fn declared_client_secret(&self, client_id: &str) -> String {
        self.clients
            .iter()
            .filter(|c| c.client_id == client_id)
            .find_map(|c| c.secret.clone())
            .unwrap_or_else(|| service_client_secret(&self.service_client_key, client_id))
    }
}

/// The rule giving declared clients their secrets under `section`
/// ([`SsoConfig::declared_client_secret`]). The binary gives it to every component's context.
pub fn client_secrets(section: &SsoConfig) -> ClientSecrets {
    let section = section.clone();
    ClientSecrets::new(move |client_id| section.declared_client_secret(client_id))
}

/// What the single sign-on registers besides its demo clients: every client `declared` by a
/// component (the first declaration of an id wins), with its secret from `secrets`, then the
/// configured ones (`[[sso.clients]]`), which replace a declared or demo client of the same id;
/// a configured replacement of a declared client that names no secret, keys or public use
/// keeps the declared client's secret.
pub fn registered_clients<'a>(
    declared: impl IntoIterator<Item = &'a ClientSpec>,
    configured: &[ClientConfig],
    secrets: &ClientSecrets,
) -> Vec<ClientConfig> {
    let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let mut all: Vec<ClientConfig> = Vec::new();
    for client in declared {
        if all.iter().any(|c| c.client_id == client.client_id) {
            continue;
        }
        all.push(ClientConfig {
            client_id: client.client_id.to_owned(),
            name: client.name.to_owned(),
            name_en: client.name_en.to_owned(),
            secret: Some(secrets.secret(client.client_id)),
            grant_types: strings(client.grant_types),
            scopes: strings(client.scopes),
            ..ClientConfig::default()
        });
    }
    let declared = all.len();
    for client in configured {
        let mut client = client.clone();
        let replaces_declared = all[..declared]
            .iter()
            .any(|c| c.client_id == client.client_id);
        if replaces_declared && !client.names_credentials() {
            client.secret = Some(secrets.secret(&client.client_id));
        }
        all.push(client);
    }
    all
}

/// Every client the components of `ctx` (this one included) declare.
fn declared_clients(ctx: &Context) -> Vec<&'static ClientSpec> {
    std::iter::once(&SPEC)
        .chain(ctx.peers().map(|peer| peer.spec))
        .flat_map(|spec| spec.clients.iter())
        .collect()
}

/// The issuer for `section` in `ctx`: configured, else the edge's own address when it runs in
/// this process, else [`DEFAULT_ISSUER`].
pub fn issuer(ctx: &Context, section: &SsoConfig) -> String {
    if let Some(issuer) = &section.issuer {
        return issuer.clone();
    }
    ctx.peers()
        .find(|peer| peer.spec.role == Role::Edge)
        .and_then(|edge| edge.url.clone())
        .map(|url| url.replace("://0.0.0.0:", "://127.0.0.1:"))
        .unwrap_or_else(|| DEFAULT_ISSUER.to_owned())
}

/// How long a retired key stays in the JWKS: the longest lifetime of a token it may have
/// signed, and a minute more.
fn keep_retired(
    lifetimes: &Lifetimes,
    clients: &std::collections::BTreeMap<String, crate::clients::Client>,
) -> Duration {
    let longest_client = clients
        .values()
        .map(|c| Duration::from_secs(c.config.access_token_lifetime_seconds))
        .max()
        .unwrap_or_default();
    lifetimes
        .access_token
        .max(longest_client)
        .max(crate::grpc::MAX_ISSUED_LIFETIME)
        + Duration::from_secs(60)
}

/// The SSO component.
#[derive(Debug, Default)]
pub struct SsoComponent;

impl Component for SsoComponent {
    fn spec(&self) -> &'static ComponentSpec {
        &SPEC
    }

    fn error_reasons(&self) -> Option<ErrorReasons> {
        Some(ErrorReasons::new("Single sign-on", crate::REASONS))
    }

    fn listen(&self, config: &Figment) -> Result<SocketAddr, ConfigError> {
        let section = config::section::<SsoConfig>(config, SECTION)?;
        section.check()?;
        Ok(section.listen)
    }

    fn serve(&self, ctx: Context, listener: TcpListener, shutdown: Shutdown) -> Running {
        Box::pin(async move {
            let section: SsoConfig = ctx.section(SECTION)?;
            section.check()?;
            let vneid = ctx.peer_url(&SPEC, VNEID, section.vneid_url.as_deref())?;
            let population =
                ctx.peer_url(&SPEC, POPULATION_DB, section.population_url.as_deref())?;
            let vneid =
                sandbox06_runtime::peer_channel(&vneid).map_err(StartError::channel(SPEC.name))?;
            let population = sandbox06_runtime::peer_channel(&population)
                .map_err(StartError::channel(SPEC.name))?;
            let store = ctx
                .section::<StoreConfig>(sandbox06_store::SECTION)?
                .for_component(SPEC.name)
                // Shared by every parallel job: the pages and the token endpoint carry no
                // tenant, and what it keeps (sessions, codes, grants, locks) is keyed by values
                // no two jobs share.
                .open_checked_shared()
                .await
                .map_err(StartError::dependency(SPEC.name, "state store"))?;
            let declared = declared_clients(&ctx);
            // The SSO's own section holds the key: the rule is the one every context is given.
            let secrets = client_secrets(&section);
            let registered = registered_clients(declared, &section.clients, &secrets);
            let clients = registry(&registered).map_err(|e| ConfigError::Value {
                key: format!("{SECTION}.clients"),
                message: e.to_string(),
            })?;
            let lifetimes = Lifetimes {
                access_token: Duration::from_secs(section.access_token_lifetime_seconds),
                refresh_token: Duration::from_secs(section.refresh_token_lifetime_seconds),
                refresh_reuse_grace: Duration::from_secs(section.refresh_token_reuse_grace_seconds),
                ..Lifetimes::default()
            };
            let issuer = issuer(&ctx, &section);
            let keep = keep_retired(&lifetimes, &clients);
            tracing::info!(issuer = %issuer, clients = clients.len(), "single sign-on starting");
            let provider = Arc::new(Provider {
                issuer,
                clients,
                // A retired key stays published while tokens it signed may live: the longest
                // lifetime of any client's tokens, and a day for tokens issued on demand.
                keys: Keys::new(store.clone(), keep),
                store: store.clone(),
                identity: Identity::new(vneid, population),
                lifetimes,
                tech_ids: TechIdKey::new(&section.tech_id_key),
                throttle: Throttle::default(),
                browser_key: BrowserKey::default(),
                clock: ctx.clock.clone(),
            });
            // Keys are read, or made on a store's first start, beside the ready path.
            let warm = Arc::clone(&provider);
            tokio::spawn(async move {
                if let Err(error) = warm.keys.load().await {
                    tracing::warn!(error = %error, "signing keys not ready yet; retried on first use");
                }
            });
            let builder = ServerBuilder::new(&ctx.limits)
                .clock(ctx.clock.clone())
                .component(SPEC.name)
                .error_reasons(crate::REASONS)
                .control_key(ctx.control_key())
                .add_service(
                    SsoServiceServer::new(SsoApi::new(Arc::clone(&provider)))
                        .max_decoding_message_size(ctx.limits.max_request_bytes),
                )
                // The sandbox controls, leaving the configuration kept in the store.
                .add_service(
                    StateService::new("the single sign-on's state store", store.clone())
                        .keeping(KEPT)
                        .shared_by_tenants()
                        .into_server(),
                )
                .http_routes(crate::http::router(provider));
            builder
                .serve_while(listener, shutdown, store.answers(STORE_PROBE_TIMEOUT))
                .await
                .map_err(StartError::serve(SPEC.name))
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn declared_clients_are_registered_with_the_secret_their_component_gets() {
        let section = SsoConfig::default();
        let secrets = client_secrets(&section);
        let declared = SPEC.clients.iter();
        let clients = registry(&registered_clients(declared, &[], &secrets)).unwrap();
        let sso = &clients["svc-sso"].config;
        let secret = service_client_secret(DEFAULT_SERVICE_CLIENT_KEY, "svc-sso");
        assert_eq!(sso.secret.as_deref(), Some(secret.as_str()));
        assert_eq!(secrets.secret("svc-sso"), secret);
        assert!(sso.grant_types.iter().any(|g| g == CLIENT_CREDENTIALS));
        assert!(sso.scopes.iter().any(|s| s == "vneid.authenticate"));
        // Another key, other secrets; the demo clients stay as documented.
        assert_ne!(service_client_secret("another key", "svc-sso"), secret);
        assert_eq!(
            clients["demo-hotel"].config.secret.as_deref(),
            Some("demo-hotel-secret")
        );

        // A configured entry of the same id replaces the declared client: without a secret it
        // keeps the derived one; with one, the component is given that one.
        let narrower = ClientConfig {
            client_id: "svc-sso".to_owned(),
            grant_types: vec![CLIENT_CREDENTIALS.to_owned()],
            scopes: vec!["vneid.read".to_owned()],
            ..ClientConfig::default()
        };
        let clients = registry(&registered_clients(
            SPEC.clients.iter(),
            std::slice::from_ref(&narrower),
            &secrets,
        ))
        .unwrap();
        assert_eq!(
            clients["svc-sso"].config.secret.as_deref(),
            Some(secret.as_str())
        );
        assert_eq!(clients["svc-sso"].config.scopes, ["vneid.read"]);
        let with_secret = SsoConfig {
            clients: vec![ClientConfig {
                secret: Some("s3cret".to_owned()),
                ..narrower
            }],
            ..SsoConfig::default()
        };
        assert_eq!(client_secrets(&with_secret).secret("svc-sso"), "s3cret");

        let no_key = SsoConfig {
            service_client_key: String::new(),
            ..SsoConfig::default()
        };
        assert!(no_key.check().is_err());
    }

    #[test]
    fn issuers_of_odd_forms_and_long_reuse_windows_are_refused() {
        let with_issuer = |issuer: &str| SsoConfig {
            issuer: Some(issuer.to_owned()),
            ..SsoConfig::default()
        };
        assert!(with_issuer("http://127.0.0.1:4606").check().is_ok());
        for odd in [
            "http://evil.example@127.0.0.1:4606",
            "http://127.0.0.1:4606#x",
            "http://127.0.0.1:4606/",
        ] {
            assert!(with_issuer(odd).check().is_err(), "{odd}");
        }
        let long_window = SsoConfig {
            refresh_token_reuse_grace_seconds: 61,
            ..SsoConfig::default()
        };
        assert!(long_window.check().is_err());
    }
}
