//! The Ministry of Justice's national services: the civil status registry (hộ tịch: birth,
//! marriage, death) and the judicial records (lý lịch tư pháp), answered from the population
//! database's records with their recorded events, so a marriage or a death recorded as a life
//! event shows here the same day.
//!
//! What the records do not hold is drawn from the ID numbers alone, so every answer is the
//! same for the same citizen: registration numbers, the days a birth or a death was
//! registered (within the legal 60 and 15 days), and the judicial records (about one adult in
//! a hundred with a conviction on record, two in five of those expunged).

use sandbox06_proto::{
    dates::{date_from_proto, date_to_proto},
    population as pop,
    types::{
        self, BirthRegistrationResponse, CivilRegistration, DeathRegistrationResponse,
        JudicialRecordRequest, JudicialRecordResponse, LifeStatus, MaritalStatusResponse,
    },
};
use sandbox06_vn::{CitizenId, CivilDate, NameComparison, compare_names};
use sandbox06_world::rules::add_years;
use time::Duration;

use crate::{NdxpError, Population};

/// FNV-1a of words, for what the records do not hold.
pub(crate) use sandbox06_runtime::digest::fnv1a_words as hash;

/// The record of a well-formed number, or why there is none.
pub(crate) async fn record(
    population: &Population,
    citizen_id: &str,
    field: &str,
) -> Result<pop::Citizen, NdxpError> {
    CitizenId::parse_field(citizen_id, field)?;
    population
        .citizen(citizen_id)
        .await?
        .ok_or(NdxpError::CitizenNotFound)
}

/// A registration of the book `book` for `key`, on `on`, at `place`.
fn registration(
    book: &str,
    key: &[u8],
    on: CivilDate,
    place: Option<types::Address>,
) -> CivilRegistration {
    let serial = hash(&[book.as_bytes(), key]) % 1_000;
    CivilRegistration {
        registration_number: format!("{serial:03}/{}/{book}", on.year()),
        registered_on: Some(date_to_proto(on)),
        place,
    }
}

/// The date of a record's field.
pub(crate) fn day(date: Option<&types::Date>) -> Option<CivilDate> {
    date_from_proto(date?, "date").ok()
}

/// Marital status, with the marriage registration and the spouse.
pub async fn marital_status(
    population: &Population,
    citizen_id: &str,
) -> Result<MaritalStatusResponse, NdxpError> {
    let citizen = record(population, citizen_id, "citizen.citizen_id").await?;
    let spouse = citizen.spouse.clone().unwrap_or_default();
    let marriage = match day(citizen.marriage_date.as_ref()) {
        Some(on) => {
            // Registered where the husband lived: his record's address.
            let husband_address =
                if citizen.sex == types::Sex::Male as i32 || spouse.citizen_id.is_empty() {
                    citizen.permanent_address.clone()
                } else {
                    population
                        .citizen(&spouse.citizen_id)
                        .await?
                        .and_then(|h| h.permanent_address)
                        .or_else(|| citizen.permanent_address.clone())
                };
            let (a, b) = if citizen.citizen_id < spouse.citizen_id {
                (&citizen.citizen_id, &spouse.citizen_id)
            } else {
                (&spouse.citizen_id, &citizen.citizen_id)
            };
            let key = format!("{a}{b}");
            Some(registration("KH", key.as_bytes(), on, husband_address))
        }
        None => None,
    };
    Ok(MaritalStatusResponse {
        citizen_id: citizen.citizen_id,
        full_name: citizen.full_name,
        marital_status: citizen.marital_status,
        marriage,
        spouse_citizen_id: spouse.citizen_id,
        spouse_full_name: spouse.full_name,
    })
}

