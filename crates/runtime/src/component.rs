//! Components: each part of the suite (the edge, a service, a mock national system) describes
//! itself once with a [`ComponentSpec`] and starts through [`Component::serve`]. The binary
//! keeps the one list of components; `up`, `serve <component>`, readiness, the edge's routes
//! and the deployment checks iterate over it.

use std::{collections::BTreeMap, net::SocketAddr, pin::Pin, sync::Arc};

use crate::clock::Clock;
use figment::Figment;
use serde::{Serialize, de::DeserializeOwned};
use time::Date;
use tokio::net::TcpListener;

use crate::{
    client::ChannelError,
    config::{self, ConfigError, Limits},
    server::ServeError,
    token::{EdgeChannel, TokenSource},
    worker::{Worker, WorkerHealth},
};

mod clients;

pub use clients::{CLIENT_CREDENTIALS, ClientSecrets, ClientSpec};

/// Where a component stands in the request path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The edge: the one port integrators call.
    Edge,
    /// A service integrators call; the edge routes its gRPC services and HTTP prefixes.
    Service,
    /// A mock national system; only services call it, the edge does not route it.
    Upstream,
}

/// What a component is, declared once.
#[derive(Debug)]
pub struct ComponentSpec {
    /// Its name: in `serve <name>`, logs, traces (`service.name`) and metrics.
    pub name: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
    /// Where it stands in the request path.
    pub role: Role,
    /// Its section of the configuration, e.g. `population` for `population.listen`.
    pub section: &'static str,
    /// The fully-qualified gRPC services it serves.
    pub grpc_services: &'static [&'static str],
    /// The HTTP path prefixes it serves (the edge forwards them), e.g. `/oidc/`.
    pub http_prefixes: &'static [&'static str],
    /// The other components it calls, by name.
    pub peers: &'static [&'static str],
    /// Its port when it runs alone in a container.
    pub container_port: u16,
    /// The single sign-on clients it needs (its own calls through the edge): the single
    /// sign-on registers them at start, each with the secret [`Context::client_secret`] gives.
    pub clients: &'static [ClientSpec],
}

impl ComponentSpec {
    /// The config key naming `peer`'s URL when this component runs alone: for the edge,
    /// `gateway.backends.<service>` for every service; for others, `<section>.<peer
    /// section>_url` (e.g. `citizen.population_url`) for every peer it calls. `None` when it
    /// does not call `peer`.
    pub fn peer_key(&self, peer: &ComponentSpec) -> Option<String> {
        match self.role {
            Role::Edge => (peer.role == Role::Service)
                .then(|| format!("{}.backends.{}", self.section, peer.name)),
            Role::Service | Role::Upstream => self
                .peers
                .contains(&peer.name)
                .then(|| format!("{}.{}_url", self.section, peer.section)),
        }
    }
}

/// Whether the sandbox's controls reach `spec`'s component (fault rules, resets): every one but
/// the component that serves the controls' public surface (`sandbox06.admin.v1.AdminService`),
/// whose own calls are never faulted.
pub fn is_controlled(spec: &ComponentSpec) -> bool {
    !spec
        .grpc_services
        .contains(&sandbox06_proto::admin::admin_service_server::SERVICE_NAME)
}

/// The names of the components of `specs` the sandbox's controls reach ([`is_controlled`]).
pub fn controlled_components<'a>(
    specs: impl IntoIterator<Item = &'a ComponentSpec>,
) -> Vec<String> {
    specs
        .into_iter()
        .filter(|spec| is_controlled(spec))
        .map(|spec| spec.name.to_owned())
        .collect()
}

/// A future that completes when the component must stop.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A component's run until it stops.
pub type Running = Pin<Box<dyn Future<Output = Result<(), StartError>> + Send>>;

/// Another component as this one sees it: what it is, and where it listens when known.
#[derive(Clone, Debug)]
pub struct Peer {
    /// What it is.
    pub spec: &'static ComponentSpec,
    /// Its URL, e.g. `http://127.0.0.1:41234`: set when every component runs in one process.
    pub url: Option<String>,
}

/// What a component is given to start: the configuration, the suite's reference date and
/// every other component.
#[derive(Clone, Debug)]
pub struct Context {
    config: Arc<Figment>,
    /// Request bounds every server enforces.
    pub limits: Limits,
    /// The reference date: the date the synthetic country is generated as of, and the suite's
    /// "today" until its clock moves ([`Context::clock`]).
    pub today: Date,
    /// The suite's clock, shared by every component of the context and its copies.
    pub clock: Clock,
    peers: BTreeMap<&'static str, Peer>,
    workers: WorkerHealth,
    secrets: Option<ClientSecrets>,
}

