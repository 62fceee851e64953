//! The sandbox06 suite wired together: every component on its own loopback port, the
//! gateway on the edge port, real gRPC hops between them. The binary and the end-to-end
//! tests start it the same way.

use std::{net::SocketAddr, sync::Arc, time::Instant};

use sandbox06_citizen::{GrpcPopulation, service::CitizenApi};
use sandbox06_gateway::{Backend, Gateway};
use sandbox06_population_db::PopulationDb;
use sandbox06_proto::{
    citizen::citizen_service_server::CitizenServiceServer,
    population::population_service_server::PopulationServiceServer,
};
use sandbox06_runtime::{
    config::Config,
    server::{ServerBuilder, bind},
};
use sandbox06_store::Store;
use sandbox06_world::Country;
use time::{Date, OffsetDateTime, UtcOffset, format_description::well_known::Iso8601};
use tokio::{sync::watch, task::JoinSet};

/// The public services each component serves (the gateway routes these).
pub const CITIZEN_SERVICES: &[&str] =
    &[<CitizenServiceServer<CitizenApi> as tonic::server::NamedService>::NAME];

/// Why the suite or a component could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A setting is wrong.
    #[error("config: {0}")]
    Config(String),
    /// A listener could not be bound.
    #[error(transparent)]
    Serve(#[from] sandbox06_runtime::server::ServeError),
    /// An upstream address is unusable.
    #[error(transparent)]
    Channel(#[from] sandbox06_runtime::client::ChannelError),
    /// The state store cannot be opened.
    #[error(transparent)]
    Store(#[from] sandbox06_store::StoreError),
}

/// Vietnam's date today (UTC+7): what "today" means for ages, cards and deadlines.
pub fn today_in_vietnam() -> Date {
    let offset = UtcOffset::from_hms(7, 0, 0).unwrap_or(UtcOffset::UTC);
    OffsetDateTime::now_utc().to_offset(offset).date()
}

/// The reference date from config, today when unset.
pub fn reference_date(config: &Config) -> Result<Date, StartError> {
    match &config.population.reference_date {
        None => Ok(today_in_vietnam()),
        Some(text) => Date::parse(text, &Iso8601::DATE).map_err(|e| {
            StartError::Config(format!(
                "population.reference_date must be YYYY-MM-DD, got {text:?}: {e}"
            ))
        }),
    }
}

/// The synthetic country the config describes.
pub fn country(config: &Config) -> Result<Arc<Country>, StartError> {
    Ok(Arc::new(Country::new(
        config.population.seed,
        config.population.size,
        reference_date(config)?,
    )))
}

/// A handle on a running suite: addresses, and a stop switch.
#[derive(Debug)]
pub struct Suite {
    /// The edge (gateway) address.
    pub edge: SocketAddr,
    /// The citizen service's own address (for direct-path benchmarks).
    pub citizen: SocketAddr,
    /// The population database mock's address.
    pub population: SocketAddr,
    /// The country served.
    pub country: Arc<Country>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<Result<(), String>>,
}

fn shutdown_signal(rx: &watch::Receiver<bool>) -> impl Future<Output = ()> + Send + 'static {
    let mut rx = rx.clone();
    async move {
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

/// Opens the store the config names (memory, or Redis shared by replicas).
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StartError> {
    let store = sandbox06_store::open(&config.store.url, &config.store.namespace).await?;
    tracing::info!(backend = store.backend(), "state store opened");
    Ok(store)
}

/// Starts the population database mock on `listener`, its overlays in `store`.
pub async fn serve_population(
    config: &Config,
    country: Arc<Country>,
    store: Arc<dyn Store>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let db = PopulationDb::new(country, store);
    let builder = ServerBuilder::new(&config.limits)
        .component("population-db")
        .add_service(
            PopulationServiceServer::new(db)
                .max_decoding_message_size(config.limits.max_request_bytes),
        );
    builder
        .health_reporter()
        .set_serving::<PopulationServiceServer<PopulationDb>>()
        .await;
    builder
        .serve(listener, shutdown)
        .await
        .map_err(|e| e.to_string())
}

/// Starts the citizen service on `listener`, calling the population database at `population_url`.
pub async fn serve_citizen(
    config: &Config,
    reference: Date,
    population_url: &str,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let channel = sandbox06_runtime::grpc_channel(population_url).map_err(|e| e.to_string())?;
    let api = CitizenApi::new(Arc::new(GrpcPopulation::new(channel)), reference);
    let builder = ServerBuilder::new(&config.limits)
        .component("citizen")
        .add_service(
            CitizenServiceServer::new(api)
                .max_decoding_message_size(config.limits.max_request_bytes),
        );
    builder
        .health_reporter()
        .set_serving::<CitizenServiceServer<CitizenApi>>()
        .await;
    builder
        .serve(listener, shutdown)
        .await
        .map_err(|e| e.to_string())
}

/// Starts the gateway on `listener` in front of the citizen service at `citizen_url`.
pub async fn serve_gateway(
    config: &Config,
    citizen_url: &str,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    Gateway::new(vec![Backend::new(
        "citizen",
        citizen_url,
        CITIZEN_SERVICES.iter().copied(),
    )])
    .with_limits(config.limits.clone())
    .serve(listener, shutdown)
    .await
    .map_err(|e| e.to_string())
}

impl Suite {
    /// Starts every component in this process: each on its own port, real gRPC between them.
    pub async fn start(config: &Config) -> Result<Suite, StartError> {
        let country = country(config)?;
        let reference = country.reference_date();
        let store = open_store(config).await?;
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();

        let population_listener = bind(config.population.listen).await?;
        let citizen_listener = bind(config.citizen.listen).await?;
        let edge_listener = bind(config.gateway.listen).await?;
        let population = population_listener
            .local_addr()
            .map_err(|e| StartError::Config(e.to_string()))?;
        let citizen = citizen_listener
            .local_addr()
            .map_err(|e| StartError::Config(e.to_string()))?;
        let edge = edge_listener
            .local_addr()
            .map_err(|e| StartError::Config(e.to_string()))?;

        let (cfg, c, sd) = (
            config.clone(),
            Arc::clone(&country),
            shutdown_signal(&stop_rx),
        );
        tasks.spawn(async move { serve_population(&cfg, c, store, population_listener, sd).await });
        let (cfg, sd) = (config.clone(), shutdown_signal(&stop_rx));
        let population_url = format!("http://{population}");
        tasks.spawn(async move {
            serve_citizen(&cfg, reference, &population_url, citizen_listener, sd).await
        });
        let (cfg, sd) = (config.clone(), shutdown_signal(&stop_rx));
        let citizen_url = format!("http://{citizen}");
        tasks.spawn(async move { serve_gateway(&cfg, &citizen_url, edge_listener, sd).await });

        Ok(Suite {
            edge,
            citizen,
            population,
            country,
            stop,
            tasks,
        })
    }

    /// Waits until the edge reports every routed service SERVING (bounded by `timeout`).
    pub async fn wait_ready(&self, timeout: std::time::Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let url = format!("http://{}", self.edge);
        loop {
            if health_check(&url, CITIZEN_SERVICES[0])
                .await
                .unwrap_or(false)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the suite at {} was not ready within {timeout:?}",
                    self.edge
                ));
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }

    /// Stops every component and waits for them to finish.
    pub async fn stop(mut self) -> Result<(), String> {
        let _ = self.stop.send(true);
        let mut first_error = None;
        while let Some(joined) = self.tasks.join_next().await {
            if let Ok(Err(e)) | Err(e) = joined.map_err(|e| e.to_string()) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Runs until a component fails or ctrl-c.
    pub async fn run_until_stopped(mut self) -> Result<(), String> {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => self.stop().await,
            joined = self.tasks.join_next() => {
                let _ = self.stop.send(true);
                match joined {
                    Some(Ok(Err(e))) => Err(e),
                    Some(Err(e)) => Err(e.to_string()),
                    _ => Ok(()),
                }
            }
        }
    }
}

/// One grpc.health.v1 Check: whether `service` ("" for the server) is SERVING at `url`.
pub async fn health_check(url: &str, service: &str) -> Result<bool, String> {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())
        .map_err(|e| e.to_string())?
        .connect_timeout(std::time::Duration::from_secs(2))
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .map_err(|e| e.message().to_owned())?;
    Ok(response.into_inner().status == ServingStatus::Serving as i32)
}
