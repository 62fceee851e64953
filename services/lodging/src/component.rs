//! The lodging service as a component of the suite: its configuration section (`lodging`),
//! how it starts, and its delivery worker (`lodging/outbox`).

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex, PoisonError},
};

use figment::Figment;
use sandbox06_proto::lodging::lodging_service_server::LodgingServiceServer;
use sandbox06_runtime::{
    component::{
        CLIENT_CREDENTIALS, ClientSpec, Component, ComponentSpec, Context, ErrorReasons, Role,
        Running, Shutdown, StartError,
    },
    config::{self, ConfigError},
    server::ServerBuilder,
    worker::Worker,
};
use sandbox06_store::{CheckedStore, Store, StoreConfig, control::StateService};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::{
    Deliverer, Facilities, FacilityConfig, Lodging,
    upstream::{GrpcCitizens, GrpcRegistry, GrpcShareCodes},
};

/// The national lodging registry mock, as the list of components names it.
const LODGING_REGISTRY: &str = "lodging-registry";
/// The VNeID mock, as the list of components names it.
const VNEID: &str = "vneid";

/// What the lodging service is.
pub static SPEC: ComponentSpec = ComponentSpec {
    name: "lodging",
    summary: "lodging declarations (ASM): hotels, hospitals and coaches declare their guests, delivered to the national lodging registry",
    role: Role::Service,
    section: SECTION,
    grpc_services: &[<LodgingServiceServer<Lodging> as tonic::server::NamedService>::NAME],
    http_prefixes: &[],
    peers: &[LODGING_REGISTRY, VNEID],
    container_port: 4660,
    clients: &[ClientSpec {
        client_id: "svc-lodging",
        name: "Dịch vụ lưu trú",
        name_en: "Lodging service",
        grant_types: &[CLIENT_CREDENTIALS],
        scopes: &["citizen.match"],
    }],
};

/// Its configuration section.
pub const SECTION: &str = "lodging";

/// How long the store may take to answer its health probe.
const STORE_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// The `lodging` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LodgingConfig {
    /// Address to listen on; port 0 picks an ephemeral port.
    pub listen: SocketAddr,
    /// URL of the lodging registry mock when the service runs alone.
    pub lodging_registry_url: Option<String>,
    /// URL of the VNeID mock when the service runs alone.
    pub vneid_url: Option<String>,
    /// URL of the edge when the service runs alone (its calls to the citizen service).
    pub gateway_url: Option<String>,
    /// Facilities besides the demo ones; one with a demo facility's id replaces it.
    pub facilities: Vec<FacilityConfig>,
}

impl Default for LodgingConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            lodging_registry_url: None,
            vneid_url: None,
            gateway_url: None,
            facilities: Vec::new(),
        }
    }
}

/// The lodging service component. Its worker delivers what its server recorded, so the
/// server hands it the service once it serves.
#[derive(Debug, Default)]
pub struct LodgingComponent {
    deliverer: Arc<Mutex<Option<Deliverer>>>,
}

impl Component for LodgingComponent {
    fn spec(&self) -> &'static ComponentSpec {
        &SPEC
    }

    fn error_reasons(&self) -> Option<ErrorReasons> {
        Some(ErrorReasons::new("Lodging service", crate::REASONS))
    }

    fn listen(&self, config: &Figment) -> Result<SocketAddr, ConfigError> {
        let section = config::section::<LodgingConfig>(config, SECTION)?;
        Facilities::load(&section.facilities).map_err(|e| ConfigError::Value {
            key: format!("{SECTION}.facilities"),
            message: e.to_string(),
        })?;
        Ok(section.listen)
    }

    fn workers(&self) -> Vec<Worker> {
        let deliverer = self.deliverer.clone();
        vec![Worker::new("outbox", move |_ctx, shutdown| {
            let deliverer = deliverer
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            async move {
                match deliverer {
                    Some(deliverer) => deliverer.run(shutdown).await.map_err(Into::into),
                    None => Err("the lodging service is not serving yet".into()),
                }
            }
        })]
    }

    fn serve(&self, ctx: Context, listener: TcpListener, shutdown: Shutdown) -> Running {
        let slot = self.deliverer.clone();
        Box::pin(async move {
            let section: LodgingConfig = ctx.section(SECTION)?;
            let facilities =
                Facilities::load(&section.facilities).map_err(|e| ConfigError::Value {
                    key: format!("{SECTION}.facilities"),
                    message: e.to_string(),
                })?;
            let registry_url = ctx.peer_url(
                &SPEC,
                LODGING_REGISTRY,
                section.lodging_registry_url.as_deref(),
            )?;
            let vneid_url = ctx.peer_url(&SPEC, VNEID, section.vneid_url.as_deref())?;
            let registry = sandbox06_runtime::peer_channel(&registry_url)
                .map_err(StartError::channel(SPEC.name))?;
            let vneid = sandbox06_runtime::peer_channel(&vneid_url)
                .map_err(StartError::channel(SPEC.name))?;
            let edge = ctx.edge_channel(&SPEC, section.gateway_url.as_deref())?;
            // Every key is state, each tenant's own; the worker visits the tenants' outboxes.
            let tenants = Arc::new(
                ctx.section::<StoreConfig>(sandbox06_store::SECTION)?
                    .for_component(SPEC.name)
                    .open_by_tenant(&[])
                    .await
                    .map_err(StartError::dependency(SPEC.name, "state store"))?,
            );
            let store = Arc::new(CheckedStore::new(tenants.clone()));
            tracing::info!(backend = store.backend(), "state store opened");
            let lodging = Lodging::new(
                facilities,
                store.clone(),
                ctx.clock.clone(),
                Arc::new(GrpcCitizens::new(edge)),
                Arc::new(GrpcShareCodes::new(vneid)),
            );
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(Deliverer::new(
                lodging.clone(),
                Arc::new(GrpcRegistry::new(registry)),
                Some(tenants),
            ));
            let builder = ServerBuilder::new(&ctx.limits)
                .clock(ctx.clock.clone())
                .component(SPEC.name)
                .error_reasons(crate::REASONS)
                .control_key(ctx.control_key())
                .add_service(
                    LodgingServiceServer::new(lodging)
                        .max_decoding_message_size(ctx.limits.max_request_bytes),
                )
                .add_service(
                    StateService::new("the lodging service's state store", store.clone())
                        .into_server(),
                );
            ctx.report_worker_health(builder.health_reporter());
            builder
                .serve_while(listener, shutdown, store.answers(STORE_PROBE_TIMEOUT))
                .await
                .map_err(StartError::serve(SPEC.name))
        })
    }
}
