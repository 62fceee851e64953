//! The one server bootstrap every component uses: health (`grpc.health.v1`), reflection (v1 and
//! v1alpha, listing exactly the services served), trace context ([`GrpcTraceLayer`]), the
//! request message limit ([`MessageLimitLayer`]), HTTP/2 limits and keepalive, `TCP_NODELAY`,
//! served on an already-bound listener with graceful shutdown, and fault injection
//! ([`crate::faults`]: the [`FaultLayer`] and the internal `FaultControl` service over the
//! server's [`FaultRegistry`]).
//! See the crate documentation for an example.
//!
//! The listener speaks HTTP/1.1 and h2c. Requests are split by content type first
//! ([`crate::http::ProtocolSplitLayer`]): gRPC calls reach the gRPC services and their layers,
//! everything else the HTTP routes given to [`ServerBuilder::http_routes`], with a body limit,
//! the HTTP trace layer and JSON errors (a JSON 404 for unknown paths).
//!
//! Generated tonic servers refuse messages above their own `max_decoding_message_size`
//! (4 MiB by default); a component raising `limits.max_request_bytes` above that sets it on its
//! servers too.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::response::IntoResponse;
use http::Request;
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic_health::server::HealthReporter;
use tower::Service;

use crate::clock::{CLOCK_CONTROL_SERVICE, Clock};
use crate::config::Limits;
use crate::control_key::ControlKeyLayer;
use crate::cors::{CorsLayer, CorsPolicy};
use crate::deadline::DeadlineLayer;
use crate::decode::DecodeErrorLayer;
use crate::error::{ErrorReason, ReasonCode};
use crate::faults::{FAULT_CONTROL_SERVICE, FaultControlService, FaultLayer, FaultRegistry};
use crate::http::{HttpService, ProtocolSplitLayer, http_service};
use crate::limit::MessageLimitLayer;
use crate::metadata_limit::ResponseMetadataLimitLayer;
use crate::panic::CatchPanicLayer;
use crate::telemetry::GrpcTraceLayer;

/// `grpc.health.v1.Health`
pub const HEALTH_SERVICE: &str = "grpc.health.v1.Health";
/// `grpc.reflection.v1.ServerReflection`
pub const REFLECTION_V1_SERVICE: &str = "grpc.reflection.v1.ServerReflection";
/// `grpc.reflection.v1alpha.ServerReflection`
pub const REFLECTION_V1ALPHA_SERVICE: &str = "grpc.reflection.v1alpha.ServerReflection";

/// Errors of [`bind`] and [`ServerBuilder::serve`].
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The reflection service could not be built from the descriptor sets.
    #[error("reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The server failed while serving.
    #[error("grpc server: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Binds a TCP listener on `addr` (port 0 picks an ephemeral port).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// Builds and runs a gRPC server with the suite's standard services and layers.
#[derive(Debug)]
pub struct ServerBuilder {
    routes: Routes,
    health: HealthReporter,
    listed: Vec<String>,
    limits: Limits,
    http_routes: axum::Router,
    http_fallback: Option<HttpService>,
    component: Option<&'static str>,
    cors: Option<CorsPolicy>,
    faults: FaultRegistry,
    control_key: Option<String>,
    clock: Clock,
}

impl ServerBuilder {
    /// A server with health and reflection and the given limits; add services, then serve.
    pub fn new(limits: &Limits) -> Self {
        let (health, health_server) = tonic_health::server::health_reporter();
        Self {
            routes: Routes::new(health_server),
            health,
            listed: vec![HEALTH_SERVICE.to_owned()],
            limits: limits.clone(),
            http_routes: axum::Router::new(),
            http_fallback: None,
            component: None,
            cors: None,
            faults: FaultRegistry::new(crate::telemetry::service_name()),
            control_key: None,
            clock: Clock::system(),
        }
    }

