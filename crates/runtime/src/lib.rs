//! Shared runtime of sandbox06: configuration, telemetry and request metrics, the error model,
//! personal-data masking, and the server bootstrap and client channel every component uses.
//!
//! Starting a component (every component starts the same way):
//!
//! ```no_run
//! use sandbox06_runtime::{config::Config, server, telemetry};
//! use sandbox06_proto::citizen::citizen_service_server::{CitizenService, CitizenServiceServer};
//!
//! async fn run<T: CitizenService>(service: T) -> Result<(), Box<dyn std::error::Error>> {
//!     let config = Config::load(None, figment::Figment::new())?;
//!     let _telemetry = telemetry::init("citizen", &config.telemetry);
//!     let listener = server::bind(config.citizen.listen).await?;
//!     let builder = server::ServerBuilder::new(&config.limits)
//!         .component("citizen")
//!         .add_service(CitizenServiceServer::new(service));
//!     builder.health_reporter().set_serving::<CitizenServiceServer<T>>().await;
//!     builder.serve(listener, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//!     Ok(())
//! }
//! ```

pub mod client;
pub mod config;
pub mod error;
pub mod limit;
pub mod mask;
pub mod metrics;
pub mod server;
pub mod telemetry;

pub use client::grpc_channel;
pub use error::{ApiError, Reason};
