//! The population database's record as the citizen API releases it.

use sandbox06_proto::{citizen::Citizen, population};

/// Releases an upstream record field by field (the two contracts evolve separately).
pub fn citizen(r: population::Citizen) -> Citizen {
    Citizen {
        citizen_id: r.citizen_id,
        full_name: r.full_name,
        date_of_birth: r.date_of_birth,
        sex: r.sex,
        nationality: r.nationality,
        ethnicity: r.ethnicity,
        religion: r.religion,
        birth_registration_place: r.birth_registration_place,
        home_town: r.home_town,
        permanent_address: r.permanent_address,
        previous_addresses: r.previous_addresses,
        life_status: r.life_status,
        date_of_death: r.date_of_death,
        card: r.card,
        previous_cards: r.previous_cards,
        old_id_number: r.old_id_number,
        marital_status: r.marital_status,
        father: r.father,
        mother: r.mother,
        spouse: r.spouse,
        household: r.household,
        vneid: r.vneid,
        health_insurance: r.health_insurance,
        identifying_marks: r.identifying_marks,
        persona: r.persona,
    }
}