    /// Names the component this server belongs to (`gateway`, `citizen`, `population-db`...):
    /// the `service.name` of its spans and of every span beneath them, and the `component` label
    /// of its metrics. Unnamed, it takes the process's name ([`crate::telemetry::service_name`]).
    pub fn component(mut self, name: &'static str) -> Self {
        self.component = Some(name);
        self.faults.set_component(name);
        self
    }

    /// The component's own error reasons (its `REASONS` list), which the status faults of its
    /// fault rules and of the `x-sandbox06-fault` header may name besides the generic ones.
    pub fn error_reasons<R: ErrorReason + Copy>(self, reasons: &[R]) -> Self {
        self.faults
            .set_reasons(reasons.iter().map(|&reason| ReasonCode::from(reason)));
        self
    }

    /// The suite's control key ([`crate::control_key`], `Context::control_key`): the
    /// server's control services refuse a call without it. None takes every control call.
    pub fn control_key(mut self, key: Option<String>) -> Self {
        self.control_key = key;
        self
    }

    /// The suite's clock (`Context::clock`), which the server's internal `ClockControl`
    /// service reads and sets ([`crate::clock`]). Unset, the server keeps a clock of its own.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The server's fault rules, as its `FaultControl` service edits them (for a component that
    /// sets rules in-process).
    pub fn fault_registry(&self) -> FaultRegistry {
        self.faults.clone()
    }

    /// The health reporter: set each added service SERVING once it is ready (`""`, the whole
    /// server, is SERVING from the start).
    pub fn health_reporter(&self) -> HealthReporter {
        self.health.clone()
    }

    /// Serves a generated tonic server and lists it in reflection.
    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: Service<Request<tonic::body::Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: IntoResponse,
        S::Future: Send + 'static,
    {
        self.listed.push(S::NAME.to_owned());
        self.routes = self.routes.add_service(service);
        self
    }

    /// Lists `service_name` in reflection although it is served by the fallback (a proxy).
    pub fn list_service(mut self, service_name: impl Into<String>) -> Self {
        self.listed.push(service_name.into());
        self
    }

    /// Answers every path no added service claims (instead of `UNIMPLEMENTED`).
    pub fn fallback<S>(mut self, service: S) -> Self
    where
        S: Service<Request<axum::body::Body>, Error = Infallible> + Clone + Send + Sync + 'static,
        S::Response: IntoResponse,
        S::Future: Send + 'static,
    {
        let router = std::mem::take(self.routes.axum_router_mut());
        *self.routes.axum_router_mut() = router.fallback_service(service);
        self
    }

    /// Serves `router` to every request that is not gRPC, next to the gRPC services; request
    /// bodies are limited to `limits.max_request_bytes`. Routers add up. A fallback set on
    /// `router` is replaced: see [`ServerBuilder::http_fallback`].
    pub fn http_routes(mut self, router: axum::Router) -> Self {
        self.http_routes = self.http_routes.merge(router);
        self
    }

