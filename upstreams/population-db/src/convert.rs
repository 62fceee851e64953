//! From the generator's [`Person`] to the population database's wire record.

use sandbox06_proto::{population as pb, types};

use sandbox06_country::contract::vneid_account;
use sandbox06_proto::dates::date_to_proto;
use sandbox06_vn::{
    Sex,
    admin::{AdminUnits, join_address as join},
};
use sandbox06_world::{Country, View, person::*};

fn pre_2025(units: &AdminUnits, index: u32, street: &str) -> types::AdministrativeAddress {
    let c = &units.communes[index as usize];
    let province = units.province(u16::from(c.province));
    let province_name = province.map_or("", |p| p.name);
    types::AdministrativeAddress {
        street: street.to_owned(),
        commune_code: c.code.to_owned(),
        commune_name: c.name.to_owned(),
        district_code: c.district_code.to_owned(),
        district_name: c.district_name.to_owned(),
        province_code: format!("{:02}", c.province),
        province_name: province_name.to_owned(),
        text: join(&[street, c.name, c.district_name, province_name]),
    }
}

fn current(units: &AdminUnits, index: u32, street: &str) -> types::AdministrativeAddress {
    let c = &units.communes_2025[index as usize];
    let province_name = units.province_2025_name(c.province).to_owned();
    types::AdministrativeAddress {
        street: street.to_owned(),
        commune_code: c.code.to_owned(),
        commune_name: c.name.to_owned(),
        district_code: String::new(),
        district_name: String::new(),
        province_code: format!("{:02}", c.province),
        text: join(&[street, c.name, &province_name]),
        province_name,
    }
}

/// A place in both eras' units.
pub fn address_of(units: &AdminUnits, place: &Place) -> types::Address {
    let (pre, now) = match place.commune {
        CommuneRef::Pre2025(i) => (Some(i), units.communes[i as usize].current),
        // A place recorded in the 2025 units has no single old-units form: several old
        // communes merged into it, so none is invented.
        CommuneRef::Current(j) => (None, j),
    };
    types::Address {
        pre_2025: pre.map(|i| pre_2025(units, i, &place.street)),
        current: Some(current(units, now, &place.street)),
    }
}

fn card(c: &Card) -> types::IdentityCard {
    types::IdentityCard {
        number: c.number.clone(),
        r#type: match c.kind {
            CardKind::Cmnd => types::CardType::Cmnd,
            CardKind::CccdBarcode => types::CardType::CccdBarcode,
            CardKind::CccdChip => types::CardType::CccdChip,
            CardKind::CanCuoc => types::CardType::CanCuoc,
        } as i32,
        issue_date: Some(date_to_proto(c.issued)),
        expiry_date: c.expires.map(date_to_proto),
        status: match c.standing {
            CardStanding::Valid => types::CardStatus::Valid,
            CardStanding::Expired => types::CardStatus::Expired,
            CardStanding::Superseded => types::CardStatus::Superseded,
            CardStanding::Revoked => types::CardStatus::Revoked,
        } as i32,
        issuing_authority: match c.kind {
            CardKind::Cmnd => "Công an tỉnh",
            CardKind::CccdBarcode => "Cục Cảnh sát ĐKQL cư trú và DLQG về dân cư",
            CardKind::CccdChip => "Cục Cảnh sát quản lý hành chính về trật tự xã hội",
            CardKind::CanCuoc => "Bộ Công an",
        }
        .to_owned(),
    }
}

fn relative(r: &Relative) -> types::Relative {
    types::Relative {
        citizen_id: r.id.map(|i| i.to_string()).unwrap_or_default(),
        full_name: r.full_name.clone(),
        birth_year: r.birth_year,
    }
}

/// The full wire record of a person.
pub fn record_of(country: &Country, p: &Person) -> pb::Citizen {
    to_record(country, p, Shape::Full)
}

/// How much of a record an answer carries: the request's `RecordView`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// What a record is matched on: number, name, date of birth, sex, life.
    Identity,
    /// Identity fields, the current card and the VNeID account.
    Basic,
    /// Identity fields and the permanent address.
    Address,
    /// Everything.
    Full,
}

