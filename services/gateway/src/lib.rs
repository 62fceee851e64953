//! The sandbox06 edge: one port in front of every component, speaking HTTP/1.1 and h2c.
//! Requests are split by protocol first: `content-type: application/grpc*` is gRPC, everything
//! else HTTP.
//!
//! - forwards every gRPC call to the backend serving its service, bodies streamed through
//!   untouched (unary and streaming), metadata, headers and trailers preserved;
//! - forwards every HTTP request under a backend's path prefix to that backend over HTTP,
//!   bodies streamed, hop-by-hop headers dropped, `x-forwarded-*` set; serves edge-local HTTP
//!   routes ([`Gateway::with_http_routes`]); any other path gets a JSON 404;
//! - continues the caller's trace with a `gateway` span and passes it on (`traceparent`);
//! - consults an [`Authorizer`] with each method's policy from the contract, and passes the
//!   [`Caller`] it returns to the backend in `x-sandbox06-caller-*` headers, after stripping
//!   any the client sent (see [`sandbox06_runtime::caller`]);
//! - refuses request messages (gRPC) and bodies (HTTP) above `limits.max_request_bytes`
//!   (`REQUEST_TOO_LARGE`);
//! - answers `grpc.health.v1` for itself (`""`) and for every backend service, mirrored from
//!   the backends, and reflection (v1 and v1alpha) for the whole suite.
//!
//! Every call through the edge, gRPC, gRPC-Web or REST, is recorded once in a bounded journal
//! that `sandbox06.admin.v1.JournalControl`, served on the edge's own server, lists, verifies
//! and clears (`journal/`, [`JournalConfig`]).
//!
//! Every call of the contract, gRPC, gRPC-Web or REST, goes through the same phases over one
//! per-call context (`phases.rs`): route (the method's backend and policy, from the route table
//! built before the server starts, `routes.rs`), authorize (once), forward. REST adds its own
//! steps around them (`rest/`: routes, transcoding, streaming), with the proto3 JSON mapping of
//! `json_map/` that the API document ([`openapi`]) states too.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use sandbox06_gateway::{Backend, Gateway};
//!
//! let listener = sandbox06_runtime::server::bind("127.0.0.1:4606".parse()?).await?;
//! let citizen = Backend::new("citizen", "http://127.0.0.1:4610", ["sandbox06.citizen.v1.CitizenService"]);
//! Gateway::new(vec![citizen])
//!     .serve(listener, async { let _ = tokio::signal::ctrl_c().await; })
//!     .await?;
//! # Ok(()) }
//! ```

pub mod auth;
pub mod component;
mod docs;
mod health;
mod http_proxy;
mod journal;
mod json_map;
pub mod openapi;
mod phases;
pub mod policy;
mod proxy;
mod reframe;
mod rest;
mod routes;

use std::future::Future;
use std::sync::Arc;

use sandbox06_runtime::client::ChannelError;
use sandbox06_runtime::config::{ConfigError, Limits};
pub use sandbox06_runtime::cors::CorsPolicy;
use sandbox06_runtime::server::{ServeError, ServerBuilder};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tonic_health::ServingStatus;
use tower::Layer;

pub use crate::auth::TokenAuthorizer;
pub use crate::component::{GatewayComponent, GatewayConfig};
use crate::http_proxy::HttpProxy;
pub use crate::journal::{Bodies, JournalConfig};
use crate::journal::{Journal, JournalService};
use crate::phases::Edge;
pub use crate::policy::{AllowAll, Authorizer, Caller, MethodInfo, MethodPolicy, PolicyTable};
use crate::proxy::Proxy;
use crate::routes::RouteTable;

/// A component behind the gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backend {
    /// Component name, e.g. `citizen`.
    pub name: String,
    /// Where it listens, e.g. `http://127.0.0.1:4610`.
    pub url: String,
    /// Fully-qualified gRPC services it serves, e.g. `sandbox06.citizen.v1.CitizenService`.
    pub services: Vec<String>,
    /// HTTP path prefixes it serves, e.g. `/oidc`: a prefix claims itself and every path below
    /// it (`/oidc/token`), never a longer name (`/oidcx`).
    pub http_prefixes: Vec<String>,
}

