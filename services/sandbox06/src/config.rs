//! The suite's configuration: the shared sections (telemetry, limits, store) and one section
//! per component of the list, each read by the component that owns it.
//!
//! Layers, later ones winning: built-in defaults, `sandbox06.toml` (or the file given), then
//! `SANDBOX06_*` variables (nested with `__`), then command-line flags.

use std::{path::Path, sync::Arc};

use figment::Figment;
use sandbox06_population_db::PopulationConfig;
use sandbox06_runtime::config::{
    self, ConfigError, Limits, TelemetryConfig, check_sections, layered, section,
};
use sandbox06_store::StoreConfig;

use crate::components;

/// Sections every component shares.
pub const SHARED_SECTIONS: &[&str] = &["telemetry", "limits", sandbox06_store::SECTION];

/// The loaded configuration: the shared sections read, every component's section checked.
#[derive(Clone, Debug)]
pub struct Config {
    layers: Arc<Figment>,
    /// Logs and traces.
    pub telemetry: TelemetryConfig,
    /// Request bounds every server enforces.
    pub limits: Limits,
    /// Where state lives.
    pub store: StoreConfig,
    /// The synthetic country (the population database's section, which the tools read too).
    pub population: PopulationConfig,
}

impl Config {
    /// Loads and checks the configuration: `file` (or `sandbox06.toml` when present), the
    /// environment, then `overrides`. Unknown sections and keys are refused, naming the key.
    pub fn load(
        file: Option<&Path>,
        overrides: impl figment::Provider,
    ) -> Result<Self, ConfigError> {
        let layers = layered(file, overrides)?;
        let list = components();
        let known: Vec<&str> = SHARED_SECTIONS
            .iter()
            .copied()
            .chain(list.iter().map(|c| c.spec().section))
            .collect();
        check_sections(&layers, &known)?;
        for component in &list {
            component.listen(&layers)?;
        }
        Ok(Self {
            telemetry: section(&layers, "telemetry")?,
            limits: section(&layers, "limits")?,
            store: section(&layers, sandbox06_store::SECTION)?,
            population: PopulationConfig::from_config(&layers)?,
            layers: Arc::new(layers),
        })
    }

    /// The layered sources, from which each component reads its own section.
    pub fn layers(&self) -> Arc<Figment> {
        Arc::clone(&self.layers)
    }

    /// Reads section `name` as `T` (a component's own section, say).
    pub fn section<T>(&self, name: &str) -> Result<T, ConfigError>
    where
        T: serde::de::DeserializeOwned + serde::Serialize + Default,
    {
        config::section(&self.layers, name)
    }
}

#[cfg(test)]
// `Jail` closures return figment's large error type; tests only.
#[allow(clippy::unwrap_used, clippy::result_large_err)]
mod tests {
    use figment::Jail;
    use sandbox06_citizen::CitizenConfig;
    use sandbox06_gateway::GatewayConfig;
    use sandbox06_runtime::config::{DEFAULT_FILE, LogFormat};

    use super::*;

    #[test]
    fn defaults_without_any_layer() {
        Jail::expect_with(|_jail| {
            let config = Config::load(None, Figment::new()).unwrap();
            let gateway: GatewayConfig = config.section("gateway").unwrap();
            assert_eq!(gateway.listen.port(), 4606);
            assert_eq!(config.population.country.seed, 6);
            assert_eq!(config.population.country.size, 100_000_000);
            assert_eq!(config.limits, Limits::default());
            assert_eq!(config.store, StoreConfig::default());
            assert_eq!(config.store.url, "memory");
            Ok(())
        });
    }

    #[test]
    fn file_env_and_flags_reach_each_components_section() {
        Jail::expect_with(|jail| {
            jail.create_file(
                DEFAULT_FILE,
                "[population]\nseed = 42\n[telemetry]\nlog_format = \"json\"\n[gateway]\nlisten = \"127.0.0.1:9000\"\n",
            )?;
            jail.set_env("SANDBOX06_GATEWAY__LISTEN", "0.0.0.0:4606");
            jail.set_env(
                "SANDBOX06_GATEWAY__BACKENDS__CITIZEN",
                "http://citizen:4610",
            );
            jail.set_env(
                "SANDBOX06_CITIZEN__POPULATION_URL",
                "http://population-db:4620",
            );
            jail.set_env("SANDBOX06_STORE__URL", "redis://127.0.0.1:6379");
            let config = Config::load(None, ("population.size", 1000)).unwrap();
            let country = &config.population.country;
            assert_eq!((country.seed, country.size), (42, 1000));
            assert_eq!(config.telemetry.log_format, LogFormat::Json);
            assert_eq!(config.store.url, "redis://127.0.0.1:6379");
            let gateway: GatewayConfig = config.section("gateway").unwrap();
            assert_eq!(gateway.listen, "0.0.0.0:4606".parse().unwrap());
            assert_eq!(gateway.backends["citizen"], "http://citizen:4610");
            let citizen: CitizenConfig = config.section("citizen").unwrap();
            assert_eq!(
                citizen.population_url.as_deref(),
                Some("http://population-db:4620")
            );
            Ok(())
        });
    }

    #[test]
    fn unknown_sections_and_keys_are_refused_by_name() {
        Jail::expect_with(|jail| {
            jail.set_env("SANDBOX06_TEST_REDIS_URL", "redis://127.0.0.1:6379");
            Config::load(None, Figment::new()).unwrap();
            jail.set_env("SANDBOX06_CITIZNE__LISTEN", "127.0.0.1:1");
            let error = Config::load(None, Figment::new()).unwrap_err();
            assert!(error.to_string().contains("citizne"), "{error}");
            jail.clear_env();
            jail.set_env("SANDBOX06_STORE__URLL", "memory");
            assert!(Config::load(None, Figment::new()).is_err());
            Ok(())
        });
    }

    #[test]
    fn bad_values_name_the_key() {
        Jail::expect_with(|jail| {
            jail.set_env("SANDBOX06_GATEWAY__LISTEN", "not-an-address");
            let error = Config::load(None, Figment::new()).unwrap_err();
            assert!(
                matches!(&error, ConfigError::Invalid { key, .. } if key == "gateway.listen"),
                "{error}"
            );
            jail.clear_env();
            let error =
                Config::load(None, ("population.reference_date", "27/11/2026")).unwrap_err();
            assert!(
                error.to_string().contains("population.reference_date"),
                "{error}"
            );
            Ok(())
        });
    }

    /// The country's keys sit in the population database's section: a key that is neither
    /// the country's nor the mock's is still refused, by name.
    #[test]
    fn the_population_section_refuses_a_key_it_does_not_know() {
        Jail::expect_with(|jail| {
            jail.set_env("SANDBOX06_POPULATION__SEDE", "7");
            let error = Config::load(None, Figment::new()).unwrap_err();
            assert!(error.to_string().contains("sede"), "{error}");
            jail.clear_env();
            jail.set_env("SANDBOX06_POPULATION__SEED", "7");
            jail.set_env("SANDBOX06_POPULATION__LISTEN", "127.0.0.1:4620");
            let config = Config::load(None, Figment::new()).unwrap();
            assert_eq!(config.population.country.seed, 7);
            assert_eq!(config.population.listen.port(), 4620);
            Ok(())
        });
    }
}