impl Shape {
    /// The shape `view` (a `RecordView`) asks for; unspecified is the full record.
    pub fn of(view: i32) -> Self {
        match pb::RecordView::try_from(view) {
            Ok(pb::RecordView::Basic) => Self::Basic,
            Ok(pb::RecordView::Address) => Self::Address,
            Ok(pb::RecordView::Identity) => Self::Identity,
            _ => Self::Full,
        }
    }

    /// What the country computes for it: the permanent address is the household's, so only
    /// the identity and basic shapes are narrower than the full view.
    pub fn computed(self) -> View {
        match self {
            Self::Identity => View::Identity,
            Self::Basic => View::Basic,
            Self::Address | Self::Full => View::Full,
        }
    }
}

/// The wire record of a person; `shape` decides how much is filled in.
pub fn to_record(country: &Country, p: &Person, shape: Shape) -> pb::Citizen {
    let units = country.units();
    let mut record = pb::Citizen {
        citizen_id: p.id.to_string(),
        full_name: p.full_name.clone(),
        date_of_birth: Some(date_to_proto(p.date_of_birth)),
        sex: match p.sex {
            Sex::Male => types::Sex::Male,
            Sex::Female => types::Sex::Female,
        } as i32,
        life_status: match p.life {
            Life::Alive => types::LifeStatus::Alive,
            Life::Deceased(_) => types::LifeStatus::Deceased,
        } as i32,
        date_of_death: match p.life {
            Life::Deceased(d) => Some(date_to_proto(d)),
            Life::Alive => None,
        },
        ..Default::default()
    };
    if shape == Shape::Identity {
        return record;
    }
    record.card = p.current_card().map(card);
    record.vneid = Some(vneid_account(p.vneid.0, p.vneid.1));
    record.persona = p.persona.unwrap_or_default().to_owned();
    match shape {
        Shape::Identity | Shape::Basic => return record,
        Shape::Address => {
            record.permanent_address = Some(address_of(units, &p.residence));
            return record;
        }
        Shape::Full => {}
    }
    let current = p.current_card().map(|c| c as *const Card);
    record.previous_cards = p
        .cards
        .iter()
        .filter(|c| Some(*c as *const Card) != current)
        .map(card)
        .collect();
    record.nationality = "VNM".to_owned();
    record.ethnicity = p.ethnicity.to_owned();
    record.religion = p.religion.to_owned();
    record.birth_registration_place = Some(address_of(units, &p.birth_registration));
    record.home_town = Some(address_of(units, &p.home_town));
    record.permanent_address = Some(address_of(units, &p.residence));
    record.previous_addresses = p
        .previous_residences
        .iter()
        .map(|r| address_of(units, r))
        .collect();
    record.old_id_number = p.old_id_number.clone().unwrap_or_default();
    record.marital_status = match p.marital {
        Marital::Single => types::MaritalStatus::Single,
        Marital::Married => types::MaritalStatus::Married,
        Marital::Divorced => types::MaritalStatus::Divorced,
        Marital::Widowed => types::MaritalStatus::Widowed,
    } as i32;
    record.father = p.father.as_ref().map(relative);
    record.mother = p.mother.as_ref().map(relative);
    record.spouse = p.spouse.as_ref().map(relative);
    record.marriage_date = p.spouse.as_ref().and(p.married_on).map(date_to_proto);
    record.household = p.household.as_ref().map(|h| types::Household {
        household_id: h.code.clone(),
        head_citizen_id: h.head.to_string(),
        head_full_name: h.head_name.clone(),
        relation_to_head: h.relation.to_owned(),
        members: h
            .members
            .iter()
            .map(|m| types::HouseholdMember {
                citizen_id: m.id.to_string(),
                full_name: m.full_name.clone(),
                relation_to_head: m.relation.to_owned(),
            })
            .collect(),
    });
    record.health_insurance = p.insurance.as_ref().map(|i| types::HealthInsurance {
        card_code: i.card_code.clone(),
        social_insurance_number: i.social_insurance_number.clone(),
        valid_from: Some(date_to_proto(i.valid_from)),
        valid_to: Some(date_to_proto(i.valid_to)),
        primary_care_facility_code: i.facility_code.clone(),
    });
    record.identifying_marks = p.marks.clone();
    record
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;

    use super::*;

    /// The province names of each era as the GSO lists write them (`provinces.tsv`, derived
    /// from them unchanged): code → name, pre-2025 and 2025.
    fn listed() -> (BTreeMap<String, String>, BTreeMap<String, String>) {
        let tsv = include_str!("../../../crates/vn/data/provinces.tsv");
        let (mut pre, mut now) = (BTreeMap::new(), BTreeMap::new());
        for line in tsv.lines().skip(1) {
            let f: Vec<&str> = line.split('\t').collect();
            pre.insert(f[0].to_owned(), f[1].to_owned());
            now.insert(f[2].to_owned(), f[3].to_owned());
        }
        (pre, now)
    }

    #[test]
    fn every_province_name_printed_is_the_lists_of_its_era() {
        let units = &*sandbox06_vn::admin::ADMIN_UNITS;
        let (pre, now) = listed();
        assert_eq!((pre.len(), now.len()), (63, 34));
        let (mut seen_pre, mut seen_now) = (BTreeMap::new(), BTreeMap::new());
        let places = (0..units.communes.len() as u32)
            .map(CommuneRef::Pre2025)
            .chain((0..units.communes_2025.len() as u32).map(CommuneRef::Current));
        for commune in places {
            let place = Place {
                commune,
                street: String::new(),
            };
            let address = address_of(units, &place);
            for (a, seen) in [
                (address.pre_2025, &mut seen_pre),
                (address.current, &mut seen_now),
            ] {
                if let Some(a) = a {
                    assert!(a.text.ends_with(&a.province_name), "{}", a.text);
                    seen.insert(a.province_code, a.province_name);
                }
            }
        }
        assert_eq!(seen_pre, pre);
        assert_eq!(seen_now, now);
        assert_eq!(now["56"], "Khánh Hòa");
        assert_eq!(now["79"], "Thành phố Hồ Chí Minh");
        assert_eq!(pre["58"], "Tỉnh Ninh Thuận");
    }

    /// What the citizen service reads from the identity, basic and address views instead of
    /// the full one: the same values in each.
    #[test]
    fn the_narrower_views_fields_are_the_full_views() {
        let country = Country::new(6, 2_000_000, time::macros::date!(2026 - 11 - 27));
        let step = country.population() / 3_000;
        let generated = (0..3_000).filter_map(|i| country.citizen_at(i * step));
        let personas = country
            .personas()
            .all()
            .iter()
            .map(|spec| sandbox06_vn::CitizenId::parse_field(spec.id, "id").unwrap());
        // The basic shape is the full record's identity fields, every one it sets; the address
        // shape adds the permanent address.
        let identity = |r: &pb::Citizen| pb::Citizen {
            citizen_id: r.citizen_id.clone(),
            full_name: r.full_name.clone(),
            date_of_birth: r.date_of_birth,
            sex: r.sex,
            life_status: r.life_status,
            date_of_death: r.date_of_death,
            card: r.card.clone(),
            vneid: r.vneid,
            persona: r.persona.clone(),
            ..Default::default()
        };
        let mut compared = 0;
        for id in generated.chain(personas) {
            let full = country.person(id, View::Full).unwrap();
            let basic = country.person(id, View::Basic).unwrap();
            let whole = to_record(&country, &full, Shape::Full);
            assert_eq!(
                to_record(&country, &basic, Shape::Basic),
                identity(&whole),
                "{id}"
            );
            let identity_only = country.person(id, View::Identity).unwrap();
            assert_eq!(
                to_record(&country, &identity_only, Shape::Identity),
                pb::Citizen {
                    citizen_id: whole.citizen_id.clone(),
                    full_name: whole.full_name.clone(),
                    date_of_birth: whole.date_of_birth,
                    sex: whole.sex,
                    life_status: whole.life_status,
                    date_of_death: whole.date_of_death,
                    ..Default::default()
                },
                "{id}"
            );
            assert_eq!(
                to_record(&country, &full, Shape::Address),
                pb::Citizen {
                    permanent_address: whole.permanent_address.clone(),
                    ..identity(&whole)
                },
                "{id}"
            );
            compared += 1;
        }
        assert!(compared > 3_000, "{compared}");
    }
}