/// Birth registration: registered in the province of the ID number, within 60 days.
pub async fn birth_registration(
    population: &Population,
    citizen_id: &str,
) -> Result<BirthRegistrationResponse, NdxpError> {
    let citizen = record(population, citizen_id, "citizen.citizen_id").await?;
    let registration = day(citizen.date_of_birth.as_ref()).map(|born| {
        let delay = hash(&[b"birth", citizen.citizen_id.as_bytes()]) % 60;
        registration(
            "KS",
            citizen.citizen_id.as_bytes(),
            born + Duration::days(delay as i64),
            citizen.birth_registration_place.clone(),
        )
    });
    let father = citizen.father.clone().unwrap_or_default();
    let mother = citizen.mother.clone().unwrap_or_default();
    Ok(BirthRegistrationResponse {
        citizen_id: citizen.citizen_id,
        full_name: citizen.full_name,
        date_of_birth: citizen.date_of_birth,
        sex: citizen.sex,
        registration,
        father_full_name: father.full_name,
        father_citizen_id: father.citizen_id,
        mother_full_name: mother.full_name,
        mother_citizen_id: mother.citizen_id,
    })
}

/// Death registration: registered where the citizen lived, within 15 days.
pub async fn death_registration(
    population: &Population,
    citizen_id: &str,
) -> Result<DeathRegistrationResponse, NdxpError> {
    let citizen = record(population, citizen_id, "citizen.citizen_id").await?;
    let died = (citizen.life_status == LifeStatus::Deceased as i32)
        .then(|| day(citizen.date_of_death.as_ref()))
        .flatten();
    let registration = died.map(|on| {
        let delay = hash(&[b"death", citizen.citizen_id.as_bytes()]) % 15;
        registration(
            "KT",
            citizen.citizen_id.as_bytes(),
            on + Duration::days(delay as i64),
            citizen.permanent_address.clone(),
        )
    });
    Ok(DeathRegistrationResponse {
        citizen_id: citizen.citizen_id,
        registered: died.is_some(),
        date_of_death: died.map(date_to_proto),
        registration,
    })
}

/// Age from which convictions are on record.
const CONVICTION_AGE: i32 = 18;
/// Share of adults with a conviction on record (*estimate*).
const CONVICTED_PER_THOUSAND: u64 = 10;
/// Of them, the share whose convictions are all expunged, per thousand (*estimate*).
const EXPUNGED_PER_THOUSAND: u64 = 400;

/// Judicial record check: the applicant's name and date of birth must be the record's.
pub async fn judicial_record(
    population: &Population,
    req: JudicialRecordRequest,
    today: CivilDate,
) -> Result<JudicialRecordResponse, NdxpError> {
    let citizen = record(population, &req.citizen_id, "judicial_record.citizen_id").await?;
    let mismatch = |field: &str, what: &str| {
        NdxpError::from(sandbox06_vn::FieldError::new(
            sandbox06_vn::FieldErrorKind::Other,
            format!("judicial_record.{field}"),
            format!("the {what} is not the one on record for this ID number"),
        ))
    };
    if compare_names(&req.full_name, &citizen.full_name) != NameComparison::Equal {
        return Err(mismatch("full_name", "full name"));
    }
    let born = day(citizen.date_of_birth.as_ref());
    if req
        .date_of_birth
        .as_ref()
        .and_then(|d| date_from_proto(d, "date").ok())
        != born
    {
        return Err(mismatch("date_of_birth", "date of birth"));
    }
    let adult = born.is_some_and(|b| add_years(b, CONVICTION_AGE) <= today);
    let h = hash(&[b"judicial", citizen.citizen_id.as_bytes()]);
    let convicted = adult && h % 1_000 < CONVICTED_PER_THOUSAND;
    let expunged = (h >> 20) % 1_000 < EXPUNGED_PER_THOUSAND;
    let convictions = if convicted && !expunged {
        1 + ((h >> 40) % 3) as i32
    } else {
        0
    };
    Ok(JudicialRecordResponse {
        citizen_id: citizen.citizen_id,
        clean: convictions == 0,
        convictions,
        checked_on: Some(date_to_proto(today)),
    })
}
