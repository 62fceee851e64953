//! Facilities: who declares, where they are, and which clients may declare for them. The demo
//! facilities ship as data (`facilities.toml`); the configuration adds more
//! (`[[lodging.facilities]]`) or replaces one by id.

use std::collections::BTreeMap;
use std::sync::Arc;

use sandbox06_proto::{lodging as pb, types};
use sandbox06_runtime::caller::Caller;
use sandbox06_vn::admin::ADMIN_UNITS;
use serde::{Deserialize, Serialize};

use crate::LodgingError;

/// The demo facilities, as shipped.
const DEMO_FACILITIES: &str = include_str!("../facilities.toml");

/// The client bound to every facility: the sandbox's administration.
pub const ADMIN_CLIENT: &str = "sandbox06-admin";
/// The data-sharing platform's own client, which reads every facility's declarations.
pub const PLATFORM_CLIENT: &str = "svc-lgsp";

/// A facility as the configuration (or the demo data) describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FacilityConfig {
    /// Its id: letters, digits and `-`, 1 to 63, starting with a letter.
    pub id: String,
    /// Its registered name.
    pub display_name: String,
    /// Its kind, a `FacilityType` name without the prefix: `HOTEL_3_STAR`,
    /// `MEDICAL_FACILITY`, `COACH_OPERATOR`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// House number and street.
    pub street: String,
    /// The 2025 commune's GSO code (5 digits).
    pub commune_code: String,
    /// The single sign-on clients that may declare for it.
    pub client_ids: Vec<String>,
    /// The code under which the national lodging registry knows it, e.g. `56-KS-000123`.
    pub registry_code: String,
    /// A coach operator's licensed route.
    pub route: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Shipped {
    facilities: Vec<FacilityConfig>,
}

/// A facility, checked and ready to answer.
#[derive(Clone, Debug)]
pub struct Facility {
    /// Its id.
    pub id: String,
    /// Its kind.
    pub kind: types::FacilityType,
    /// The registry's code.
    pub registry_code: String,
    /// The clients bound to it.
    pub client_ids: Vec<String>,
    /// As the API shows it.
    pub resource: pb::Facility,
}

/// What a facility's kind decides: where its guests are placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// A room.
    Room,
    /// A coach trip, each passenger on a seat.
    CoachTrip,
    /// A hospital ward, patients on beds, carers with them.
    HospitalWard,
}

impl Facility {
    /// Where its guests are placed.
    pub fn placement(&self) -> Placement {
        match self.kind {
            types::FacilityType::CoachOperator => Placement::CoachTrip,
            types::FacilityType::MedicalFacility => Placement::HospitalWard,
            _ => Placement::Room,
        }
    }
}

/// Why the facilities cannot be loaded: a bad entry, named.
#[derive(Debug, thiserror::Error)]
#[error("facility {index} ({id:?}): {message}")]
pub struct FacilityConfigError {
    /// Its position in the list (demo facilities first).
    pub index: usize,
    /// Its id as given.
    pub id: String,
    /// What is wrong.
    pub message: String,
}

/// Whether `id` is a well-formed facility or declaration id: letters, digits and `-`, 1 to 63,
/// starting with a letter.
pub fn is_resource_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_alphabetic()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

