//! Shared runtime of sandbox06: configuration, telemetry and request metrics, the error model,
//! personal-data masking, and the server bootstrap and client channel every component uses.
//!
//! A component describes itself with a [`component::ComponentSpec`] and implements
//! [`component::Component`]; its `serve` reads its configuration section from the
//! [`component::Context`] and starts a [`server::ServerBuilder`]:
//!
//! ```no_run
//! use sandbox06_runtime::{component::Context, config::ConfigError, server::ServerBuilder};
//! use sandbox06_proto::citizen::citizen_service_server::{CitizenService, CitizenServiceServer};
//!
//! async fn serve<T: CitizenService>(
//!     ctx: Context,
//!     service: T,
//!     listener: tokio::net::TcpListener,
//! ) -> Result<(), Box<dyn std::error::Error>> {
//!     let builder = ServerBuilder::new(&ctx.limits)
//!         .component("citizen")
//!         .add_service(CitizenServiceServer::new(service));
//!     builder.health_reporter().set_serving::<CitizenServiceServer<T>>().await;
//!     builder.serve(listener, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//!     Ok(())
//! }
//! ```

mod call_deadline;
pub mod caller;
pub mod client;
pub mod clock;
pub mod component;
pub mod config;
mod connections;
pub mod control_key;
pub mod cors;
pub mod deadline;
pub mod decode;
pub mod digest;
pub mod error;
pub mod faults;
pub mod grpc_web;
pub mod http;
pub mod http2;
pub mod in_process;
pub mod limit;
pub mod mask;
pub mod metadata_limit;
pub mod metrics;
pub mod panic;
pub mod rpc;
pub mod server;
pub mod status_blocks;
pub mod telemetry;
pub mod token;
pub mod worker;

pub use client::{PeerChannel, grpc_channel, peer_channel};
pub use error::{ApiError, ErrorReason, Reason, ReasonCode, UpstreamFailure};
