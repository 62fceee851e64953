//! The population database as a component of the suite: its configuration section
//! (`population`) and how it starts.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
};

use figment::Figment;
use sandbox06_country::{Country, CountryConfig};
use sandbox06_proto::population::population_service_server::PopulationServiceServer;
use sandbox06_runtime::{
    component::{
        Component, ComponentSpec, Context, ErrorReasons, Role, Running, Shutdown, StartError,
    },
    config::{self, ConfigError},
    server::ServerBuilder,
};
use sandbox06_store::{Store, StoreConfig, control::StateService};
use serde::{Deserialize, Serialize};
use time::Date;
use tokio::net::TcpListener;

use crate::PopulationDb;

/// What the population database is.
pub static SPEC: ComponentSpec = ComponentSpec {
    name: "population-db",
    summary: "mock of the national population database: the synthetic country and its recorded changes",
    role: Role::Upstream,
    section: SECTION,
    grpc_services: &[<PopulationServiceServer<PopulationDb> as tonic::server::NamedService>::NAME],
    http_prefixes: &[],
    peers: &[],
    container_port: 4620,
    clients: &[],
};

/// Its configuration section, where the country is set too.
pub const SECTION: &str = sandbox06_country::SECTION;

/// How long the store may take to answer its health probe.
const STORE_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// The `population` section: where the mock listens, and the synthetic country it serves (the
/// country's keys are [`CountryConfig`]'s, which every other reader of the country shares).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PopulationConfig {
    /// Address to listen on; port 0 picks an ephemeral port.
    pub listen: SocketAddr,
    /// The country: `seed`, `size` and `reference_date`.
    #[serde(flatten)]
    pub country: CountryConfig,
}

impl Default for PopulationConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            country: CountryConfig::default(),
        }
    }
}

impl PopulationConfig {
    /// Reads the section from the layered configuration.
    pub fn from_config(config: &Figment) -> Result<Self, ConfigError> {
        config::section(config, SECTION)
    }

    /// The date the country is computed for: the configured one, today when unset.
    pub fn reference_date(&self) -> Result<Date, ConfigError> {
        self.country
            .reference_date()
            .map_err(|e| ConfigError::Value {
                key: CountryConfig::REFERENCE_DATE_KEY.to_owned(),
                message: e.to_string(),
            })
    }

    /// The synthetic country this section describes, as of `today`.
    pub fn country(&self, today: Date) -> Country {
        self.country.country(today)
    }
}

/// The population database component.
#[derive(Debug, Default)]
pub struct PopulationDbComponent;

impl Component for PopulationDbComponent {
    fn spec(&self) -> &'static ComponentSpec {
        &SPEC
    }

    fn error_reasons(&self) -> Option<ErrorReasons> {
        Some(ErrorReasons::new("Population database", crate::REASONS))
    }

    fn listen(&self, config: &Figment) -> Result<SocketAddr, ConfigError> {
        let section = PopulationConfig::from_config(config)?;
        section.reference_date()?;
        Ok(section.listen)
    }

    fn serve(&self, ctx: Context, listener: TcpListener, shutdown: Shutdown) -> Running {
        Box::pin(async move {
            let section: PopulationConfig = ctx.section(SECTION)?;
            // Serving only while the store answers; while it does not, calls fail at once.
            let store = ctx
                .section::<StoreConfig>(sandbox06_store::SECTION)?
                .for_component(SPEC.name)
                // Every key is state, each tenant's own.
                .open_checked(&[])
                .await
                .map_err(StartError::dependency(SPEC.name, "state store"))?;
            tracing::info!(backend = store.backend(), "state store opened");
            let db = PopulationDb::new(Arc::new(section.country(ctx.today)), store.clone())
                .with_max_response_bytes(ctx.limits.max_request_bytes)
                .with_clock(ctx.clock.clone());
            let builder = ServerBuilder::new(&ctx.limits)
                .clock(ctx.clock.clone())
                .component(SPEC.name)
                .error_reasons(crate::REASONS)
                .control_key(ctx.control_key())
                .add_service(
                    PopulationServiceServer::new(db)
                        .max_decoding_message_size(ctx.limits.max_request_bytes),
                )
                .add_service(
                    StateService::new("the population database's state store", store.clone())
                        .into_server(),
                );
            builder
                .serve_while(listener, shutdown, store.answers(STORE_PROBE_TIMEOUT))
                .await
                .map_err(StartError::serve(SPEC.name))
        })
    }
}