    /// Answers every non-gRPC path no HTTP route claims (instead of the JSON 404).
    pub fn http_fallback<S>(mut self, service: S) -> Self
    where
        S: Service<
                Request<axum::body::Body>,
                Response = http::Response<axum::body::Body>,
                Error = Infallible,
            > + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.http_fallback = Some(HttpService::new(service));
        self
    }

    /// Answers browsers' cross-origin calls (REST and gRPC-Web) as `policy` says; without it,
    /// no CORS header is added.
    pub fn cors(mut self, policy: CorsPolicy) -> Self {
        self.cors = Some(policy);
        self
    }

    /// [`ServerBuilder::serve`], with every added service SERVING only while `dependency`
    /// (asked every [`HEALTH_CHECK_EVERY`], every [`HEALTH_RETRY_EVERY`] while it fails) says
    /// what the server depends on answers.
    pub async fn serve_while<F, Fut>(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
        dependency: F,
    ) -> Result<(), ServeError>
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = bool> + Send,
    {
        let services: Vec<String> = self
            .listed
            .iter()
            .filter(|name| *name != HEALTH_SERVICE)
            .cloned()
            .collect();
        for service in &services {
            self.health
                .set_service_status(service, tonic_health::ServingStatus::Serving)
                .await;
        }
        let watch = keep_health(self.health.clone(), services, dependency);
        let served = self.serve(listener, shutdown).await;
        watch.abort();
        served
    }

    /// Serves on `listener` until `shutdown` completes, then drains open calls.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), ServeError> {
        let (reflection_v1, reflection_v1alpha) = reflection(&self.listed)?;
        // FaultControl and ClockControl are internal: served, never listed in reflection.
        let routes = self
            .routes
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(FaultControlService::new(self.faults.clone()).into_server())
            .add_service(self.clock.control());
        let local_addr = listener.local_addr().ok();
        // Every component serves its own request metrics.
        let component = self
            .component
            .unwrap_or_else(crate::telemetry::service_name);
        self.faults.set_component(component);
        let http = http_service(
            self.http_routes.merge(crate::metrics::metrics_router()),
            self.http_fallback,
            self.limits.max_request_bytes,
            component,
        );
        let mut served = self.listed.clone();
        served.extend([
            REFLECTION_V1_SERVICE.to_owned(),
            REFLECTION_V1ALPHA_SERVICE.to_owned(),
            FAULT_CONTROL_SERVICE.to_owned(),
            CLOCK_CONTROL_SERVICE.to_owned(),
        ]);
        let methods = method_descriptors(&served);
        let trace = GrpcTraceLayer::new(component).with_methods(methods.iter().map(path_of));
        // Unary and server-streaming methods take exactly one request message.
        let single_message = methods
            .iter()
            .filter(|method| !method.is_client_streaming())
            .map(path_of);
        tracing::info!(
            addr = ?local_addr,
            component = self.component,
            services = ?self.listed,
            "serving grpc"
        );
        let service = tower::ServiceBuilder::new()
            .layer(CorsLayer::new(self.cors))
            .layer(ProtocolSplitLayer::new(http))
            // Outermost on the gRPC side: whatever answers, its metadata fits every peer.
            .layer(ResponseMetadataLimitLayer)
            .layer(trace)
            // Inside the trace layer: a faulted call is traced and counted.
            .layer(FaultLayer::new(
                self.faults.clone(),
                self.limits.max_request_bytes,
                self.limits.request_timeout(),
            ))
            .layer(
                MessageLimitLayer::new(self.limits.max_request_bytes)
                    .with_single_message_methods(single_message),
            )
            .layer(DeadlineLayer::new(self.limits.request_timeout()))
            .layer(DecodeErrorLayer)
            .layer(CatchPanicLayer)
            // The control services take the admin surface's calls only.
            .layer(ControlKeyLayer::new(self.control_key.clone()))
            .service(routes.prepare());
        // Calls from this process's components take no socket while it serves.
        let registration = local_addr
            .filter(|_| self.limits.in_process_hops)
            .map(|addr| {
                let local = tower::ServiceExt::<http::Request<tonic::body::Body>>::map_response(
                    service.clone(),
                    |response: http::Response<_>| response.map(tonic::body::Body::new),
                );
                crate::in_process::register(addr, crate::in_process::LocalService::new(local))
            });
        // Out of the registry as the listener stops accepting (or as serving ends): later
        // calls fail as at a closed socket, while those already open finish.
        let shutdown = async move {
            shutdown.await;
            drop(registration);
        };
        crate::connections::serve(listener, service, &self.limits, shutdown).await;
        tracing::info!(addr = ?local_addr, "grpc server stopped");
        Ok(())
    }
}

/// A method's path, `/package.Service/Method`.
fn path_of(method: &prost_reflect::MethodDescriptor) -> String {
    format!("/{}/{}", method.parent_service().full_name(), method.name())
}