impl Backend {
    /// A backend named `name` at `url` serving `services`.
    pub fn new(
        name: impl Into<String>,
        url: impl Into<String>,
        services: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            name: name.into(),
            url: url.into(),
            services: services.into_iter().map(Into::into).collect(),
            http_prefixes: Vec::new(),
        }
    }

    /// Also routes HTTP requests under `prefixes` to this backend.
    pub fn with_http_prefixes(
        mut self,
        prefixes: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.http_prefixes
            .extend(prefixes.into_iter().map(Into::into));
        self
    }
}

/// Errors of [`Gateway::serve`].
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// A backend's URL is not usable.
    #[error("backend {backend}: {source}")]
    Backend {
        /// The backend's name.
        backend: String,
        /// Why its URL is refused.
        source: ChannelError,
    },
    /// Two backends claim the same service.
    #[error("service {service} is served by both {first} and {second}")]
    DuplicateService {
        /// The service.
        service: String,
        /// The backend listed first.
        first: String,
        /// The backend listed second.
        second: String,
    },
    /// Two backends claim the same HTTP path prefix.
    #[error("http prefix {prefix} is served by both {first} and {second}")]
    DuplicatePrefix {
        /// The prefix.
        prefix: String,
        /// The backend listed first.
        first: String,
        /// The backend listed second.
        second: String,
    },
    /// A backend's HTTP path prefix is not a path.
    #[error(
        "backend {backend}: http prefix {prefix:?} must be a path such as /oidc, without query, fragment or spaces"
    )]
    InvalidPrefix {
        /// The backend's name.
        backend: String,
        /// The prefix given.
        prefix: String,
    },
    /// A backend serving HTTP prefixes has a URL without scheme or host.
    #[error("backend {backend}: url {url:?} needs a scheme and a host to forward http to")]
    HttpUrl {
        /// The backend's name.
        backend: String,
        /// The URL given.
        url: String,
    },
    /// The journal's configuration is refused.
    #[error(transparent)]
    Journal(ConfigError),
    /// The contract's policies do not load.
    #[error("method policies: {0}")]
    Policy(#[from] policy::PolicyError),
    /// The server failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
}

/// The edge gateway: backends, an authorizer, limits and edge-local HTTP routes;
/// [`Gateway::serve`] runs it.
pub struct Gateway {
    backends: Vec<Backend>,
    authorizer: Arc<dyn Authorizer>,
    limits: Limits,
    http_routes: axum::Router,
    cors: Option<CorsPolicy>,
    /// The suite's reference date, which the API document's ID numbers and dates depend on.
    reference: Option<time::Date>,
    /// The suite's clock, which the server's `ClockControl` reads and sets.
    clock: Option<sandbox06_runtime::clock::Clock>,
    /// The components the sandbox's controls reach, for the API document.
    controlled: Vec<String>,
    /// The suite's control key, which the edge's own control services take calls with.
    control_key: Option<String>,
    /// The journal of calls.
    journal: JournalConfig,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("backends", &self.backends)
            .field("limits", &self.limits)
            .field("journal", &self.journal)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// A gateway in front of `backends`, letting every call through, with default limits.
    pub fn new(backends: Vec<Backend>) -> Self {
        Self {
            backends,
            authorizer: Arc::new(AllowAll),
            limits: Limits::default(),
            http_routes: axum::Router::new(),
            cors: None,
            reference: None,
            clock: None,
            controlled: Vec::new(),
            control_key: None,
            journal: JournalConfig::default(),
        }
    }

    /// Keeps the journal of calls as `config` says (default: on, masked bodies, 1000 calls).
    pub fn with_journal(mut self, config: JournalConfig) -> Self {
        self.journal = config;
        self
    }

    /// Answers browsers' cross-origin REST and gRPC-Web calls as `policy` says; the backends'
    /// own HTTP prefixes (the single sign-on's endpoints) keep their own policy.
    pub fn with_cors(mut self, policy: CorsPolicy) -> Self {
        self.cors = Some(policy);
        self
    }

    /// Serves `router` on the edge itself (e.g. `/metrics`), next to the backends' HTTP
    /// prefixes; an exact route wins over a backend prefix that contains it. Routers add up.
    pub fn with_http_routes(mut self, router: axum::Router) -> Self {
        self.http_routes = self.http_routes.merge(router);
        self
    }

    /// Decides every forwarded call with `authorizer`.
    pub fn with_authorizer(mut self, authorizer: impl Authorizer) -> Self {
        self.authorizer = Arc::new(authorizer);
        self
    }

