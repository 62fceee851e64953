//! The synthetic country as the configuration sets it: its seed, its size and the date it is
//! computed for, and the [`Country`] those make.
//!
//! The settings live in the `population` section, beside where the population database listens
//! (`population.seed`, `population.size`, `population.reference_date`): the population database
//! serves the country, and every other component that needs its facts (the VNeID mock, the
//! binary's offline commands) reads the same keys through [`CountryConfig`], so all of them see
//! one country. The reference date is the suite's "today".
//!
//! [`contract`] writes the country's facts in the contract's types, for every mock that serves
//! them; [`find`] reads a FindCitizens request into a search of the country and writes its answer. `sandbox06-world` stays pure (no serde, no contract); this crate is its configuration
//! and wire side.

pub mod contract;
pub mod find;

use serde::{Deserialize, Serialize};
use time::{Date, format_description::well_known::Iso8601};

pub use sandbox06_vn::today_in_vietnam;
pub use sandbox06_world::Country;

/// The configuration section whose keys set the country.
pub const SECTION: &str = "population";

/// The country's keys of the [`SECTION`]. Other keys of the section (where the population
/// database listens) are its owner's, which checks them: this view ignores them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CountryConfig {
    /// Seed of the generator.
    pub seed: u64,
    /// Number of generated citizens.
    pub size: u64,
    /// Date the country is computed for, `YYYY-MM-DD`; today in Vietnam when unset.
    pub reference_date: Option<String>,
}

impl Default for CountryConfig {
    fn default() -> Self {
        Self {
            seed: 6,
            size: 100_000_000,
            reference_date: None,
        }
    }
}

/// A reference date that is not a date.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be YYYY-MM-DD, got {text:?}: {reason}")]
pub struct BadReferenceDate {
    /// What the configuration says.
    pub text: String,
    /// Why it does not parse.
    pub reason: String,
}

impl CountryConfig {
    /// The key of the reference date, for messages.
    pub const REFERENCE_DATE_KEY: &'static str = "population.reference_date";

    /// The date the country is computed for: the configured one, today in Vietnam when unset.
    pub fn reference_date(&self) -> Result<Date, BadReferenceDate> {
        match &self.reference_date {
            None => Ok(today_in_vietnam()),
            Some(text) => Date::parse(text, &Iso8601::DATE).map_err(|e| BadReferenceDate {
                text: text.clone(),
                reason: e.to_string(),
            }),
        }
    }

    /// The synthetic country these settings describe, as of `today`.
    pub fn country(&self, today: Date) -> Country {
        Country::new(self.seed, self.size, today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::{Figment, providers::Serialized};

    #[test]
    fn the_section_s_other_keys_are_left_to_their_owner() {
        let figment = Figment::from(Serialized::default("listen", "127.0.0.1:4620"))
            .merge(Serialized::default("seed", 7))
            .merge(Serialized::default("reference_date", "2026-11-27"));
        let config: CountryConfig = figment.extract().unwrap();
        assert_eq!(config.seed, 7);
        assert_eq!(config.size, 100_000_000);
        assert_eq!(
            config.reference_date(),
            Ok(time::macros::date!(2026 - 11 - 27))
        );
    }

    #[test]
    fn a_reference_date_that_is_not_a_date_says_what_it_got() {
        let config = CountryConfig {
            reference_date: Some("27/11/2026".into()),
            ..CountryConfig::default()
        };
        let error = config.reference_date().unwrap_err();
        assert_eq!(error.text, "27/11/2026");
        assert!(
            error
                .to_string()
                .starts_with("must be YYYY-MM-DD, got \"27/11/2026\""),
            "{error}"
        );
    }
}
