//! The NDXP mock as a component of the suite: its configuration section (`ndxp`) and how it
//! starts.

use std::net::{Ipv4Addr, SocketAddr};

use figment::Figment;
use sandbox06_proto::ndxp::ndxp_service_server::NdxpServiceServer;
use sandbox06_runtime::{
    component::{
        Component, ComponentSpec, Context, ErrorReasons, Role, Running, Shutdown, StartError,
    },
    config::{self, ConfigError},
    server::ServerBuilder,
};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::{Ndxp, Population, error::POPULATION_DB};

/// What the NDXP mock is.
pub static SPEC: ComponentSpec = ComponentSpec {
    name: "ndxp",
    summary: "mock of the national data exchange platform (NDXP) and the national services behind it: health insurance, civil status, judicial records, population statistics",
    role: Role::Upstream,
    section: SECTION,
    grpc_services: &[<NdxpServiceServer<Ndxp> as tonic::server::NamedService>::NAME],
    http_prefixes: &[],
    peers: &[POPULATION_DB],
    container_port: 4680,
    clients: &[],
};

/// Its configuration section.
pub const SECTION: &str = "ndxp";

/// The `ndxp` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NdxpConfig {
    /// Address to listen on; port 0 picks an ephemeral port.
    pub listen: SocketAddr,
    /// URL of the population database when the mock runs alone, e.g. `http://population-db:4620`.
    pub population_url: Option<String>,
}

impl Default for NdxpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            population_url: None,
        }
    }
}

/// The NDXP mock component.
#[derive(Debug, Default)]
pub struct NdxpComponent;

impl Component for NdxpComponent {
    fn spec(&self) -> &'static ComponentSpec {
        &SPEC
    }

    fn error_reasons(&self) -> Option<ErrorReasons> {
        Some(ErrorReasons::new("NDXP mock", crate::REASONS))
    }

    fn listen(&self, config: &Figment) -> Result<SocketAddr, ConfigError> {
        Ok(config::section::<NdxpConfig>(config, SECTION)?.listen)
    }

    fn serve(&self, ctx: Context, listener: TcpListener, shutdown: Shutdown) -> Running {
        Box::pin(async move {
            let section: NdxpConfig = ctx.section(SECTION)?;
            let url = ctx.peer_url(&SPEC, POPULATION_DB, section.population_url.as_deref())?;
            let channel =
                sandbox06_runtime::peer_channel(&url).map_err(StartError::channel(SPEC.name))?;
            let api = Ndxp::new(Population::new(channel), ctx.clock.clone());
            ServerBuilder::new(&ctx.limits)
                .clock(ctx.clock.clone())
                .component(SPEC.name)
                .error_reasons(crate::REASONS)
                .control_key(ctx.control_key())
                .add_service(
                    NdxpServiceServer::new(api)
                        .max_decoding_message_size(ctx.limits.max_request_bytes),
                )
                .serve(listener, shutdown)
                .await
                .map_err(StartError::serve(SPEC.name))
        })
    }
}