fn check(index: usize, c: &FacilityConfig) -> Result<Facility, FacilityConfigError> {
    let fail = |message: String| FacilityConfigError {
        index,
        id: c.id.clone(),
        message,
    };
    if !is_resource_id(&c.id) {
        return Err(fail(
            "id is letters, digits and '-', 1 to 63, starting with a letter".to_owned(),
        ));
    }
    let kind = types::FacilityType::from_str_name(&format!("FACILITY_TYPE_{}", c.kind))
        .filter(|k| *k != types::FacilityType::Unspecified)
        .ok_or_else(|| fail(format!("type {:?} is not a FacilityType", c.kind)))?;
    let commune = ADMIN_UNITS
        .commune_2025(&c.commune_code)
        .map(|i| &ADMIN_UNITS.communes_2025[i as usize])
        .ok_or_else(|| fail(format!("{:?} is no 2025 commune code", c.commune_code)))?;
    let province = commune.province;
    let registry_province = sandbox06_vn::admin::ADMIN_UNITS.province_2025_name(province);
    if c.registry_code.split('-').next() != Some(&format!("{province:02}")) {
        return Err(fail(format!(
            "registry_code {:?} does not start with the province's code {province:02} ({registry_province})",
            c.registry_code
        )));
    }
    if c.client_ids.is_empty() {
        return Err(fail("client_ids names no client".to_owned()));
    }
    if (kind == types::FacilityType::CoachOperator) == c.route.trim().is_empty() {
        return Err(fail(
            "a coach operator has a route, and only a coach operator".to_owned(),
        ));
    }
    let province_name = ADMIN_UNITS.province_2025_name(province);
    let province_official = if [
        "Hà Nội",
        "Hồ Chí Minh",
        "Hải Phòng",
        "Đà Nẵng",
        "Cần Thơ",
        "Huế",
    ]
    .contains(&province_name)
    {
        format!("Thành phố {province_name}")
    } else {
        format!("Tỉnh {province_name}")
    };
    let text = sandbox06_vn::admin::join_address(&[&c.street, commune.name, &province_official]);
    let resource = pb::Facility {
        name: format!("facilities/{}", c.id),
        display_name: c.display_name.clone(),
        r#type: kind as i32,
        address: Some(types::AdministrativeAddress {
            street: c.street.clone(),
            commune_code: commune.code.to_owned(),
            commune_name: commune.name.to_owned(),
            district_code: String::new(),
            district_name: String::new(),
            province_code: format!("{province:02}"),
            province_name: province_official,
            text,
        }),
        client_ids: c.client_ids.clone(),
        registry_code: c.registry_code.clone(),
        route: c.route.clone(),
    };
    Ok(Facility {
        id: c.id.clone(),
        kind,
        registry_code: c.registry_code.clone(),
        client_ids: c.client_ids.clone(),
        resource,
    })
}

/// Every facility, by id.
#[derive(Clone, Debug)]
pub struct Facilities(Arc<BTreeMap<String, Facility>>);

impl Facilities {
    /// The demo facilities and then `configured`, each checked; a configured facility replaces
    /// a demo one of the same id.
    pub fn load(configured: &[FacilityConfig]) -> Result<Self, FacilityConfigError> {
        let shipped: Shipped =
            toml::from_str(DEMO_FACILITIES).map_err(|e| FacilityConfigError {
                index: 0,
                id: String::new(),
                message: format!("the shipped demo facilities do not parse: {e}"),
            })?;
        let mut all = BTreeMap::new();
        for (index, c) in shipped.facilities.iter().chain(configured).enumerate() {
            let facility = check(index, c)?;
            all.insert(facility.id.clone(), facility);
        }
        Ok(Self(Arc::new(all)))
    }

    /// Every facility, by id.
    pub fn all(&self) -> impl Iterator<Item = &Facility> {
        self.0.values()
    }

    /// The facility with this id.
    pub fn get(&self, id: &str) -> Option<&Facility> {
        self.0.get(id)
    }

    /// Whether `caller` may use every facility: the administration's client, the
    /// data-sharing platform's own client (it holds `lodging.read` alone: it reads every
    /// facility's declarations for the province's counts, and declares nothing), or any caller
    /// while the edge enforces no tokens (no client named).
    fn sees_all(caller: &Caller) -> bool {
        caller
            .client_id
            .as_deref()
            .is_none_or(|client| client == ADMIN_CLIENT || client == PLATFORM_CLIENT)
    }

    /// The facilities `caller` is bound to, by id.
    pub fn bound(&self, caller: &Caller) -> Vec<&Facility> {
        self.0
            .values()
            .filter(|f| {
                Self::sees_all(caller)
                    || caller
                        .client_id
                        .as_deref()
                        .is_some_and(|client| f.client_ids.iter().any(|c| c == client))
            })
            .collect()
    }

