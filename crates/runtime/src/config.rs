//! Layered configuration: defaults → `sandbox06.toml` (or a given file) → `SANDBOX06_*` env →
//! command-line overrides.
//!
//! Environment keys are nested with `__`: `SANDBOX06_GATEWAY__LISTEN=0.0.0.0:4606` sets
//! `gateway.listen`. Overrides are any [`figment::Provider`]; a CLI passes the flags it got,
//! for example `("gateway.listen", addr)` or `Serialized::default("population.seed", 7)`, and
//! `Figment::new()` when it has none.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Name of the configuration file read from the working directory when no file is given.
pub const DEFAULT_FILE: &str = "sandbox06.toml";

/// Prefix of the environment variables read by [`Config::load`].
pub const ENV_PREFIX: &str = "SANDBOX06_";

/// Errors of [`Config::load`].
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A configuration file was named explicitly but is not there.
    #[error("config file {path} does not exist")]
    FileNotFound {
        /// The file asked for.
        path: String,
    },
    /// A layer holds a value of the wrong type or shape.
    #[error("invalid configuration value for {key}: {source}")]
    Invalid {
        /// Dotted path of the offending key, e.g. `gateway.listen` (empty for the whole file).
        key: String,
        /// What figment reports, including which layer the value came from.
        source: Box<figment::Error>,
    },
}

impl From<figment::Error> for ConfigError {
    fn from(error: figment::Error) -> Self {
        Self::Invalid {
            // Env keys arrive upper-case; the file and the docs spell them lower-case.
            key: error.path.join(".").to_lowercase(),
            source: Box::new(error),
        }
    }
}

/// The whole configuration of every component.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The edge.
    pub gateway: GatewayConfig,
    /// The citizen service.
    pub citizen: CitizenConfig,
    /// The population database mock.
    pub population: PopulationConfig,
    /// Logs and traces.
    pub telemetry: TelemetryConfig,
    /// Request bounds every server enforces.
    pub limits: Limits,
    /// Where state lives.
    pub store: StoreConfig,
}

/// Configuration of the edge gateway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// Address of the edge port.
    pub listen: SocketAddr,
    /// URL of a separately running citizen service, e.g. `http://citizen:4610`.
    pub citizen_url: Option<String>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 4606)),
            citizen_url: None,
        }
    }
}

/// Configuration of the citizen service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CitizenConfig {
    /// Address to listen on; port 0 picks an ephemeral port.
    pub listen: SocketAddr,
    /// URL of a separately running population database mock.
    pub population_url: Option<String>,
}

impl Default for CitizenConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            population_url: None,
        }
    }
}

/// Configuration of the population database mock (the synthetic country).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PopulationConfig {
    /// Address to listen on; port 0 picks an ephemeral port.
    pub listen: SocketAddr,
    /// Seed of the generator.
    pub seed: u64,
    /// Number of generated citizens.
    pub size: u64,
    /// Date the country is computed for, `YYYY-MM-DD`; today when unset.
    pub reference_date: Option<String>,
}

impl Default for PopulationConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            seed: 6,
            size: 100_000_000,
            reference_date: None,
        }
    }
}

/// Shape of log lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Configuration of logs and traces (OTLP export itself is configured by `OTEL_*` variables).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Shape of log lines.
    pub log_format: LogFormat,
    /// `tracing` filter directives; `RUST_LOG` wins when set.
    pub log_filter: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Text,
            log_filter: "info".to_owned(),
        }
    }
}

/// Bounds on what one client may send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest single gRPC request message, in bytes.
    pub max_request_bytes: usize,
    /// Largest number of concurrent HTTP/2 streams per connection.
    pub max_concurrent_streams: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_request_bytes: 4 * 1024 * 1024,
            max_concurrent_streams: 1024,
        }
    }
}

/// Where state lives (see `sandbox06_store::open`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// `memory` (in the process) or `redis://host:port` (shared by replicas).
    pub url: String,
    /// Prefix of every key, so several sandboxes can share one Redis.
    pub namespace: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            url: "memory".to_owned(),
            namespace: "sandbox06".to_owned(),
        }
    }
}

impl Config {
    /// Loads the configuration: defaults, then `file` (or `sandbox06.toml` in the working
    /// directory when present), then `SANDBOX06_*` variables, then `overrides`.
    pub fn load(
        file: Option<&Path>,
        overrides: impl figment::Provider,
    ) -> Result<Self, ConfigError> {
        Self::figment(file, overrides)?
            .extract()
            .map_err(ConfigError::from)
    }

    /// The layered sources of [`Config::load`], for callers that extract more than `Config`.
    pub fn figment(
        file: Option<&Path>,
        overrides: impl figment::Provider,
    ) -> Result<Figment, ConfigError> {
        let file = match file {
            Some(path) if !path.is_file() => {
                return Err(ConfigError::FileNotFound {
                    path: path.display().to_string(),
                });
            }
            Some(path) => Some(path),
            // The default file is optional; parent directories are deliberately not searched.
            None => Some(Path::new(DEFAULT_FILE)).filter(|path| path.is_file()),
        };
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            figment = figment.merge(Toml::file_exact(path));
        }
        Ok(figment
            .merge(
                Env::prefixed(ENV_PREFIX)
                    .split("__")
                    // Harness variables would otherwise be rejected as unknown keys.
                    .filter(|key| !key.starts_with(TEST_ENV_INFIX)),
            )
            .merge(overrides))
    }
}

