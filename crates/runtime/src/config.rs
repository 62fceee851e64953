//! Layered configuration: defaults → `sandbox06.toml` (or a given file) → `SANDBOX06_*` env →
//! command-line overrides.
//!
//! Environment keys are nested with `__`: `SANDBOX06_GATEWAY__LISTEN=0.0.0.0:4606` sets
//! `gateway.listen`. Overrides are any [`figment::Provider`]; a CLI passes the flags it got,
//! for example `("gateway.listen", addr)` or `Serialized::default("population.seed", 7)`, and
//! `Figment::new()` when it has none.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// Name of the configuration file read from the working directory when no file is given.
pub const DEFAULT_FILE: &str = "sandbox06.toml";

/// Prefix of the environment variables read by [`layered`].
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
    /// A top-level key names no section of any component.
    #[error("unknown configuration section {key:?}; known sections: {known}")]
    UnknownSection {
        /// The key.
        key: String,
        /// The sections that exist.
        known: String,
    },
    /// A value has the right type but is not acceptable.
    #[error("invalid configuration value for {key}: {message}")]
    Value {
        /// Dotted path of the offending key.
        key: String,
        /// What is wrong and how to fix it.
        message: String,
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
    /// Largest number of concurrent HTTP/2 streams per connection; a client opening more waits
    /// for one to end. Each stream's receive window is sized from it (see [`crate::http2`]).
    pub max_concurrent_streams: u32,
    /// How long open calls may finish after SIGTERM or ctrl-c before the process exits, in
    /// seconds.
    pub shutdown_grace_seconds: u64,
    /// Longest wait for a call's answer to start, in seconds; a caller's shorter
    /// `grpc-timeout` wins.
    pub request_timeout_seconds: u64,
    /// Most connections one listener keeps open at once; past it, new ones wait in the listen
    /// backlog until one closes.
    pub max_connections: usize,
    /// How long a new connection may take to send its first request (an HTTP/1.1 request its
    /// head), in seconds, before it is closed.
    pub handshake_timeout_seconds: u64,
    /// How long a connection may stay open with no call in progress, in seconds, before it is
    /// closed (HTTP/2 with a GOAWAY, which clients take as "reconnect when needed").
    pub idle_timeout_seconds: u64,
    /// Whether a server is called in-process by the components of the same process (`up`):
    /// no HTTP/2 and no socket between them, every layer of the server still run. Off, every
    /// hop takes TCP as between processes. A component served alone never is.
    pub in_process_hops: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_request_bytes: 4 * 1024 * 1024,
            max_concurrent_streams: 256,
            shutdown_grace_seconds: 10,
            request_timeout_seconds: 30,
            max_connections: 4096,
            handshake_timeout_seconds: 10,
            idle_timeout_seconds: 300,
            in_process_hops: true,
        }
    }
}

impl Limits {
    /// [`Limits::request_timeout_seconds`] as a duration.
    pub fn request_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.request_timeout_seconds)
    }

    /// [`Limits::handshake_timeout_seconds`] as a duration.
    pub fn handshake_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.handshake_timeout_seconds)
    }

    /// [`Limits::idle_timeout_seconds`] as a duration.
    pub fn idle_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.idle_timeout_seconds)
    }

    /// [`Limits::shutdown_grace_seconds`] as a duration.
    pub fn shutdown_grace(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.shutdown_grace_seconds)
    }
}

/// The layered sources, later ones winning: `file` (or `sandbox06.toml` in the working
/// directory when present), then `SANDBOX06_*` variables, then `overrides`. Built-in defaults
/// are not in it: each section's type supplies its own when it is read with [`section`].
pub fn layered(
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
    let mut figment = Figment::new();
    if let Some(path) = file {
        figment = figment.merge(Toml::file_exact(path));
    }
    Ok(figment
        .merge(
            Env::prefixed(ENV_PREFIX)
                .split("__")
                // Harness variables would otherwise be rejected as unknown keys.
                .filter(|key| !key.starts_with(TEST_ENV_INFIX))
                // The command line's own variables neither.
                .filter(|key| !COMMAND_LINE_ENV_KEYS.iter().any(|own| key == *own)),
        )
        .merge(overrides))
}

/// Reads section `name` (e.g. `gateway`) as `T`, its defaults filling what no layer sets.
/// Errors name the full dotted key, e.g. `gateway.listen`.
pub fn section<T>(figment: &Figment, name: &str) -> Result<T, ConfigError>
where
    T: DeserializeOwned + Serialize + Default,
{
    Figment::from(Serialized::defaults(T::default()))
        .merge(figment.focus(name))
        .extract()
        .map_err(|error| ConfigError::from(error).within(name))
}

