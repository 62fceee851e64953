//! The sandbox06 suite: the one list of components, and how they start together (`up`: every
//! component in one process, each on its own loopback port, real gRPC hops between them) or
//! alone (`serve <component>`). The binary and the end-to-end tests start it the same way.

pub mod config;

use std::{collections::BTreeMap, net::SocketAddr, sync::Arc, time::Instant};

use sandbox06_admin::AdminComponent;
use sandbox06_citizen::CitizenComponent;
use sandbox06_gateway::GatewayComponent;
use sandbox06_lgsp::component::LgspComponent;
use sandbox06_lodging::component::LodgingComponent;
use sandbox06_lodging_registry::component::LodgingRegistryComponent;
use sandbox06_ndxp::component::NdxpComponent;
use sandbox06_population_db::PopulationDbComponent;
use sandbox06_runtime::{
    component::{Component, Context, Peer, Role, Shutdown, StartError},
    server::bind,
    worker::Workers,
};
use sandbox06_sso::SsoComponent;
use sandbox06_vneid::component::VneidComponent;
use sandbox06_world::Country;
use tokio::{sync::watch, task::JoinSet};

pub use crate::config::Config;

/// Every component of the suite, the edge first. Adding a component is one entry here.
pub fn components() -> Vec<Arc<dyn Component>> {
    vec![
        Arc::new(GatewayComponent),
        Arc::new(CitizenComponent),
        Arc::new(LodgingComponent::default()),
        Arc::new(LgspComponent::default()),
        Arc::new(SsoComponent),
        Arc::new(PopulationDbComponent),
        Arc::new(VneidComponent),
        Arc::new(LodgingRegistryComponent),
        Arc::new(NdxpComponent),
        Arc::new(AdminComponent),
    ]
}

/// The component named `name`.
pub fn component(name: &str) -> Result<Arc<dyn Component>, StartError> {
    let list = components();
    let known = names(&list);
    list.into_iter()
        .find(|c| c.spec().name == name)
        .ok_or_else(|| StartError::UnknownComponent {
            name: name.to_owned(),
            known,
        })
}

