//! The citizen service as a component of the suite: its configuration section (`citizen`)
//! and how it starts.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
};

use figment::Figment;
use sandbox06_proto::citizen::citizen_service_server::CitizenServiceServer;
use sandbox06_runtime::{
    component::{
        CLIENT_CREDENTIALS, ClientSpec, Component, ComponentSpec, Context, ErrorReasons, Role,
        Running, Shutdown, StartError,
    },
    config::{self, ConfigError},
    server::ServerBuilder,
};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::{GrpcPopulation, service::CitizenApi};

/// The population database, as the list of components names it.
const POPULATION_DB: &str = "population-db";

/// What the citizen service is.
pub static SPEC: ComponentSpec = ComponentSpec {
    name: "citizen",
    summary: "identity lookup, verification, card QR checks and bulk matching",
    role: Role::Service,
    section: SECTION,
    grpc_services: &[<CitizenServiceServer<CitizenApi> as tonic::server::NamedService>::NAME],
    http_prefixes: &[],
    peers: &[POPULATION_DB],
    container_port: 4610,
    clients: &[ClientSpec {
        client_id: "svc-citizen",
        name: "Dịch vụ công dân",
        name_en: "Citizen service",
        grant_types: &[CLIENT_CREDENTIALS],
        scopes: &["population.read"],
    }],
};

/// Its configuration section.
pub const SECTION: &str = "citizen";

/// The `citizen` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CitizenConfig {
    /// Address to listen on; port 0 picks an ephemeral port.
    pub listen: SocketAddr,
    /// URL of the population database when the service runs alone, e.g. `http://population-db:4620`.
    pub population_url: Option<String>,
}

impl Default for CitizenConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            population_url: None,
        }
    }
}

/// How long the population database may take to answer its health check.
const UPSTREAM_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// Whether the population database reports its service SERVING.
async fn population_serving(channel: tonic::transport::Channel) -> bool {
    let check = sandbox06_runtime::client::health_status(
        channel,
        sandbox06_proto::population::population_service_server::SERVICE_NAME,
    );
    matches!(
        tokio::time::timeout(UPSTREAM_CHECK_TIMEOUT, check).await,
        Ok(Ok(status)) if status == "SERVING"
    )
}

/// The citizen service component.
#[derive(Debug, Default)]
pub struct CitizenComponent;

impl Component for CitizenComponent {
    fn spec(&self) -> &'static ComponentSpec {
        &SPEC
    }

    fn error_reasons(&self) -> Option<ErrorReasons> {
        Some(ErrorReasons::new("Citizen service", crate::REASONS))
    }

    fn listen(&self, config: &Figment) -> Result<SocketAddr, ConfigError> {
        Ok(config::section::<CitizenConfig>(config, SECTION)?.listen)
    }

    fn serve(&self, ctx: Context, listener: TcpListener, shutdown: Shutdown) -> Running {
        Box::pin(async move {
            let section: CitizenConfig = ctx.section(SECTION)?;
            let url = ctx.peer_url(&SPEC, POPULATION_DB, section.population_url.as_deref())?;
            let channel =
                sandbox06_runtime::peer_channel(&url).map_err(StartError::channel(SPEC.name))?;
            // The health check asks the population database's listener itself.
            let upstream = channel.tcp().clone();
            let api = CitizenApi::new(Arc::new(GrpcPopulation::new(channel)), ctx.today)
                .with_clock(ctx.clock.clone());
            let builder = ServerBuilder::new(&ctx.limits)
                .clock(ctx.clock.clone())
                .component(SPEC.name)
                .error_reasons(crate::REASONS)
                .control_key(ctx.control_key())
                .add_service(
                    CitizenServiceServer::new(api)
                        .max_decoding_message_size(ctx.limits.max_request_bytes),
                );
            // Serving only while the population database says it is.
            builder
                .serve_while(listener, shutdown, move || {
                    population_serving(upstream.clone())
                })
                .await
                .map_err(StartError::serve(SPEC.name))
        })
    }
}
