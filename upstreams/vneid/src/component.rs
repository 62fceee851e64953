//! The VNeID mock as a component of the suite: its configuration section (`vneid`) and how it
//! starts.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
};

use figment::Figment;
use sandbox06_country::CountryConfig;
use sandbox06_proto::vneid::{
    consent_service_server::ConsentServiceServer,
    share_code_service_server::ShareCodeServiceServer, vneid_service_server::VneidServiceServer,
};
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

use crate::{GrpcHolders, Vneid};

/// The population database, as the list of components names it.
const POPULATION_DB: &str = "population-db";

/// What the VNeID mock is.
pub static SPEC: ComponentSpec = ComponentSpec {
    name: "vneid",
    summary: "mock of VNeID, the national electronic identity: accounts, how holders authenticate, and share codes",
    role: Role::Upstream,
    section: SECTION,
    grpc_services: &[
        <VneidServiceServer<Vneid> as tonic::server::NamedService>::NAME,
        <ShareCodeServiceServer<Vneid> as tonic::server::NamedService>::NAME,
        <ConsentServiceServer<Vneid> as tonic::server::NamedService>::NAME,
    ],
    http_prefixes: &[],
    peers: &[POPULATION_DB],
    container_port: 4630,
    clients: &[],
};

/// Its configuration section.
pub const SECTION: &str = "vneid";

/// How long the store may take to answer its health probe.
const STORE_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// The `vneid` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VneidConfig {
    /// Address to listen on; port 0 picks an ephemeral port.
    pub listen: SocketAddr,
    /// URL of the population database when the mock runs alone, e.g. `http://population-db:4620`.
    pub population_url: Option<String>,
}

impl Default for VneidConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            population_url: None,
        }
    }
}

/// The VNeID mock component.
#[derive(Debug, Default)]
pub struct VneidComponent;

impl Component for VneidComponent {
    fn spec(&self) -> &'static ComponentSpec {
        &SPEC
    }

    fn error_reasons(&self) -> Option<ErrorReasons> {
        Some(ErrorReasons::new("VNeID mock", crate::REASONS))
    }

    fn listen(&self, config: &Figment) -> Result<SocketAddr, ConfigError> {
        Ok(config::section::<VneidConfig>(config, SECTION)?.listen)
    }

    fn serve(&self, ctx: Context, listener: TcpListener, shutdown: Shutdown) -> Running {
        Box::pin(async move {
            let section: VneidConfig = ctx.section(SECTION)?;
            let url = ctx.peer_url(&SPEC, POPULATION_DB, section.population_url.as_deref())?;
            let channel =
                sandbox06_runtime::peer_channel(&url).map_err(StartError::channel(SPEC.name))?;
            // Serving only while the store answers; while it does not, calls fail at once.
            let store = ctx
                .section::<StoreConfig>(sandbox06_store::SECTION)?
                .for_component(SPEC.name)
                // Every key is state, each tenant's own, except the share codes' signing key:
                // configuration every tenant and replica shares.
                .open_checked(crate::share::KEPT)
                .await
                .map_err(StartError::dependency(SPEC.name, "state store"))?;
            tracing::info!(backend = store.backend(), "state store opened");
            let country: CountryConfig = ctx.section(sandbox06_country::SECTION)?;
            let api = Vneid::new(
                Arc::new(country.country(ctx.today)),
                Arc::new(GrpcHolders::new(channel)),
                store.clone(),
            )
            .with_clock(ctx.clock.clone());
            let builder = ServerBuilder::new(&ctx.limits)
                .clock(ctx.clock.clone())
                .component(SPEC.name)
                .error_reasons(crate::REASONS)
                .control_key(ctx.control_key())
                .add_service(
                    VneidServiceServer::new(api.clone())
                        .max_decoding_message_size(ctx.limits.max_request_bytes),
                )
                .add_service(
                    ShareCodeServiceServer::new(api.clone())
                        .max_decoding_message_size(ctx.limits.max_request_bytes),
                )
                .add_service(
                    ConsentServiceServer::new(api)
                        .max_decoding_message_size(ctx.limits.max_request_bytes),
                )
                .add_service(
                    StateService::new("VNeID's state store", store.clone())
                        .keeping(crate::share::KEPT)
                        .into_server(),
                );
            builder
                .serve_while(listener, shutdown, store.answers(STORE_PROBE_TIMEOUT))
                .await
                .map_err(StartError::serve(SPEC.name))
        })
    }
}