    /// Enforces `limits`.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Describes the API for a suite whose reference date is `reference` (default: today in
    /// Vietnam).
    pub fn with_reference_date(mut self, reference: time::Date) -> Self {
        self.reference = Some(reference);
        self
    }

    /// The suite's clock (`Context::clock`): what tokens' expiry is judged against, and what
    /// the edge's internal `ClockControl` reads and sets.
    pub fn with_clock(mut self, clock: sandbox06_runtime::clock::Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The suite's control key (`Context::control_key`): the edge's own control services
    /// (`FaultControl`, `JournalControl`), on the port every client reaches, take only calls
    /// that carry it.
    pub fn with_control_key(mut self, key: Option<String>) -> Self {
        self.control_key = key;
        self
    }

    /// Names the components the sandbox's controls reach (what a fault rule or a reset may
    /// name), for the API document's schemas.
    pub fn with_controlled_components(mut self, names: Vec<String>) -> Self {
        self.controlled = names;
        self
    }

    /// Serves on `listener` until `shutdown` completes.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), GatewayError> {
        // The routes first, apart from the server: every method, REST route and prefix.
        let routes = RouteTable::build(self.backends, &sandbox06_proto::DESCRIPTOR_POOL)?;
        if routes.policies_declared == 0 {
            tracing::warn!(
                "no method declares a policy: the descriptor set lost its custom options"
            );
        }
        let mut builder = ServerBuilder::new(&self.limits)
            .component(component::SPEC.name)
            .control_key(self.control_key.clone());
        if let Some(clock) = &self.clock {
            builder = builder.clock(clock.clone());
        }
        let journal = if self.journal.enabled {
            self.journal
                .check("gateway.journal")
                .map_err(GatewayError::Journal)?;
            let journal = Journal::new(self.journal);
            builder = builder.add_service(JournalService::server(Arc::clone(&journal)));
            Some(journal)
        } else {
            None
        };
        if let Some(policy) = self.cors {
            let prefixes: Vec<String> = routes.http_prefixes().map(str::to_owned).collect();
            builder = builder.cors(policy.skipping(prefixes));
        }
        let health = builder.health_reporter();
        let mut mirrors = JoinSet::new();
        for backend in &routes.backends {
            for service in &backend.services {
                // Down until the backend says otherwise.
                health
                    .set_service_status(service, ServingStatus::NotServing)
                    .await;
                builder = builder.list_service(service.clone());
            }
            mirrors.spawn(health::mirror_backend(
                backend.name.clone(),
                backend.channel.clone(),
                backend.services.clone(),
                health.clone(),
            ));
        }
        // The API document of the REST routes, and the page that browses it.
        let single_sign_on = routes.serves_http(auth::DISCOVERY_PATH);
        let reference = self
            .reference
            .unwrap_or_else(sandbox06_vn::today_in_vietnam);
        let table = routes.rest().clone();
        let facts = openapi::Facts {
            reference,
            components: self.controlled,
        };
        let api_pages = docs::router(Box::new(move || {
            openapi::ApiDocument::from_table(&table, single_sign_on, facts)
        }));
        // HTTP routes that are not the contract's decide for themselves who may call: the edge
        // only names the caller.
        let identify = axum::middleware::from_fn_with_state(
            Arc::clone(&self.authorizer),
            http_proxy::identify_caller,
        );
        let local_routes = self.http_routes.merge(api_pages).layer(identify.clone());
        let http_backends = identify.layer(HttpProxy::new(routes.http.clone()));
        let edge = Arc::new(Edge {
            routes,
            authorizer: self.authorizer,
            timeout: self.limits.request_timeout(),
            journal,
        });
        // REST routes first, through the same phases as gRPC; then the backends' prefixes.
        let http_proxy = rest::Rest::new(
            Arc::clone(&edge),
            http_backends,
            self.limits.max_request_bytes,
        );
        let proxy = Proxy::new(edge);
        let served = builder
            .fallback(proxy)
            .http_routes(local_routes)
            .http_fallback(http_proxy)
            .serve(listener, shutdown)
            .await;
        // Dropping the set stops the health mirrors with the server.
        mirrors.abort_all();
        Ok(served?)
    }
}

/// Serves the gateway in front of `backends` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    backends: Vec<Backend>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> Result<(), GatewayError> {
    Gateway::new(backends)
        .with_limits(limits)
        .serve(listener, shutdown)
        .await
}
