//! Who may exchange what: the agencies registered on the platform, their consumer systems (each
//! bound to a single sign-on client) and the agreements, from the demo data shipped with the
//! service (`registry.toml`) and the configuration's additions (an entry with a demo entry's id
//! replaces it).

use std::collections::BTreeMap;

use sandbox06_proto::{lgsp as pb, types::DataClassification};
use sandbox06_vn::CivilDate;
use serde::{Deserialize, Serialize};

use crate::catalogue::{self, DataService};

/// The demo registry.
const DEMO: &str = include_str!("../registry.toml");

/// The platform's own identity: the requester the national exchange sees.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// Electronic identifier.
    pub agency_code: String,
    /// Name.
    pub name: String,
}

/// A consumer system.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerConfig {
    /// Its id.
    pub consumer_id: String,
    /// Its name.
    pub name: String,
    /// The single sign-on client that calls as it.
    pub client_id: String,
}

/// An agency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyConfig {
    /// Electronic identifier (QCVN 102:2016 format).
    pub agency_code: String,
    /// Name.
    pub name: String,
    /// Its consumer systems.
    #[serde(default)]
    pub consumers: Vec<ConsumerConfig>,
}

/// What an agreement rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// A law providing for the processing.
    Law,
    /// The data subject's consent.
    Consent,
}

/// An agreement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementConfig {
    /// Its id.
    pub agreement_id: String,
    /// The consumer.
    pub consumer_id: String,
    /// The data service.
    pub service_code: String,
    /// The purpose's code.
    pub purpose: String,
    /// The purpose in words.
    pub purpose_description: String,
    /// What it rests on.
    pub legal_basis_kind: Basis,
    /// The legal basis in words.
    pub legal_basis: String,
    /// First day in force, `YYYY-MM-DD`.
    pub valid_from: String,
    /// Last day in force, `YYYY-MM-DD`.
    pub valid_until: String,
    /// Exchanges allowed per day.
    pub daily_quota: u32,
}

/// The registry file's shape.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    platform: Option<Platform>,
    #[serde(default)]
    agencies: Vec<AgencyConfig>,
    #[serde(default)]
    agreements: Vec<AgreementConfig>,
}

/// An agreement, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agreement {
    /// As configured.
    pub config: AgreementConfig,
    /// First day in force.
    pub valid_from: CivilDate,
    /// Last day in force.
    pub valid_until: CivilDate,
    /// The service it is for.
    pub service: &'static DataService,
}

impl Agreement {
    /// Whether it is in force on `day`.
    pub fn in_force(&self, day: CivilDate) -> bool {
        self.valid_from <= day && day <= self.valid_until
    }

    /// As the contract shows it, with `used` exchanges today.
    pub fn to_proto(&self, used: u64) -> pb::Agreement {
        let c = &self.config;
        pb::Agreement {
            agreement_id: c.agreement_id.clone(),
            consumer_id: c.consumer_id.clone(),
            service_code: c.service_code.clone(),
            purpose: c.purpose.clone(),
            purpose_description: c.purpose_description.clone(),
            legal_basis_kind: match c.legal_basis_kind {
                Basis::Law => pb::LegalBasisKind::Law,
                Basis::Consent => pb::LegalBasisKind::Consent,
            } as i32,
            legal_basis: c.legal_basis.clone(),
            valid_from: Some(sandbox06_proto::dates::date_to_proto(self.valid_from)),
            valid_until: Some(sandbox06_proto::dates::date_to_proto(self.valid_until)),
            daily_quota: i32::try_from(c.daily_quota).unwrap_or(i32::MAX),
            used_today: i32::try_from(used).unwrap_or(i32::MAX),
        }
    }
}

/// A consumer, with its agency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consumer {
    /// As configured.
    pub config: ConsumerConfig,
    /// Its agency's code.
    pub agency_code: String,
}

/// A configuration the registry refuses.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RegistryError(String);

/// The checked registry.
#[derive(Clone, Debug)]
pub struct Registry {
    /// The platform.
    pub platform: Platform,
    /// Agencies by code.
    pub agencies: BTreeMap<String, AgencyConfig>,
    /// Consumers by client id.
    by_client: BTreeMap<String, Consumer>,
    /// Agreements by id.
    pub agreements: BTreeMap<String, Agreement>,
}

/// Whether `code` has the shape of an electronic identifier: four dot-separated parts, the
/// first three digits, the last a letter and two digits (`000.00.00.H34`).
pub fn is_agency_code(code: &str) -> bool {
    let parts: Vec<&str> = code.split('.').collect();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    parts.len() == 4
        && digits(parts[0], 3)
        && digits(parts[1], 2)
        && digits(parts[2], 2)
        && parts[3].len() == 3
        && parts[3].as_bytes()[0].is_ascii_uppercase()
        && digits(&parts[3][1..], 2)
}

fn day(text: &str, what: &str) -> Result<CivilDate, RegistryError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    CivilDate::parse(text, &format)
        .map_err(|_| RegistryError(format!("{what}: {text:?} is not a date (YYYY-MM-DD)")))
}