/// Every method of `services`, from the suite's descriptors and those of health and
/// reflection.
fn method_descriptors(services: &[String]) -> Vec<prost_reflect::MethodDescriptor> {
    let mut pools = vec![sandbox06_proto::DESCRIPTOR_POOL.clone()];
    for set in [
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
    ] {
        match prost_reflect::DescriptorPool::decode(set) {
            Ok(pool) => pools.push(pool),
            Err(error) => tracing::warn!(%error, "a descriptor set does not decode"),
        }
    }
    services
        .iter()
        .filter_map(|name| pools.iter().find_map(|pool| pool.get_service_by_name(name)))
        .flat_map(|service| service.methods().collect::<Vec<_>>())
        .collect()
}

/// The encoded descriptors of `services`, made once per set of services: reflection keeps a
/// reference to them for as long as it serves.
fn served_descriptors(services: &[&str]) -> &'static [u8] {
    type Cache = std::sync::Mutex<HashMap<Vec<String>, &'static [u8]>>;
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    let key: Vec<String> = services.iter().map(|s| (*s).to_owned()).collect();
    let mut cache = CACHE
        .get_or_init(Cache::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    cache.entry(key).or_insert_with(|| {
        Box::leak(sandbox06_proto::descriptor_set_for(services).into_boxed_slice())
    })
}

/// Reflection v1 and v1alpha over the suite's descriptors, listing `services` and themselves.
fn reflection(
    services: &[String],
) -> Result<
    (
        tonic_reflection::server::v1::ServerReflectionServer<
            impl tonic_reflection::server::v1::ServerReflection,
        >,
        tonic_reflection::server::v1alpha::ServerReflectionServer<
            impl tonic_reflection::server::v1alpha::ServerReflection,
        >,
    ),
    ServeError,
> {
    let mut names: Vec<&str> = services.iter().map(String::as_str).collect();
    names.extend([REFLECTION_V1_SERVICE, REFLECTION_V1ALPHA_SERVICE]);
    names.sort_unstable();
    names.dedup();
    // Only the schemas of what this server serves: the edge describes what it routes, never
    // the upstreams behind the services.
    let served = served_descriptors(&names);
    let builder = || {
        let builder = tonic_reflection::server::Builder::configure()
            .include_reflection_service(false)
            .register_encoded_file_descriptor_set(served)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(
                tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
            );
        names
            .iter()
            .fold(builder, |builder, name| builder.with_service_name(*name))
    };
    Ok((builder().build_v1()?, builder().build_v1alpha()?))
}

/// How often a dependency is checked while it answers.
pub const HEALTH_CHECK_EVERY: Duration = Duration::from_secs(1);
/// How often it is checked while it does not, so recovery shows soon.
pub const HEALTH_RETRY_EVERY: Duration = Duration::from_millis(100);

/// Keeps the health of `services` (and of the whole server, `""`) in step with `check`, the
/// state of what the server depends on: SERVING only while it answers. Runs until aborted.
fn keep_health<F, Fut>(
    reporter: HealthReporter,
    services: Vec<String>,
    mut check: F,
) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    tokio::spawn(async move {
        let mut last = None;
        loop {
            let up = check().await;
            if last != Some(up) {
                let status = if up {
                    tonic_health::ServingStatus::Serving
                } else {
                    tonic_health::ServingStatus::NotServing
                };
                if !up {
                    tracing::warn!(services = ?services, "a dependency does not answer: not serving");
                } else if last.is_some() {
                    tracing::info!(services = ?services, "the dependency answers again: serving");
                }
                for service in services.iter().map(String::as_str).chain([""]) {
                    reporter.set_service_status(service, status).await;
                }
                last = Some(up);
            }
            tokio::time::sleep(if up {
                HEALTH_CHECK_EVERY
            } else {
                HEALTH_RETRY_EVERY
            })
            .await;
        }
    })
}