impl Context {
    /// A context over the layered configuration `config`.
    pub fn new(config: Arc<Figment>, limits: Limits, today: Date, peers: Vec<Peer>) -> Self {
        Self {
            config,
            limits,
            today,
            clock: Clock::new(today),
            peers: peers.into_iter().map(|p| (p.spec.name, p)).collect(),
            workers: WorkerHealth::default(),
            secrets: None,
        }
    }

    /// This context, giving declared clients their secrets by `secrets`.
    pub fn with_client_secrets(mut self, secrets: ClientSecrets) -> Self {
        self.secrets = Some(secrets);
        self
    }

    /// The suite's control key ([`crate::control_key`]): the same in every process of the
    /// suite given the same configuration; `None` when this context was given no secret rule.
    pub fn control_key(&self) -> Option<String> {
        self.client_secret(crate::control_key::CONTROL_KEY_ID)
    }

    /// The secret of the declared client `client_id`: the same in every process of the suite
    /// given the same configuration; `None` when this context was given no rule.
    pub fn client_secret(&self, client_id: &str) -> Option<String> {
        self.secrets.as_ref().map(|rule| rule.secret(client_id))
    }

    /// A channel to the edge for `me`'s calls to other services: each call carries a
    /// client-credentials token of `me`'s declared client (fetched from the edge's token
    /// endpoint, `/oidc/token`, and kept until shortly before it expires), the current trace
    /// context, and what is left of the served call's deadline, which also bounds the wait for
    /// the token. The edge is found as any peer: its in-process address under `up`, else
    /// `configured` (`<section>.<edge section>_url`, e.g. `lodging.gateway_url`).
    ///
    /// ```no_run
    /// # fn run(ctx: sandbox06_runtime::component::Context,
    /// #        spec: &'static sandbox06_runtime::component::ComponentSpec)
    /// #        -> Result<(), sandbox06_runtime::component::StartError> {
    /// use sandbox06_proto::citizen::citizen_service_client::CitizenServiceClient;
    /// let citizens = CitizenServiceClient::new(ctx.edge_channel(spec, None)?);
    /// # Ok(()) }
    /// ```
    pub fn edge_channel(
        &self,
        me: &'static ComponentSpec,
        configured: Option<&str>,
    ) -> Result<EdgeChannel, StartError> {
        let edge = self
            .peers
            .values()
            .find(|peer| peer.spec.role == Role::Edge)
            .ok_or_else(|| StartError::UnknownComponent {
                name: "an edge".to_owned(),
                known: self.peers.keys().copied().collect::<Vec<_>>().join(", "),
            })?;
        let url = self
            .peer_url(me, edge.spec.name, configured)?
            .replace("://0.0.0.0:", "://127.0.0.1:")
            .trim_end_matches('/')
            .to_owned();
        let client = me
            .clients
            .iter()
            .find(|client| client.client_credentials())
            .ok_or(StartError::Credentials {
                component: me.name,
                message: "it declares no client with the client_credentials grant in its spec",
            })?;
        let secret = self
            .client_secret(client.client_id)
            .ok_or(StartError::Credentials {
                component: me.name,
                message: "the suite gave its context no rule for client secrets",
            })?;
        let channel = crate::peer_channel(&url).map_err(StartError::channel(me.name))?;
        let source = TokenSource::new(
            format!("{url}{}", crate::token::TOKEN_PATH),
            client.client_id,
            &secret,
        );
        Ok(crate::token::edge_channel(
            channel,
            std::sync::Arc::new(source),
        ))
    }

    /// This context for one component: the same settings and peers, its own worker health.
    pub fn for_component(&self) -> Self {
        Self {
            workers: WorkerHealth::default(),
            ..self.clone()
        }
    }

    /// Hands the component's health reporter ([`crate::server::ServerBuilder::health_reporter`])
    /// to its workers: each then reports `<component>/<worker>` SERVING while it runs and
    /// NOT_SERVING while it is down. A component that declares workers calls this in `serve`.
    pub fn report_worker_health(&self, reporter: tonic_health::server::HealthReporter) {
        self.workers.attach(reporter);
    }

    /// Where this component's workers report their health.
    pub fn worker_health(&self) -> WorkerHealth {
        self.workers.clone()
    }

    /// Reads configuration section `name` as `T`.
    pub fn section<T>(&self, name: &str) -> Result<T, ConfigError>
    where
        T: DeserializeOwned + Serialize + Default,
    {
        config::section(&self.config, name)
    }

    /// Every other component.
    pub fn peers(&self) -> impl Iterator<Item = &Peer> {
        self.peers.values()
    }

