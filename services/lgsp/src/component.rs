//! The platform as a component of the suite: its configuration section (`lgsp`) and how it
//! starts.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex, PoisonError},
};

use figment::Figment;
use sandbox06_proto::lgsp::lgsp_service_server::LgspServiceServer;
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
    GrpcConsents, Lgsp, Providers, SubjectKey,
    lodging::LodgingCounts,
    providers::{NDXP, VNEID},
    registry::{AgencyConfig, AgreementConfig, Registry},
};

/// What the platform is.
pub static SPEC: ComponentSpec = ComponentSpec {
    name: "lgsp",
    summary: "the provincial data-sharing platform (LGSP): catalogue, agreements, exchanges routed to local providers or through NDXP, hash-chained audit log",
    role: Role::Service,
    section: SECTION,
    grpc_services: &[<LgspServiceServer<Lgsp> as tonic::server::NamedService>::NAME],
    http_prefixes: &[],
    peers: &[NDXP, VNEID],
    container_port: 4690,
    clients: &[ClientSpec {
        client_id: "svc-lgsp",
        name: "Nền tảng LGSP",
        name_en: "Provincial data-sharing platform",
        grant_types: &[CLIENT_CREDENTIALS],
        scopes: &["citizen.verify", "lodging.read"],
    }],
};

/// Its configuration section.
pub const SECTION: &str = "lgsp";

/// How long the store may take to answer its health probe.
const STORE_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// The `lgsp` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LgspConfig {
    /// Address to listen on; port 0 picks an ephemeral port.
    pub listen: SocketAddr,
    /// URL of the NDXP mock when the platform runs alone.
    pub ndxp_url: Option<String>,
    /// URL of the VNeID mock when the platform runs alone (consents).
    pub vneid_url: Option<String>,
    /// URL of the edge when the platform runs alone (its calls to the citizen service).
    pub gateway_url: Option<String>,
    /// Agencies besides the demo ones; one with a demo agency's code replaces it.
    pub agencies: Vec<AgencyConfig>,
    /// Agreements besides the demo ones; one with a demo agreement's id replaces it.
    pub agreements: Vec<AgreementConfig>,
}

impl Default for LgspConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            ndxp_url: None,
            vneid_url: None,
            gateway_url: None,
            agencies: Vec::new(),
            agreements: Vec::new(),
        }
    }
}

impl LgspConfig {
    fn registry(&self) -> Result<Registry, ConfigError> {
        Registry::load(&self.agencies, &self.agreements).map_err(|e| ConfigError::Value {
            key: SECTION.to_owned(),
            message: e.to_string(),
        })
    }
}

/// The platform component. Its worker counts the lodging events its server's counts read, so
/// the server hands it the counts once it serves.
#[derive(Debug, Default)]
pub struct LgspComponent {
    counts: Arc<Mutex<Option<LodgingCounts>>>,
}

impl Component for LgspComponent {
    fn spec(&self) -> &'static ComponentSpec {
        &SPEC
    }

    fn error_reasons(&self) -> Option<ErrorReasons> {
        Some(ErrorReasons::new(
            "Data-sharing platform (LGSP)",
            crate::REASONS,
        ))
    }

    fn listen(&self, config: &Figment) -> Result<SocketAddr, ConfigError> {
        let section = config::section::<LgspConfig>(config, SECTION)?;
        section.registry()?;
        Ok(section.listen)
    }

    fn workers(&self) -> Vec<Worker> {
        let counts = self.counts.clone();
        vec![Worker::new("lodging-counts", move |_ctx, shutdown| {
            let counts = counts
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            async move {
                match counts {
                    Some(counts) => {
                        counts.run(shutdown).await;
                        Ok(())
                    }
                    None => Err("the data-sharing platform is not serving yet".into()),
                }
            }
        })]
    }

    fn serve(&self, ctx: Context, listener: TcpListener, shutdown: Shutdown) -> Running {
        let slot = self.counts.clone();
        Box::pin(async move {
            let section: LgspConfig = ctx.section(SECTION)?;
            let registry = Arc::new(section.registry()?);
            let ndxp_url = ctx.peer_url(&SPEC, NDXP, section.ndxp_url.as_deref())?;
            let vneid_url = ctx.peer_url(&SPEC, VNEID, section.vneid_url.as_deref())?;
            let ndxp = sandbox06_runtime::peer_channel(&ndxp_url)
                .map_err(StartError::channel(SPEC.name))?;
            let vneid = sandbox06_runtime::peer_channel(&vneid_url)
                .map_err(StartError::channel(SPEC.name))?;
            let edge = ctx.edge_channel(&SPEC, section.gateway_url.as_deref())?;
            // Every key is state, each tenant's own.
            let tenants = Arc::new(
                ctx.section::<StoreConfig>(sandbox06_store::SECTION)?
                    .for_component(SPEC.name)
                    .open_by_tenant(&[])
                    .await
                    .map_err(StartError::dependency(SPEC.name, "state store"))?,
            );
            let store = Arc::new(CheckedStore::new(tenants));
            tracing::info!(backend = store.backend(), "state store opened");
            let counts = LodgingCounts::new(store.clone(), edge.clone(), ctx.clock.clone());
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(counts.clone());
            // The subjects' digests are keyed by the platform's own secret, the same in every
            // process of the suite; a suite started without secrets keys them per process.
            let secret = ctx
                .client_secret(SPEC.clients[0].client_id)
                .unwrap_or_else(|| sandbox06_jose::random_token(32));
            let lgsp = Lgsp::new(
                registry,
                SubjectKey::new(secret.as_bytes()),
                store.clone(),
                ctx.clock.clone(),
                Providers::new(edge, ndxp, Arc::new(GrpcConsents::new(vneid)), counts),
            );
            let builder = ServerBuilder::new(&ctx.limits)
                .clock(ctx.clock.clone())
                .component(SPEC.name)
                .error_reasons(crate::REASONS)
                .control_key(ctx.control_key())
                .add_service(
                    LgspServiceServer::new(lgsp)
                        .max_decoding_message_size(ctx.limits.max_request_bytes),
                )
                .add_service(
                    StateService::new("the platform's state store", store.clone()).into_server(),
                );
            ctx.report_worker_health(builder.health_reporter());
            builder
                .serve_while(listener, shutdown, store.answers(STORE_PROBE_TIMEOUT))
                .await
                .map_err(StartError::serve(SPEC.name))
        })
    }
}