/// Env keys after [`ENV_PREFIX`] that are reserved for test harnesses (for example
/// `SANDBOX06_TEST_REDIS_URL`) and never read as configuration.
pub const TEST_ENV_INFIX: &str = "TEST_";

#[cfg(test)]
// `Jail` closures return figment's large error type; tests only.
#[allow(clippy::unwrap_used, clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn defaults_without_any_layer() {
        Jail::expect_with(|_jail| {
            let config = Config::load(None, Figment::new()).unwrap();
            assert_eq!(config, Config::default());
            assert_eq!(config.gateway.listen.port(), 4606);
            assert_eq!(config.population.seed, 6);
            assert_eq!(config.limits.max_request_bytes, 4 * 1024 * 1024);
            Ok(())
        });
    }

    #[test]
    fn file_over_defaults_and_partial_sections() {
        Jail::expect_with(|jail| {
            jail.create_file(
                DEFAULT_FILE,
                "[population]\nseed = 42\n[telemetry]\nlog_format = \"json\"\n",
            )?;
            let config = Config::load(None, Figment::new()).unwrap();
            assert_eq!(config.population.seed, 42);
            assert_eq!(config.population.size, 100_000_000);
            assert_eq!(config.telemetry.log_format, LogFormat::Json);
            assert_eq!(config.telemetry.log_filter, "info");
            Ok(())
        });
    }

    #[test]
    fn env_over_file() {
        Jail::expect_with(|jail| {
            jail.create_file(DEFAULT_FILE, "[gateway]\nlisten = \"127.0.0.1:9000\"\n")?;
            jail.set_env("SANDBOX06_GATEWAY__LISTEN", "0.0.0.0:4606");
            jail.set_env("SANDBOX06_GATEWAY__CITIZEN_URL", "http://citizen:4610");
            let config = Config::load(None, Figment::new()).unwrap();
            assert_eq!(config.gateway.listen, "0.0.0.0:4606".parse().unwrap());
            assert_eq!(
                config.gateway.citizen_url.as_deref(),
                Some("http://citizen:4610")
            );
            Ok(())
        });
    }

    #[test]
    fn overrides_over_env() {
        Jail::expect_with(|jail| {
            jail.set_env("SANDBOX06_POPULATION__SEED", "7");
            let config = Config::load(None, ("population.seed", 8)).unwrap();
            assert_eq!(config.population.seed, 8);
            Ok(())
        });
    }

    #[test]
    fn explicit_file_is_read_and_must_exist() {
        Jail::expect_with(|jail| {
            jail.create_file("other.toml", "[limits]\nmax_concurrent_streams = 8\n")?;
            let config = Config::load(Some(Path::new("other.toml")), Figment::new()).unwrap();
            assert_eq!(config.limits.max_concurrent_streams, 8);
            let missing = Config::load(Some(Path::new("missing.toml")), Figment::new());
            assert!(matches!(missing, Err(ConfigError::FileNotFound { .. })));
            Ok(())
        });
    }

    #[test]
    fn store_from_env_over_defaults() {
        Jail::expect_with(|jail| {
            let config = Config::load(None, Figment::new()).unwrap();
            assert_eq!(config.store.url, "memory");
            assert_eq!(config.store.namespace, "sandbox06");
            jail.create_file(DEFAULT_FILE, "[store]\nnamespace = \"from-file\"\n")?;
            jail.set_env("SANDBOX06_STORE__URL", "redis://127.0.0.1:6379");
            let config = Config::load(None, Figment::new()).unwrap();
            assert_eq!(config.store.url, "redis://127.0.0.1:6379");
            assert_eq!(config.store.namespace, "from-file");
            jail.set_env("SANDBOX06_STORE__NAMESPACE", "from-env");
            let config = Config::load(None, ("store.url", "memory")).unwrap();
            assert_eq!(config.store.url, "memory");
            assert_eq!(config.store.namespace, "from-env");
            Ok(())
        });
    }

    #[test]
    fn test_harness_variables_are_not_configuration() {
        Jail::expect_with(|jail| {
            jail.set_env("SANDBOX06_TEST_REDIS_URL", "redis://127.0.0.1:6379");
            let config = Config::load(None, Figment::new()).unwrap();
            assert_eq!(config, Config::default());
            jail.set_env("SANDBOX06_STORE__URLL", "memory");
            assert!(Config::load(None, Figment::new()).is_err());
            Ok(())
        });
    }

    #[test]
    fn bad_value_names_the_key() {
        Jail::expect_with(|jail| {
            jail.set_env("SANDBOX06_GATEWAY__LISTEN", "not-an-address");
            let error = Config::load(None, Figment::new())
                .err()
                .ok_or("a bad address must not load")?;
            let message = error.to_string();
            assert!(message.contains("gateway.listen"), "{message}");
            assert!(matches!(error, ConfigError::Invalid { key, .. } if key == "gateway.listen"));
            Ok(())
        });
    }
}
