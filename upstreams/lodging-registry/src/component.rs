//! The lodging registry mock as a component of the suite: its configuration section
//! (`lodging_registry`) and how it starts.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
};

use figment::Figment;
use sandbox06_proto::lodgingregistry::lodging_registry_service_server::LodgingRegistryServiceServer;
use sandbox06_runtime::{
    component::{
        Component, ComponentSpec, Context, ErrorReasons, Role, Running, Shutdown, StartError,
    },
    config::{self, ConfigError},
    server::ServerBuilder,
};
use sandbox06_store::{Store, StoreConfig, control::StateService};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::{GrpcCitizens, LodgingRegistry, error::POPULATION_DB};

/// What the lodging registry mock is.
pub static SPEC: ComponentSpec = ComponentSpec {
    name: "lodging-registry",
    summary: "mock of the national lodging registry: declarations of lodging facilities, answered by receipts or rejections",
    role: Role::Upstream,
    section: SECTION,
    grpc_services: &[
        <LodgingRegistryServiceServer<LodgingRegistry> as tonic::server::NamedService>::NAME,
    ],
    http_prefixes: &[],
    peers: &[POPULATION_DB],
    container_port: 4670,
    clients: &[],
};

/// Its configuration section.
pub const SECTION: &str = "lodging_registry";

/// How long the store may take to answer its health probe.
const STORE_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// The `lodging_registry` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LodgingRegistryConfig {
    /// Address to listen on; port 0 picks an ephemeral port.
    pub listen: SocketAddr,
    /// URL of the population database when the mock runs alone, e.g. `http://population-db:4620`.
    pub population_url: Option<String>,
}

impl Default for LodgingRegistryConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            population_url: None,
        }
    }
}

/// The lodging registry mock component.
#[derive(Debug, Default)]
pub struct LodgingRegistryComponent;

impl Component for LodgingRegistryComponent {
    fn spec(&self) -> &'static ComponentSpec {
        &SPEC
    }

    fn error_reasons(&self) -> Option<ErrorReasons> {
        Some(ErrorReasons::new("Lodging registry mock", crate::REASONS))
    }

    fn listen(&self, config: &Figment) -> Result<SocketAddr, ConfigError> {
        Ok(config::section::<LodgingRegistryConfig>(config, SECTION)?.listen)
    }

    fn serve(&self, ctx: Context, listener: TcpListener, shutdown: Shutdown) -> Running {
        Box::pin(async move {
            let section: LodgingRegistryConfig = ctx.section(SECTION)?;
            let url = ctx.peer_url(&SPEC, POPULATION_DB, section.population_url.as_deref())?;
            let channel =
                sandbox06_runtime::peer_channel(&url).map_err(StartError::channel(SPEC.name))?;
            // Serving only while the store answers; while it does not, calls fail at once.
            let store = ctx
                .section::<StoreConfig>(sandbox06_store::SECTION)?
                .for_component(SPEC.name)
                // Every key is state, each tenant's own.
                .open_checked(&[])
                .await
                .map_err(StartError::dependency(SPEC.name, "state store"))?;
            tracing::info!(backend = store.backend(), "state store opened");
            let api = LodgingRegistry::new(
                Arc::new(GrpcCitizens::new(channel)),
                store.clone(),
                ctx.clock.clone(),
            );
            let builder = ServerBuilder::new(&ctx.limits)
                .clock(ctx.clock.clone())
                .component(SPEC.name)
                .error_reasons(crate::REASONS)
                .control_key(ctx.control_key())
                .add_service(
                    LodgingRegistryServiceServer::new(api)
                        .max_decoding_message_size(ctx.limits.max_request_bytes),
                )
                .add_service(
                    StateService::new("the lodging registry's state store", store.clone())
                        .into_server(),
                );
            builder
                .serve_while(listener, shutdown, store.answers(STORE_PROBE_TIMEOUT))
                .await
                .map_err(StartError::serve(SPEC.name))
        })
    }
}
