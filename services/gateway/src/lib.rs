//! The sandbox06 edge: one port in front of every component.
//!
//! - forwards every gRPC call to the backend serving its service, bodies streamed through
//!   untouched (unary and streaming), metadata, headers and trailers preserved;
//! - continues the caller's trace with a `gateway` span and passes it on (`traceparent`);
//! - consults an [`Authorizer`] with each method's policy from the contract;
//! - refuses request messages above `limits.max_request_bytes` (`REQUEST_TOO_LARGE`);
//! - answers `grpc.health.v1` for itself (`""`) and for every backend service, mirrored from
//!   the backends, and reflection (v1 and v1alpha) for the whole suite.
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

mod health;
pub mod policy;
mod proxy;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use sandbox06_runtime::client::ChannelError;
use sandbox06_runtime::config::Limits;
use sandbox06_runtime::server::{ServeError, ServerBuilder};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tonic_health::ServingStatus;

pub use crate::policy::{AllowAll, Authorizer, MethodInfo, MethodPolicy, PolicyTable};
use crate::proxy::{Proxy, ProxyState, Route};

/// A component behind the gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backend {
    /// Component name, e.g. `citizen`.
    pub name: String,
    /// Where it listens, e.g. `http://127.0.0.1:4610`.
    pub url: String,
    /// Fully-qualified gRPC services it serves, e.g. `sandbox06.citizen.v1.CitizenService`.
    pub services: Vec<String>,
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
        }
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
    /// The contract's policies do not load.
    #[error("method policies: {0}")]
    Policy(#[from] policy::PolicyError),
    /// The server failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
}

/// The edge gateway: backends, an authorizer and limits; [`Gateway::serve`] runs it.
pub struct Gateway {
    backends: Vec<Backend>,
    authorizer: Arc<dyn Authorizer>,
    limits: Limits,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("backends", &self.backends)
            .field("limits", &self.limits)
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
        }
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

    /// Serves on `listener` until `shutdown` completes.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), GatewayError> {
        let policies = PolicyTable::from_pool(&sandbox06_proto::DESCRIPTOR_POOL)?;
        if policies.declared() == 0 {
            tracing::warn!(
                "no method declares a policy: the descriptor set lost its custom options"
            );
        }
        let mut builder = ServerBuilder::new(&self.limits).component("gateway");
        let health = builder.health_reporter();
        let mut routes: HashMap<String, Route> = HashMap::new();
        let mut mirrors = JoinSet::new();
        for backend in self.backends {
            let channel = sandbox06_runtime::grpc_channel(&backend.url).map_err(|source| {
                GatewayError::Backend {
                    backend: backend.name.clone(),
                    source,
                }
            })?;
            let name: Arc<str> = Arc::from(backend.name.as_str());
            for service in &backend.services {
                if let Some(existing) = routes.get(service) {
                    return Err(GatewayError::DuplicateService {
                        service: service.clone(),
                        first: existing.backend.to_string(),
                        second: backend.name,
                    });
                }
                routes.insert(
                    service.clone(),
                    Route {
                        backend: Arc::clone(&name),
                        channel: channel.clone(),
                    },
                );
                // Down until the backend says otherwise.
                health
                    .set_service_status(service, ServingStatus::NotServing)
                    .await;
                builder = builder.list_service(service.clone());
            }
            tracing::info!(backend = %backend.name, url = %backend.url, services = ?backend.services, "routing backend");
            mirrors.spawn(health::mirror_backend(
                backend.name,
                channel,
                backend.services,
                health.clone(),
            ));
        }
        let proxy = Proxy::new(ProxyState {
            routes,
            policies,
            authorizer: self.authorizer,
        });
        let served = builder.fallback(proxy).serve(listener, shutdown).await;
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