impl Registry {
    /// The demo registry with `agencies` and `agreements` added (replacing a demo entry of the
    /// same code or id).
    pub fn load(
        agencies: &[AgencyConfig],
        agreements: &[AgreementConfig],
    ) -> Result<Self, RegistryError> {
        let demo: RegistryFile =
            toml::from_str(DEMO).map_err(|e| RegistryError(format!("the demo registry: {e}")))?;
        let platform = demo
            .platform
            .ok_or_else(|| RegistryError("the demo registry names no platform".into()))?;
        let mut all_agencies: BTreeMap<String, AgencyConfig> = BTreeMap::new();
        for agency in demo.agencies.into_iter().chain(agencies.iter().cloned()) {
            if !is_agency_code(&agency.agency_code) {
                return Err(RegistryError(format!(
                    "agency {:?}: an electronic identifier is NNN.NN.NN.XNN (QCVN 102:2016), e.g. 000.13.34.H34",
                    agency.agency_code
                )));
            }
            all_agencies.insert(agency.agency_code.clone(), agency);
        }
        let mut by_client = BTreeMap::new();
        let mut consumer_ids = BTreeMap::new();
        for agency in all_agencies.values() {
            for consumer in &agency.consumers {
                if consumer_ids
                    .insert(consumer.consumer_id.clone(), ())
                    .is_some()
                {
                    return Err(RegistryError(format!(
                        "consumer {:?} is registered twice",
                        consumer.consumer_id
                    )));
                }
                let entry = Consumer {
                    config: consumer.clone(),
                    agency_code: agency.agency_code.clone(),
                };
                if by_client
                    .insert(consumer.client_id.clone(), entry)
                    .is_some()
                {
                    return Err(RegistryError(format!(
                        "client {:?} is bound to two consumers",
                        consumer.client_id
                    )));
                }
            }
        }
        let mut all = BTreeMap::new();
        for config in demo
            .agreements
            .into_iter()
            .chain(agreements.iter().cloned())
        {
            let id = config.agreement_id.clone();
            let service = catalogue::service(&config.service_code).ok_or_else(|| {
                RegistryError(format!(
                    "agreement {id:?}: no data service has the code {:?}",
                    config.service_code
                ))
            })?;
            if !consumer_ids.contains_key(&config.consumer_id) {
                return Err(RegistryError(format!(
                    "agreement {id:?}: no consumer {:?} is registered",
                    config.consumer_id
                )));
            }
            if config.legal_basis_kind == Basis::Consent
                && service.classification == DataClassification::Open
            {
                return Err(RegistryError(format!(
                    "agreement {id:?}: open data need no consent"
                )));
            }
            let valid_from = day(&config.valid_from, &format!("agreement {id:?} valid_from"))?;
            let valid_until = day(
                &config.valid_until,
                &format!("agreement {id:?} valid_until"),
            )?;
            if valid_until < valid_from {
                return Err(RegistryError(format!(
                    "agreement {id:?} ends before it starts"
                )));
            }
            all.insert(
                id,
                Agreement {
                    config,
                    valid_from,
                    valid_until,
                    service,
                },
            );
        }
        Ok(Self {
            platform,
            agencies: all_agencies,
            by_client,
            agreements: all,
        })
    }

    /// The consumer a client calls as.
    pub fn consumer_of(&self, client_id: &str) -> Option<&Consumer> {
        self.by_client.get(client_id)
    }

    /// A consumer's agreements for a service.
    pub fn agreements_for<'a>(
        &'a self,
        consumer_id: &'a str,
        service_code: &'a str,
    ) -> impl Iterator<Item = &'a Agreement> + 'a {
        self.agreements.values().filter(move |a| {
            a.config.consumer_id == consumer_id && a.config.service_code == service_code
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_registry_loads_and_binds_each_demo_client_once() {
        let registry = Registry::load(&[], &[]).unwrap_or_else(|e| panic!("{e}"));
        for client in [
            "demo-hospital",
            "demo-notary",
            "demo-police",
            "demo-statistics",
        ] {
            assert!(registry.consumer_of(client).is_some(), "{client}");
        }
        assert!(registry.agreements.len() >= 8);
    }

    #[test]
    fn agency_codes_have_the_national_shape() {
        assert!(is_agency_code("000.13.34.H34"));
        assert!(!is_agency_code("000.13.34.34"));
        assert!(!is_agency_code("00.13.34.H34"));
        assert!(!is_agency_code("000.13.34.h34"));
    }

    #[test]
    fn a_bad_addition_is_refused_naming_it() {
        let bad = AgreementConfig {
            agreement_id: "x".into(),
            consumer_id: "nobody".into(),
            service_code: "moj.civil-status.marital".into(),
            purpose: "p".into(),
            purpose_description: "p".into(),
            legal_basis_kind: Basis::Law,
            legal_basis: "l".into(),
            valid_from: "2025-01-01".into(),
            valid_until: "2026-01-01".into(),
            daily_quota: 1,
        };
        let error = Registry::load(&[], &[bad]).err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("nobody")));
    }
}