    /// The URL of peer `name` for component `me`: its in-process address under `up`, else
    /// the URL configured under `me`'s section (`<section>.<peer section>_url`).
    pub fn peer_url(
        &self,
        me: &'static ComponentSpec,
        peer: &str,
        configured: Option<&str>,
    ) -> Result<String, StartError> {
        let Some(found) = self.peers.get(peer) else {
            return Err(StartError::UnknownComponent {
                name: peer.to_owned(),
                known: self.peers.keys().copied().collect::<Vec<_>>().join(", "),
            });
        };
        if let Some(url) = &found.url {
            return Ok(url.clone());
        }
        configured
            .map(str::to_owned)
            .ok_or_else(|| StartError::MissingPeer {
                component: me.name,
                peer: found.spec.name,
                key: me
                    .peer_key(found.spec)
                    .unwrap_or_else(|| format!("{}.{peer}_url", me.section)),
            })
    }
}

/// A part of the suite that can start on a listener.
pub trait Component: Send + Sync + 'static {
    /// What it is.
    fn spec(&self) -> &'static ComponentSpec;

    /// The address its configuration asks it to listen on; also checks its whole section.
    fn listen(&self, config: &Figment) -> Result<SocketAddr, ConfigError>;

    /// Serves on `listener` until `shutdown` completes.
    fn serve(&self, ctx: Context, listener: TcpListener, shutdown: Shutdown) -> Running;

    /// Its background workers ([`crate::worker`]): started once its servers are ready, stopped
    /// first on shutdown, restarted with backoff when they fail. None by default.
    fn workers(&self) -> Vec<Worker> {
        Vec::new()
    }

    /// The error reasons of its own it answers with, as `docs/ERRORS.md` lists them under
    /// their heading (the reasons every service shares are the runtime's). None by default.
    fn error_reasons(&self) -> Option<ErrorReasons> {
        None
    }
}

/// A component's own error reasons and the heading of their section in `docs/ERRORS.md`.
#[derive(Debug)]
pub struct ErrorReasons {
    /// The section's heading, e.g. `Citizen service`.
    pub heading: &'static str,
    /// Every reason, in the order the section lists them.
    pub reasons: Vec<&'static dyn crate::ErrorReason>,
}

impl ErrorReasons {
    /// The reasons of `list` under `heading`.
    pub fn new<R: crate::ErrorReason>(heading: &'static str, list: &'static [R]) -> Self {
        Self {
            heading,
            reasons: list
                .iter()
                .map(|reason| reason as &dyn crate::ErrorReason)
                .collect(),
        }
    }
}

impl std::fmt::Debug for dyn Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.spec().name)
    }
}

/// Why the suite or a component could not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A setting is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `serve` names no component.
    #[error("no component is named {name:?}; components: {known}")]
    UnknownComponent {
        /// The name asked for.
        name: String,
        /// The components that exist.
        known: String,
    },
    /// A component running alone was not told where a peer listens.
    #[error("{component} needs the URL of {peer}: set {key}")]
    MissingPeer {
        /// The component starting.
        component: &'static str,
        /// The peer it calls.
        peer: &'static str,
        /// The config key to set.
        key: String,
    },
    /// A listener could not be bound, or a server failed.
    #[error("{component}: {source}")]
    Serve {
        /// The component.
        component: &'static str,
        /// What failed.
        source: ServeError,
    },
    /// A peer's URL is unusable.
    #[error("{component}: {source}")]
    Channel {
        /// The component.
        component: &'static str,
        /// What failed.
        source: ChannelError,
    },
    /// Something the component depends on (its state store, say) cannot be opened.
    #[error("{component}: {what}: {source}")]
    Dependency {
        /// The component.
        component: &'static str,
        /// What it depends on.
        what: &'static str,
        /// Why it failed.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A component cannot authenticate its calls through the edge.
    #[error("{component} has no credentials for calls through the edge: {message}")]
    Credentials {
        /// The component.
        component: &'static str,
        /// What is missing.
        message: &'static str,
    },
    /// A component's task ended abnormally.
    #[error("{component} stopped unexpectedly: {reason}")]
    Stopped {
        /// The component.
        component: &'static str,
        /// What happened.
        reason: String,
    },
}

impl StartError {
    /// A server error of `component`.
    pub fn serve(component: &'static str) -> impl FnOnce(ServeError) -> Self {
        move |source| Self::Serve { component, source }
    }

    /// A channel error of `component`.
    pub fn channel(component: &'static str) -> impl FnOnce(ChannelError) -> Self {
        move |source| Self::Channel { component, source }
    }

    /// A failure of `what` `component` depends on (its state store, say).
    pub fn dependency<E: std::error::Error + Send + Sync + 'static>(
        component: &'static str,
        what: &'static str,
    ) -> impl FnOnce(E) -> Self {
        move |source| Self::Dependency {
            component,
            what,
            source: Box::new(source),
        }
    }
}
