//! The edge as a component of the suite: its configuration section (`gateway`) and how it
//! starts, routing every [`Role::Service`] component of the list.

use std::{
    collections::BTreeMap,
    net::{Ipv4Addr, SocketAddr},
};

use figment::Figment;
use sandbox06_runtime::{
    component::{
        Component, ComponentSpec, Context, Role, Running, Shutdown, StartError,
        controlled_components,
    },
    config::{self, ConfigError},
};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::auth::{DISCOVERY_PATH, TokenAuthorizer};
use crate::{AllowAll, Backend, CorsPolicy, Gateway, GatewayError, JournalConfig};

/// The edge port.
pub const EDGE_PORT: u16 = 4606;

/// What the edge is.
pub static SPEC: ComponentSpec = ComponentSpec {
    name: "gateway",
    summary: "the edge: one port for every service, with health, reflection and method policies",
    role: Role::Edge,
    section: SECTION,
    grpc_services: &[],
    http_prefixes: &[],
    peers: &[],
    container_port: EDGE_PORT,
    clients: &[],
};

/// Its configuration section.
pub const SECTION: &str = "gateway";

/// The `gateway` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// Address of the edge port.
    pub listen: SocketAddr,
    /// URL of each service when the edge runs alone, by component name, e.g.
    /// `citizen = "http://citizen:4610"`.
    pub backends: BTreeMap<String, String>,
    /// Refuse calls without a valid access token carrying the method's scope (the default).
    /// `false` lets every call through, for a quick local try: a valid token still names the
    /// caller. Set `SANDBOX06_GATEWAY__ENFORCE_AUTH=false`.
    pub enforce_auth: bool,
    /// Browsers' cross-origin calls (REST and gRPC-Web).
    pub cors: CorsConfig,
    /// The journal of calls the edge keeps for contract tests (`JournalControl`).
    pub journal: JournalConfig,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, EDGE_PORT)),
            backends: BTreeMap::new(),
            enforce_auth: true,
            cors: CorsConfig::default(),
            journal: JournalConfig::default(),
        }
    }
}

/// Which web pages may call the edge from another origin.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct CorsConfig {
    /// Origins whose pages may call: `https://portal.example`, `http://localhost:*` for any
    /// port, or `*` for every origin. By default only pages on localhost, 127.0.0.1 and [::1];
    /// an empty list allows none (pages on the edge's own origin always may).
    pub allowed_origins: Vec<String>,
}

impl Default for CorsConfig {
    fn default() -> Self {
        Self {
            allowed_origins: sandbox06_runtime::cors::LOOPBACK_ORIGINS
                .iter()
                .map(|o| (*o).to_owned())
                .collect(),
        }
    }
}

/// The edge component.
#[derive(Debug, Default)]
pub struct GatewayComponent;

impl GatewayComponent {
    /// The backends to route: every service of the list, at its in-process address or at the
    /// URL configured for it.
    fn backends(ctx: &Context, section: &GatewayConfig) -> Result<Vec<Backend>, StartError> {
        let services: Vec<_> = ctx
            .peers()
            .filter(|peer| peer.spec.role == Role::Service)
            .collect();
        if let Some(unknown) = section
            .backends
            .keys()
            .find(|name| !services.iter().any(|peer| peer.spec.name == name.as_str()))
        {
            return Err(ConfigError::Value {
                key: format!("{SECTION}.backends.{unknown}"),
                message: format!(
                    "no service is named {unknown:?}; services: {}",
                    services
                        .iter()
                        .map(|peer| peer.spec.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
            .into());
        }
        services
            .into_iter()
            .map(|peer| {
                let configured = section.backends.get(peer.spec.name).map(String::as_str);
                let url = ctx.peer_url(&SPEC, peer.spec.name, configured)?;
                Ok(
                    Backend::new(peer.spec.name, url, peer.spec.grpc_services.iter().copied())
                        .with_http_prefixes(peer.spec.http_prefixes.iter().copied()),
                )
            })
            .collect()
    }
}

impl Component for GatewayComponent {
    fn spec(&self) -> &'static ComponentSpec {
        &SPEC
    }

    fn listen(&self, config: &Figment) -> Result<SocketAddr, ConfigError> {
        Ok(config::section::<GatewayConfig>(config, SECTION)?.listen)
    }

    fn serve(&self, ctx: Context, listener: TcpListener, shutdown: Shutdown) -> Running {
        Box::pin(async move {
            let section: GatewayConfig = ctx.section(SECTION)?;
            let backends = Self::backends(&ctx, &section)?;
            // Tokens are verified against the backend serving the OpenID discovery document.
            let sso = backends
                .iter()
                .find(|b| b.http_prefixes.iter().any(|p| p == DISCOVERY_PATH))
                .map(|b| b.url.clone());
            let cors =
                CorsPolicy::new(&section.cors.allowed_origins).map_err(|e| ConfigError::Value {
                    key: format!("{SECTION}.cors.allowed_origins"),
                    message: e.to_string(),
                })?;
            section.journal.check(&format!("{SECTION}.journal"))?;
            let gateway = Gateway::new(backends)
                .with_journal(section.journal.clone())
                .with_limits(ctx.limits.clone())
                .with_reference_date(ctx.today)
                .with_clock(ctx.clock.clone())
                .with_control_key(ctx.control_key())
                .with_controlled_components(controlled_components(
                    std::iter::once(&SPEC).chain(ctx.peers().map(|peer| peer.spec)),
                ))
                .with_cors(cors);
            let gateway = match sso {
                Some(url) => gateway.with_authorizer(TokenAuthorizer::new(
                    url,
                    section.enforce_auth,
                    ctx.clock.clone(),
                )),
                // Nothing to verify against, and nothing to enforce: every call is anonymous.
                None if !section.enforce_auth => gateway.with_authorizer(AllowAll),
                None => {
                    return Err(ConfigError::Value {
                        key: format!("{SECTION}.enforce_auth"),
                        message: "no service serves the single sign-on to verify tokens against; run it, or set enforce_auth = false".to_owned(),
                    }
                    .into());
                }
            };
            if !section.enforce_auth {
                tracing::warn!("token enforcement is off: every call goes through");
            }
            gateway
                .serve(listener, shutdown)
                .await
                .map_err(|e| match e {
                    GatewayError::Serve(source) => StartError::Serve {
                        component: SPEC.name,
                        source,
                    },
                    GatewayError::Backend { source, .. } => StartError::Channel {
                        component: SPEC.name,
                        source,
                    },
                    other => StartError::Dependency {
                        component: SPEC.name,
                        what: "routes",
                        source: Box::new(other),
                    },
                })
        })
    }
}
