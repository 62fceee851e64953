//! The admin surface as a component of the suite: its configuration section (`admin`) and how
//! it starts.
//!
//! It calls every other component of the suite, whatever the list holds: under `up` it finds
//! them in the process; run alone, `admin.components.<its section>` gives each one's URL
//! (`SANDBOX06_ADMIN__COMPONENTS__POPULATION=http://population-db:4620` for the population
//! database, whose section is `population`), and a component without one is a start-up error
//! naming the key.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};

use figment::Figment;
use sandbox06_proto::admin::admin_service_server::AdminServiceServer;
use sandbox06_runtime::{
    component::{
        Component, ComponentSpec, Context, ErrorReasons, Role, Running, Shutdown, StartError,
        is_controlled,
    },
    config::{self, ConfigError},
    server::ServerBuilder,
};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::access::Access;
use crate::service::{Admin, ControlKey, Target};

/// What the admin surface is.
pub static SPEC: ComponentSpec = ComponentSpec {
    name: "admin",
    summary: "sandbox controls: fault rules, reset and snapshots, the request journal, the clock, finding citizens, life events, account unlocks and VNeID share codes",
    role: Role::Service,
    section: SECTION,
    grpc_services: &[<AdminServiceServer<Admin> as tonic::server::NamedService>::NAME],
    http_prefixes: &[],
    // Every other component, found in the context: not a list of its own to keep in step.
    peers: &[],
    container_port: 4650,
    clients: &[],
};

/// Its configuration section.
pub const SECTION: &str = "admin";

/// The `admin` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// Address to listen on; port 0 picks an ephemeral port.
    pub listen: SocketAddr,
    /// Who may use the admin surface: `open` (default: calls without a token, or with a token
    /// granted `sandbox06.admin`), `token` (only the latter) or `off`.
    pub access: Access,
    /// When the admin runs alone: each other component's URL by its section's name, e.g.
    /// `components.population = "http://population-db:4620"`.
    pub components: BTreeMap<String, String>,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            access: Access::default(),
            components: BTreeMap::new(),
        }
    }
}

/// The admin component.
#[derive(Debug, Default)]
pub struct AdminComponent;

impl AdminComponent {
    /// Every other component of `ctx`, with a channel to each.
    fn targets(ctx: &Context, section: &AdminConfig) -> Result<Vec<Target>, StartError> {
        let mut targets = Vec::new();
        // Itself left out: the controls never fault or reset the component serving them.
        for peer in ctx.peers().filter(|peer| is_controlled(peer.spec)) {
            let name = peer.spec.name;
            let url = match (&peer.url, section.components.get(peer.spec.section)) {
                (Some(url), _) | (None, Some(url)) => url.clone(),
                (None, None) => {
                    return Err(StartError::MissingPeer {
                        component: SPEC.name,
                        peer: name,
                        key: format!("{SECTION}.components.{}", peer.spec.section),
                    });
                }
            };
            let channel =
                sandbox06_runtime::peer_channel(&url).map_err(StartError::channel(SPEC.name))?;
            targets.push(Target::new(
                name,
                channel,
                ControlKey::new(ctx.control_key()),
            ));
        }
        Ok(targets)
    }
}

impl Component for AdminComponent {
    fn spec(&self) -> &'static ComponentSpec {
        &SPEC
    }

    fn error_reasons(&self) -> Option<ErrorReasons> {
        Some(ErrorReasons::new("Admin surface", crate::REASONS))
    }

    fn listen(&self, config: &Figment) -> Result<SocketAddr, ConfigError> {
        Ok(config::section::<AdminConfig>(config, SECTION)?.listen)
    }

    fn serve(&self, ctx: Context, listener: TcpListener, shutdown: Shutdown) -> Running {
        Box::pin(async move {
            let section: AdminConfig = ctx.section(SECTION)?;
            let admin = Admin::new(section.access, Self::targets(&ctx, &section)?)
                .with_clock(ctx.clock.clone());
            tracing::info!(access = ?section.access, "admin surface");
            ServerBuilder::new(&ctx.limits)
                .clock(ctx.clock.clone())
                .component(SPEC.name)
                .error_reasons(crate::REASONS)
                .control_key(ctx.control_key())
                .add_service(
                    AdminServiceServer::new(admin)
                        .max_decoding_message_size(ctx.limits.max_request_bytes),
                )
                // Serving whatever the others do: a component made to fail or go down by a rule
                // must not take away the means to clear the rule.
                .serve_while(listener, shutdown, || async { true })
                .await
                .map_err(StartError::serve(SPEC.name))
        })
    }
}