/// Refuses top-level keys that are not one of the `known` sections, naming the first one.
pub fn check_sections(figment: &Figment, known: &[&str]) -> Result<(), ConfigError> {
    let data = figment::Provider::data(figment).map_err(ConfigError::from)?;
    for dict in data.values() {
        if let Some(key) = dict.keys().find(|key| !known.contains(&key.as_str())) {
            return Err(ConfigError::UnknownSection {
                key: key.clone(),
                known: known.join(", "),
            });
        }
    }
    Ok(())
}

impl ConfigError {
    /// The same error, its key prefixed with the section it was read from.
    fn within(self, section: &str) -> Self {
        match self {
            Self::Invalid { key, source } => Self::Invalid {
                key: if key.is_empty() {
                    section.to_owned()
                } else {
                    format!("{section}.{key}")
                },
                source,
            },
            other => other,
        }
    }
}

/// Env keys after [`ENV_PREFIX`] that are reserved for test harnesses (for example
/// `SANDBOX06_TEST_REDIS_URL`) and never read as configuration.
pub const TEST_ENV_INFIX: &str = "TEST_";

/// Env keys after [`ENV_PREFIX`] that the command line reads for itself and that are never read
/// as configuration: `SANDBOX06_TENANT`, the tenant of the admin commands.
pub const COMMAND_LINE_ENV_KEYS: [&str; 1] = ["TENANT"];

#[cfg(test)]
// `Jail` closures return figment's large error type; tests only.
#[allow(clippy::unwrap_used, clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Sample {
        port: u16,
        name: String,
    }

    impl Default for Sample {
        fn default() -> Self {
            Self {
                port: 4606,
                name: "edge".to_owned(),
            }
        }
    }

    #[test]
    fn a_section_no_layer_sets_is_its_defaults() {
        Jail::expect_with(|_jail| {
            let figment = layered(None, Figment::new()).unwrap();
            assert_eq!(
                section::<Sample>(&figment, "sample").unwrap(),
                Sample::default()
            );
            assert_eq!(
                section::<Limits>(&figment, "limits").unwrap(),
                Limits::default()
            );
            Ok(())
        });
    }

    #[test]
    fn file_then_env_then_overrides() {
        Jail::expect_with(|jail| {
            jail.create_file(DEFAULT_FILE, "[sample]\nport = 1\nname = \"file\"\n")?;
            jail.set_env("SANDBOX06_SAMPLE__PORT", "2");
            let figment = layered(None, Figment::new()).unwrap();
            let sample: Sample = section(&figment, "sample").unwrap();
            assert_eq!((sample.port, sample.name.as_str()), (2, "file"));
            let figment = layered(None, ("sample.port", 3)).unwrap();
            assert_eq!(section::<Sample>(&figment, "sample").unwrap().port, 3);
            Ok(())
        });
    }

    #[test]
    fn explicit_file_is_read_and_must_exist() {
        Jail::expect_with(|jail| {
            jail.create_file("other.toml", "[limits]\nmax_concurrent_streams = 8\n")?;
            let figment = layered(Some(Path::new("other.toml")), Figment::new()).unwrap();
            let limits: Limits = section(&figment, "limits").unwrap();
            assert_eq!(limits.max_concurrent_streams, 8);
            let missing = layered(Some(Path::new("missing.toml")), Figment::new());
            assert!(matches!(missing, Err(ConfigError::FileNotFound { .. })));
            Ok(())
        });
    }

    #[test]
    fn bad_value_and_unknown_key_name_the_full_key() {
        Jail::expect_with(|jail| {
            jail.set_env("SANDBOX06_SAMPLE__PORT", "not-a-port");
            let figment = layered(None, Figment::new()).unwrap();
            let error = section::<Sample>(&figment, "sample").unwrap_err();
            assert!(matches!(&error, ConfigError::Invalid { key, .. } if key == "sample.port"));
            assert!(error.to_string().contains("sample.port"), "{error}");
            jail.set_env("SANDBOX06_SAMPLE__PORT", "1");
            jail.set_env("SANDBOX06_SAMPLE__PROT", "1");
            let figment = layered(None, Figment::new()).unwrap();
            let error = section::<Sample>(&figment, "sample").unwrap_err();
            assert!(error.to_string().contains("prot"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn unknown_sections_are_refused_and_test_variables_ignored() {
        Jail::expect_with(|jail| {
            jail.set_env("SANDBOX06_TEST_REDIS_URL", "redis://127.0.0.1:6379");
            jail.set_env("SANDBOX06_TENANT", "ci-job-42");
            let figment = layered(None, Figment::new()).unwrap();
            check_sections(&figment, &["sample"]).unwrap();
            jail.set_env("SANDBOX06_SAMPEL__PORT", "1");
            let figment = layered(None, Figment::new()).unwrap();
            let error = check_sections(&figment, &["sample"]).unwrap_err();
            assert!(matches!(&error, ConfigError::UnknownSection { key, .. } if key == "sampel"));
            Ok(())
        });
    }
}