fn names(list: &[Arc<dyn Component>]) -> String {
    list.iter()
        .map(|c| c.spec().name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The gRPC services the edge routes: every service component's.
pub fn routed_services(list: &[Arc<dyn Component>]) -> Vec<&'static str> {
    list.iter()
        .filter(|c| c.spec().role == Role::Service)
        .flat_map(|c| c.spec().grpc_services.iter().copied())
        .collect()
}

/// Where callers reach the edge the configuration names (`gateway.listen`, which `--listen` and
/// `SANDBOX06_GATEWAY__LISTEN` set, as for `up`): an unspecified address (`0.0.0.0`) is reached
/// on loopback. Port 0 is refused: the edge of `up --listen …:0` is on the port its banner names.
pub fn edge_url(config: &Config) -> anyhow::Result<String> {
    let gateway: sandbox06_gateway::GatewayConfig =
        config.section(sandbox06_gateway::component::SECTION)?;
    if gateway.listen.port() == 0 {
        anyhow::bail!(
            "the edge's address {} has no port (an ephemeral one): give --listen (or \
             SANDBOX06_GATEWAY__LISTEN) the address `sandbox06 up` printed",
            gateway.listen
        );
    }
    Ok(url_of(gateway.listen))
}

/// `http://<addr>`, an unspecified address (`0.0.0.0`, `[::]`) on loopback.
pub fn url_of(addr: SocketAddr) -> String {
    format!("http://{}", reachable(addr))
}

/// `addr`, an unspecified address (`0.0.0.0`, `[::]`) on loopback.
pub fn reachable(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

/// The synthetic country the config describes (what the population database serves).
pub fn country(config: &Config) -> Result<Arc<Country>, StartError> {
    let today = config.population.reference_date()?;
    Ok(Arc::new(config.population.country(today)))
}

fn context(config: &Config, peers: Vec<Peer>) -> Result<Context, StartError> {
    Ok(Context::new(
        config.layers(),
        config.limits.clone(),
        config.population.reference_date()?,
        peers,
    )
    .with_client_secrets(client_secrets(config)?))
}

/// The rule giving every client a component declares its secret: the single sign-on registers
/// the client with it, and the component fetches its tokens with it, in one process or apart.
pub fn client_secrets(
    config: &Config,
) -> Result<sandbox06_runtime::component::ClientSecrets, StartError> {
    let sso: sandbox06_sso::component::SsoConfig =
        config.section(sandbox06_sso::component::SECTION)?;
    Ok(sandbox06_sso::component::client_secrets(&sso))
}

fn shutdown_signal(rx: &watch::Receiver<bool>) -> Shutdown {
    let mut rx = rx.clone();
    Box::pin(async move {
        let _ = rx.wait_for(|stop| *stop).await;
    })
}

/// A handle on a running suite: addresses, and a stop switch.
#[derive(Debug)]
pub struct Suite {
    /// The edge address.
    pub edge: SocketAddr,
    /// The country served.
    pub country: Arc<Country>,
    addrs: BTreeMap<&'static str, SocketAddr>,
    list: Vec<Arc<dyn Component>>,
    /// One stop switch per role, in the order they stop: the edge, the services, the upstreams.
    stops: Vec<(Role, watch::Sender<bool>)>,
    tasks: JoinSet<(&'static str, Result<(), StartError>)>,
    /// Each component with its own context, for its workers.
    contexts: Vec<(Arc<dyn Component>, Context)>,
    /// The running workers, once the suite is ready.
    workers: Option<Vec<Workers>>,
    /// How long workers have to stop.
    grace: std::time::Duration,
}

/// The order components stop in: callers before what they call, so that a call still open at
/// the edge when the suite is told to stop can finish, its service and upstream still there.
const STOP_ORDER: [Role; 3] = [Role::Edge, Role::Service, Role::Upstream];

impl Suite {
    /// Starts every component in this process: each on its own port, real gRPC between them.
    /// Every listener is bound before any component starts, so each knows where its peers are.
    pub async fn start(config: &Config) -> Result<Suite, StartError> {
        Self::start_with(config, components()).await
    }

    /// Starts the components of `list` (the suite's, or one with more, as tests do).
    pub async fn start_with(
        config: &Config,
        list: Vec<Arc<dyn Component>>,
    ) -> Result<Suite, StartError> {
        let country = country(config)?;
        let layers = config.layers();
        let mut bound = Vec::with_capacity(list.len());
        let mut addrs = BTreeMap::new();
        for component in &list {
            let name = component.spec().name;
            let listener = bind(component.listen(&layers)?)
                .await
                .map_err(StartError::serve(name))?;
            let addr = listener.local_addr().map_err(|e| StartError::Dependency {
                component: name,
                what: "listener address",
                source: Box::new(e),
            })?;
            addrs.insert(name, addr);
            bound.push((Arc::clone(component), listener));
        }
        let peers: Vec<Peer> = list
            .iter()
            .map(|c| Peer {
                spec: c.spec(),
                url: addrs.get(c.spec().name).map(|a| format!("http://{a}")),
            })
            .collect();
        let ctx = context(config, peers)?;
        let edge = list
            .iter()
            .find(|c| c.spec().role == Role::Edge)
            .and_then(|c| addrs.get(c.spec().name).copied())
            .ok_or_else(|| StartError::UnknownComponent {
                name: "an edge".to_owned(),
                known: names(&list),
            })?;
        let stops: Vec<(Role, watch::Sender<bool>)> = STOP_ORDER
            .iter()
            .map(|role| (*role, watch::channel(false).0))
            .collect();
        let mut tasks = JoinSet::new();
        let mut contexts = Vec::with_capacity(bound.len());
        for (component, listener) in bound {
            let spec = component.spec();
            let stop_rx = stops
                .iter()
                .find(|(role, _)| *role == spec.role)
                .map(|(_, stop)| stop.subscribe())
                .ok_or_else(|| StartError::Stopped {
                    component: spec.name,
                    reason: format!("no stop order for the role {:?}", spec.role),
                })?;
            let own = ctx.for_component();
            let running = component.serve(own.clone(), listener, shutdown_signal(&stop_rx));
            contexts.push((Arc::clone(&component), own));
            let name = spec.name;
            tasks.spawn(async move { (name, running.await) });
        }
        Ok(Suite {
            edge,
            country,
            addrs,
            list,
            stops,
            tasks,
            contexts,
            workers: None,
            grace: config.limits.shutdown_grace(),
        })
    }

    /// Where component `name` listens.
    pub fn addr(&self, name: &str) -> Option<SocketAddr> {
        self.addrs.get(name).copied()
    }

    /// Waits until the edge reports every routed service SERVING (bounded by `timeout`), and
    /// each component that has workers reports SERVING itself (its server and each of its gRPC
    /// services), then starts every component's workers; a component that stops first fails
    /// the wait with its own error.
    pub async fn wait_ready(&mut self, timeout: std::time::Duration) -> Result<(), StartError> {
        let deadline = Instant::now() + timeout;
        self.wait_serving(timeout).await?;
        for (component, _) in &self.contexts {
            let spec = component.spec();
            if component.workers().is_empty() {
                continue;
            }
            let Some(addr) = self.addrs.get(spec.name) else {
                continue;
            };
            let left = deadline.saturating_duration_since(Instant::now());
            let url = url_of(*addr);
            tokio::select! {
                ready = serving(&url, spec, left) => ready?,
                joined = self.tasks.join_next() => {
                    return Err(joined.map_or_else(
                        || StartError::Stopped {
                            component: "suite",
                            reason: "no component runs".to_owned(),
                        },
                        stopped,
                    ));
                }
            }
        }
        if self.workers.is_none() {
            self.workers = Some(
                self.contexts
                    .iter()
                    .map(|(component, ctx)| {
                        Workers::start(component.spec().name, ctx, component.workers())
                    })
                    .collect(),
            );
        }
        Ok(())
    }

    async fn wait_serving(&mut self, timeout: std::time::Duration) -> Result<(), StartError> {
        let deadline = Instant::now() + timeout;
        let url = format!("http://{}", self.edge);
        let services = routed_services(&self.list);
        loop {
            if let Some(joined) = self.tasks.try_join_next() {
                return Err(stopped(joined));
            }
            if all_serving(&url, &services, deadline).await {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(StartError::Stopped {
                    component: "suite",
                    reason: format!("not ready at {} within {timeout:?}", self.edge),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Stops every component and waits for them to finish: the workers first (within the
    /// grace period; those still running then are aborted), then the edge, letting its open
    /// calls finish while the services and upstreams they need still answer, then the services,
    /// then the upstreams.
    pub async fn stop(mut self) -> Result<(), StartError> {
        let deadline = Instant::now() + self.grace;
        for workers in self.workers.take().unwrap_or_default() {
            workers
                .stop(deadline.saturating_duration_since(Instant::now()))
                .await;
        }
        let mut first_error = None;
        let mut finished: Vec<&'static str> = Vec::new();
        for (role, stop) in &self.stops {
            let _ = stop.send(true);
            let of_role: Vec<&'static str> = self
                .list
                .iter()
                .map(|c| c.spec())
                .filter(|spec| spec.role == *role)
                .map(|spec| spec.name)
                .collect();
            while !of_role.iter().all(|name| finished.contains(name)) {
                let Some(joined) = self.tasks.join_next().await else {
                    break;
                };
                if let Ok((name, _)) = &joined {
                    finished.push(name);
                }
                if let Err(e) = result_of(joined) {
                    first_error.get_or_insert(e);
                }
            }
        }
        while let Some(joined) = self.tasks.join_next().await {
            if let Err(e) = result_of(joined) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Runs until a component stops, or until SIGTERM or ctrl-c; then stops the rest and lets
    /// open calls finish within `grace`.
    pub async fn run_until_stopped(mut self, grace: std::time::Duration) -> Result<(), StartError> {
        tokio::select! {
            () = stop_signal() => {
                tracing::info!(grace_seconds = grace.as_secs(), "stopping: open calls may finish");
                match tokio::time::timeout(grace, self.stop()).await {
                    Ok(stopped) => stopped,
                    Err(_) => {
                        tracing::warn!("open calls did not finish within the grace period");
                        Ok(())
                    }
                }
            }
            joined = self.tasks.join_next() => {
                let first = joined.map(stopped);
                let rest = tokio::time::timeout(grace, self.stop()).await.unwrap_or(Ok(()));
                match first {
                    Some(error) => Err(error),
                    None => rest,
                }
            }
        }
    }
}

type Joined = Result<(&'static str, Result<(), StartError>), tokio::task::JoinError>;

fn result_of(joined: Joined) -> Result<(), StartError> {
    match joined {
        Ok((_, result)) => result,
        Err(e) => Err(StartError::Stopped {
            component: "suite",
            reason: e.to_string(),
        }),
    }
}

/// A component that stopped while the suite was meant to run: its error, or that it stopped.
fn stopped(joined: Joined) -> StartError {
    match joined {
        Ok((_, Err(e))) => e,
        Ok((component, Ok(()))) => StartError::Stopped {
            component,
            reason: "it returned without being asked to stop".to_owned(),
        },
        Err(e) => StartError::Stopped {
            component: "suite",
            reason: e.to_string(),
        },
    }
}

/// Completes on SIGTERM (how containers and Kubernetes stop a process) or ctrl-c (SIGINT).
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
                return;
            }
            Err(error) => tracing::warn!(%error, "cannot listen for SIGTERM; ctrl-c still stops"),
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Runs component `name` alone until SIGTERM or ctrl-c, then lets open calls finish within
/// `limits.shutdown_grace_seconds`; its peers are at the URLs its section names.
pub async fn serve(config: &Config, name: &str) -> Result<(), StartError> {
    let alone = Alone::bind(config, name).await?;
    let (stopping, stopped) = watch::channel(false);
    let grace = config.limits.shutdown_grace();
    let running = alone.serve(config, shutdown_signal(&stopped));
    tokio::pin!(running);
    tokio::select! {
        result = &mut running => result,
        () = stop_signal() => {
            tracing::info!(grace_seconds = grace.as_secs(), "stopping: open calls may finish");
            let _ = stopping.send(true);
            match tokio::time::timeout(grace, running).await {
                Ok(result) => result,
                Err(_) => {
                    tracing::warn!("open calls did not finish within the grace period");
                    Ok(())
                }
            }
        }
    }
}

/// One component bound to the address its section names, ready to run alone.
#[derive(Debug)]
pub struct Alone {
    component: Arc<dyn Component>,
    listener: tokio::net::TcpListener,
    list: Vec<Arc<dyn Component>>,
}

impl Alone {
    /// Binds component `name`'s listener.
    pub async fn bind(config: &Config, name: &str) -> Result<Alone, StartError> {
        Self::bind_component(config, component(name)?, components()).await
    }

    /// Binds `component`'s listener; its peers are the other components of `list`.
    pub async fn bind_component(
        config: &Config,
        component: Arc<dyn Component>,
        list: Vec<Arc<dyn Component>>,
    ) -> Result<Alone, StartError> {
        let listener = bind(component.listen(&config.layers())?)
            .await
            .map_err(StartError::serve(component.spec().name))?;
        Ok(Alone {
            component,
            listener,
            list,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Runs it until `shutdown` completes; its peers are found through its configuration. Its
    /// workers start once it reports SERVING (the server and each of its gRPC services), and on
    /// shutdown stop first, within `limits.shutdown_grace_seconds`, before its server drains.
    pub async fn serve(self, config: &Config, shutdown: Shutdown) -> Result<(), StartError> {
        let spec = self.component.spec();
        let name = spec.name;
        let peers = self
            .list
            .iter()
            .filter(|c| c.spec().name != name)
            .map(|c| Peer {
                spec: c.spec(),
                url: None,
            })
            .collect();
        let mut ctx = context(config, peers)?;
        // Alone, every hop to it and from it crosses a socket.
        ctx.limits.in_process_hops = false;
        let workers = self.component.workers();
        if workers.is_empty() {
            return self.component.serve(ctx, self.listener, shutdown).await;
        }
        let url = self
            .listener
            .local_addr()
            .map(url_of)
            .map_err(StartError::dependency(name, "listener address"))?;
        let (stop_server, server_stopped) = watch::channel(false);
        let running =
            self.component
                .serve(ctx.clone(), self.listener, shutdown_signal(&server_stopped));
        tokio::pin!(running);
        let mut shutdown = shutdown;
        tokio::select! {
            result = &mut running => return result,
            () = &mut shutdown => {
                let _ = stop_server.send(true);
                return running.await;
            }
            ready = serving(&url, spec, READY_WITHIN) => ready?,
        }
        let workers = Workers::start(name, &ctx, workers);
        let grace = config.limits.shutdown_grace();
        tokio::select! {
            result = &mut running => {
                workers.stop(grace).await;
                return result;
            }
            () = &mut shutdown => {}
        }
        workers.stop(grace).await;
        let _ = stop_server.send(true);
        running.await
    }
}

/// How long a component running alone has to report SERVING before its workers start.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

/// Waits (bounded by `within`) until the server at `url` and each of `spec`'s gRPC services
/// report SERVING.
async fn serving(
    url: &str,
    spec: &'static sandbox06_runtime::component::ComponentSpec,
    within: std::time::Duration,
) -> Result<(), StartError> {
    let deadline = Instant::now() + within;
    let services: Vec<&str> = std::iter::once("")
        .chain(spec.grpc_services.iter().copied())
        .collect();
    loop {
        if all_serving(url, &services, deadline).await {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(StartError::Stopped {
                component: spec.name,
                reason: format!("not SERVING at {url} within {within:?}"),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// How often readiness is asked again.
const POLL: std::time::Duration = std::time::Duration::from_millis(2);

/// Whether the server at `url` reports each of `services` (`""` for the server) SERVING, asked
/// on one connection, every step bounded by `deadline`.
async fn all_serving(url: &str, services: &[&str], deadline: Instant) -> bool {
    let left = || deadline.saturating_duration_since(Instant::now());
    let Ok(Ok(channel)) = tokio::time::timeout(left(), connect(url)).await else {
        return false;
    };
    for service in services {
        let status = tokio::time::timeout(
            left(),
            sandbox06_runtime::client::health_status(channel.clone(), service),
        )
        .await;
        if !matches!(status, Ok(Ok(SERVING))) {
            return false;
        }
    }
    true
}

/// A connection to `url` for health checks (2 s to connect).
async fn connect(url: &str) -> Result<tonic::transport::Channel, String> {
    tonic::transport::Endpoint::from_shared(url.to_owned())
        .map_err(|e| e.to_string())?
        .connect_timeout(std::time::Duration::from_secs(2))
        .connect()
        .await
        .map_err(|e| e.to_string())
}

/// The status name of a serving service, as `grpc.health.v1` spells it.
pub const SERVING: &str = "SERVING";

/// One grpc.health.v1 Check: whether `service` ("" for the server) is SERVING at `url`.
pub async fn health_check(url: &str, service: &str) -> Result<bool, String> {
    Ok(health_status(url, service).await? == SERVING)
}

/// One grpc.health.v1 Check: the status of `service` ("" for the server) at `url`, e.g.
/// `SERVING` or `NOT_SERVING`.
pub async fn health_status(url: &str, service: &str) -> Result<&'static str, String> {
    let channel = connect(url).await?;
    sandbox06_runtime::client::health_status(channel, service)
        .await
        .map_err(|e| e.message().to_owned())
}
