//! Helpers of the end-to-end tests: start the whole suite in-process on ephemeral ports and
//! talk to it only through the edge, as an integrator would.

use figment::{Figment, providers::Serialized};
use sandbox06::Suite;
use sandbox06_proto::citizen::citizen_service_client::CitizenServiceClient;
use sandbox06_runtime::config::Config;
use tonic::transport::Channel;

/// The reference date the tests' country is computed for, so verdicts do not drift with time.
pub const REFERENCE_DATE: &str = "2026-11-27";

/// A running suite and a client connected to its edge.
pub struct Harness {
    /// The suite.
    pub suite: Suite,
    /// A channel to the edge port.
    pub edge: Channel,
}

/// The suite's config for tests: every port ephemeral, a fixed reference date.
pub fn test_config() -> Config {
    test_config_with(Figment::new())
}

/// [`test_config`] with more settings on top.
pub fn test_config_with(extra: Figment) -> Config {
    let overrides = Figment::new()
        .merge(Serialized::default("gateway.listen", "127.0.0.1:0"))
        .merge(Serialized::default("citizen.listen", "127.0.0.1:0"))
        .merge(Serialized::default("population.listen", "127.0.0.1:0"))
        .merge(Serialized::default(
            "population.reference_date",
            REFERENCE_DATE,
        ))
        .merge(extra);
    Config::load(None, overrides).expect("test config")
}

/// Starts the suite and waits until the edge reports it ready.
pub async fn start() -> Harness {
    start_with(&test_config()).await
}

/// Starts the suite with `config` and waits until the edge reports it ready.
pub async fn start_with(config: &Config) -> Harness {
    let suite = Suite::start(config).await.expect("suite starts");
    suite
        .wait_ready(std::time::Duration::from_secs(10))
        .await
        .expect("suite ready");
    let edge = Channel::from_shared(format!("http://{}", suite.edge))
        .expect("edge url")
        .connect()
        .await
        .expect("edge");
    Harness { suite, edge }
}

impl Harness {
    /// A citizen service client through the edge.
    pub fn citizens(&self) -> CitizenServiceClient<Channel> {
        CitizenServiceClient::new(self.edge.clone())
    }
}

/// The Redis URL of the Redis-backed tests, or `None` (after saying they are skipped).
pub fn redis_url(test: &str) -> Option<String> {
    match std::env::var("SANDBOX06_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            // Written past the test harness's output capture, so the skip shows in every run.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "{test}: skipped, SANDBOX06_TEST_REDIS_URL is not set"
            );
            None
        }
    }
}