    /// The facility `id` when `caller` is bound to it: `FACILITY_NOT_PERMITTED` otherwise,
    /// whether or not it exists, except to a caller who sees every facility
    /// (`FACILITY_NOT_FOUND`).
    pub fn permitted(&self, caller: &Caller, id: &str) -> Result<&Facility, LodgingError> {
        let found = self.0.get(id);
        if Self::sees_all(caller) {
            return found.ok_or_else(|| LodgingError::FacilityNotFound {
                facility_id: id.to_owned(),
            });
        }
        found
            .filter(|f| {
                caller
                    .client_id
                    .as_deref()
                    .is_some_and(|client| f.client_ids.iter().any(|c| c == client))
            })
            .ok_or_else(|| LodgingError::NotPermitted {
                facility_id: id.to_owned(),
            })
    }

    /// The facilities a request names: one, or with `-` every one `caller` is bound to.
    pub fn named(&self, caller: &Caller, id: &str) -> Result<Vec<&Facility>, LodgingError> {
        if id == "-" {
            return Ok(self.bound(caller));
        }
        Ok(vec![self.permitted(caller, id)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(client: &str) -> Caller {
        Caller {
            client_id: Some(client.to_owned()),
            ..Caller::default()
        }
    }

    #[test]
    fn the_demo_facilities_load_with_their_addresses() {
        let facilities = Facilities::load(&[]).expect("the shipped facilities load");
        let hotel = facilities.get("demo-hotel-phan-rang").expect("the hotel");
        let address = hotel.resource.address.as_ref().expect("an address");
        assert_eq!(address.commune_name, "Phường Phan Rang");
        assert_eq!(address.province_code, "56");
        assert_eq!(address.province_name, "Tỉnh Khánh Hòa");
        assert_eq!(hotel.placement(), Placement::Room);
        assert_eq!(
            facilities
                .get("demo-coach-phan-rang-hcm")
                .map(Facility::placement),
            Some(Placement::CoachTrip)
        );
        assert_eq!(
            facilities
                .get("demo-hospital-khanh-hoa")
                .map(Facility::placement),
            Some(Placement::HospitalWard)
        );
    }

    #[test]
    fn a_facility_sees_only_itself() {
        let facilities = Facilities::load(&[]).expect("the shipped facilities load");
        let hotel = caller("demo-hotel");
        assert_eq!(facilities.bound(&hotel).len(), 1);
        assert!(facilities.permitted(&hotel, "demo-hotel-phan-rang").is_ok());
        assert!(matches!(
            facilities.permitted(&hotel, "demo-hospital-khanh-hoa"),
            Err(LodgingError::NotPermitted { .. })
        ));
        // Whether or not it exists.
        assert!(matches!(
            facilities.permitted(&hotel, "no-such-facility"),
            Err(LodgingError::NotPermitted { .. })
        ));
        let admin = caller(ADMIN_CLIENT);
        assert_eq!(facilities.bound(&admin).len(), 3);
        assert!(matches!(
            facilities.permitted(&admin, "no-such-facility"),
            Err(LodgingError::FacilityNotFound { .. })
        ));
    }

    #[test]
    fn a_bad_configured_facility_is_named() {
        let bad = FacilityConfig {
            id: "my-hotel".to_owned(),
            display_name: "Mine".to_owned(),
            kind: "HOTEL_9_STAR".to_owned(),
            commune_code: "22759".to_owned(),
            client_ids: vec!["me".to_owned()],
            registry_code: "56-KS-1".to_owned(),
            ..FacilityConfig::default()
        };
        let error = Facilities::load(&[bad]).expect_err("a bad type");
        assert_eq!(error.id, "my-hotel");
        assert!(error.message.contains("HOTEL_9_STAR"), "{error}");
    }
}
