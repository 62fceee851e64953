//! The registry's rules: what it cannot judge (a field missing or malformed: INVALID_ARGUMENT
//! naming the field) and what it refuses (a rejection with its own reason).

use sandbox06_proto::{
    dates::date_from_proto,
    lodgingregistry as pb, population as pop,
    types::{self, DocumentType, LifeStatus, ReasonOfStay},
};
use sandbox06_vn::{CitizenId, FieldError, FieldErrorKind, NameComparison, compare_names};
use time::{Duration, OffsetDateTime};

use crate::Outcome;
use pb::RejectionReason as R;

/// Guests of one declaration, at most.
pub const MAX_GUESTS: usize = 100;

/// How far ahead of the registry's clock an arrival or a departure may be (the facility's
/// clock and the registry's are not the same).
const CLOCK_TOLERANCE: Duration = Duration::minutes(5);

/// Longest declaration id.
const MAX_ID_CHARS: usize = 200;

fn invalid(field: impl Into<String>, description: impl Into<String>) -> FieldError {
    FieldError::new(FieldErrorKind::Other, field, description)
}

/// A declaration id: required, at most 200 characters, no braces (they mark the store's hash
/// tag) and no control characters.
pub(crate) fn declaration_id(id: &str) -> Result<(), FieldError> {
    if id.trim().is_empty() {
        return Err(invalid("declaration_id", "declaration_id is required"));
    }
    if id.chars().count() > MAX_ID_CHARS {
        return Err(invalid(
            "declaration_id",
            format!("declaration_id is at most {MAX_ID_CHARS} characters"),
        ));
    }
    if id.chars().any(|c| c == '{' || c == '}' || c.is_control()) {
        return Err(invalid(
            "declaration_id",
            "declaration_id may hold no braces and no control characters",
        ));
    }
    Ok(())
}

/// A revision: 1 or more.
pub(crate) fn revision(revision: i64) -> Result<(), FieldError> {
    if revision < 1 {
        return Err(invalid(
            "revision",
            format!("revision is 1 for a new declaration, more for a later one; got {revision}"),
        ));
    }
    Ok(())
}

/// A protobuf time, required, or the error naming `field`.
fn time(at: Option<&prost_types::Timestamp>, field: &str) -> Result<OffsetDateTime, FieldError> {
    let at = at.ok_or_else(|| invalid(field, format!("{field} is required")))?;
    sandbox06_proto::dates::time_from_proto(at, field)
}

/// The 2025 province code a facility code starts with, when the code has the registry's form:
/// the two-digit province code, `-`, then 1 to 30 letters, digits or `-` (e.g. `56-KS-000123`).
pub fn facility_province(code: &str) -> Option<u8> {
    let (province, rest) = code.split_once('-')?;
    let valid_rest = !rest.is_empty()
        && rest.len() <= 30
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if province.len() != 2 || !province.bytes().all(|b| b.is_ascii_digit()) || !valid_rest {
        return None;
    }
    let province: u8 = province.parse().ok()?;
    (!sandbox06_vn::admin::ADMIN_UNITS
        .province_2025_name(province)
        .is_empty())
    .then_some(province)
}

/// A citizen guest to look up in the population database.
#[derive(Debug)]
pub(crate) struct CitizenGuest {
    pub citizen_id: String,
    pub full_name: String,
    pub date_of_birth: sandbox06_vn::CivilDate,
}

/// A submission as far as its form goes: the first rejection of it, and its citizens to check.
#[derive(Debug)]
pub(crate) struct Checked {
    pub rejection: Option<Outcome>,
    pub citizens: Vec<(usize, CitizenGuest)>,
}

/// Checks a submission's form; an error when a field cannot be judged.
pub(crate) fn submission(
    r: &pb::SubmitDeclarationRequest,
    now: OffsetDateTime,
) -> Result<Checked, FieldError> {
    if r.facility_code.trim().is_empty() {
        return Err(invalid("facility_code", "facility_code is required"));
    }
    if r.guests.is_empty() {
        return Err(invalid("guests", "a declaration has at least one guest"));
    }
    if r.guests.len() > MAX_GUESTS {
        return Err(invalid(
            "guests",
            format!(
                "a declaration has at most {MAX_GUESTS} guests; got {}",
                r.guests.len()
            ),
        ));
    }
    let arrival = time(r.arrival_time.as_ref(), "arrival_time")?;
    let departure = time(
        r.expected_departure_time.as_ref(),
        "expected_departure_time",
    )?;
    // Every field is read before anything is judged: a malformed one is an error whatever
    // else is wrong.
    let guests = r
        .guests
        .iter()
        .enumerate()
        .map(|(i, g)| Guest::read(i, g))
        .collect::<Result<Vec<_>, _>>()?;
    let reject = |outcome| {
        Ok(Checked {
            rejection: Some(outcome),
            citizens: Vec::new(),
        })
    };
    if facility_province(&r.facility_code).is_none() {
        return reject(Outcome::reject(
            R::UnknownFacility,
            None,
            "no registered facility has this code (the registry's form: a 2025 province code, `-`, then letters, digits or `-`, e.g. 56-KS-000123)",
        ));
    }
    if departure <= arrival {
        return reject(Outcome::reject(
            R::InvalidPeriod,
            None,
            "expected_departure_time is not after arrival_time",
        ));
    }
    if arrival > now + CLOCK_TOLERANCE {
        return reject(Outcome::reject(
            R::InvalidPeriod,
            None,
            "arrival_time is in the future",
        ));
    }
    let mut citizens = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (i, guest) in guests.iter().enumerate() {
        match guest.judge(i, &r.guests[i]) {
            Err(rejection) => return reject(rejection),
            Ok(person) => {
                if seen.contains(&person.key) {
                    return reject(Outcome::reject(
                        R::DuplicateGuest,
                        Some(i),
                        format!("guests[{i}] is declared twice in this declaration"),
                    ));
                }
                seen.push(person.key);
                if let Some(c) = person.citizen {
                    citizens.push((i, c));
                }
            }
        }
    }
    Ok(Checked {
        rejection: None,
        citizens,
    })
}

/// A guest's fields, read.
struct Guest {
    document_type: DocumentType,
    reason_of_stay: ReasonOfStay,
    date_of_birth: Option<sandbox06_vn::CivilDate>,
    stay_permitted_until: Option<sandbox06_vn::CivilDate>,
}

/// A guest judged acceptable in form: who they are, for duplicates and the record check.
struct Person {
    key: String,
    citizen: Option<CitizenGuest>,
}

impl Guest {
    /// Reads the fields that must be codes or dates: a value that is none is an error.
    fn read(i: usize, g: &pb::RegistryGuest) -> Result<Self, FieldError> {
        let field = |name: &str| format!("guests[{i}].{name}");
        let document_type = DocumentType::try_from(g.document_type).map_err(|_| {
            invalid(
                field("document_type"),
                format!("{} is not a document type (codes 1–9)", g.document_type),
            )
        })?;
        let reason_of_stay = ReasonOfStay::try_from(g.reason_of_stay).map_err(|_| {
            invalid(
                field("reason_of_stay"),
                format!("{} is not a reason of stay (codes 1–20)", g.reason_of_stay),
            )
        })?;
        types::Sex::try_from(g.sex)
            .map_err(|_| invalid(field("sex"), format!("{} is not a sex", g.sex)))?;
        types::ResidenceStatus::try_from(g.residence_status).map_err(|_| {
            invalid(
                field("residence_status"),
                format!(
                    "{} is not a residence status (codes 1–3)",
                    g.residence_status
                ),
            )
        })?;
        let date_of_birth = g
            .date_of_birth
            .as_ref()
            .map(|d| date_from_proto(d, &field("date_of_birth")))
            .transpose()?;
        let stay_permitted_until = g
            .stay_permitted_until
            .as_ref()
            .map(|d| date_from_proto(d, &field("stay_permitted_until")))
            .transpose()?;
        Ok(Self {
            document_type,
            reason_of_stay,
            date_of_birth,
            stay_permitted_until,
        })
    }

    /// The registry's judgement of one guest's form.
    fn judge(&self, i: usize, g: &pb::RegistryGuest) -> Result<Person, Outcome> {
        let reject = |reason, message: String| Outcome::reject(reason, Some(i), message);
        let missing =
            |name: &str| reject(R::MissingField, format!("guests[{i}].{name} is required"));
        if g.full_name.trim().is_empty() {
            return Err(missing("full_name"));
        }
        let Some(date_of_birth) = self.date_of_birth else {
            return Err(missing("date_of_birth"));
        };
        if self.reason_of_stay == ReasonOfStay::Unspecified {
            return Err(missing("reason_of_stay"));
        }
        if self.document_type == DocumentType::Unspecified {
            return Err(missing("document_type"));
        }
        let nationality = g.nationality.trim();
        if nationality.is_empty() {
            return Err(missing("nationality"));
        }
        let number = g.document_number.trim();
        let bad_document = |what: &str| {
            reject(
                R::InvalidDocument,
                format!("guests[{i}].document_number: {what}"),
            )
        };
        if nationality == "VNM" {
            let id_typed = matches!(
                self.document_type,
                DocumentType::Cccd | DocumentType::IdNumberNotice | DocumentType::CanCuoc
            );
            let claimed = match g.citizen_id.trim() {
                "" if id_typed && !number.is_empty() => number,
                "" => return Err(missing("citizen_id")),
                id => id,
            };
            let citizen_id = CitizenId::parse_field(claimed, "citizen_id").map_err(|e| {
                reject(
                    R::InvalidDocument,
                    format!(
                        "guests[{i}].citizen_id is not a personal ID number: {}",
                        e.description
                    ),
                )
            })?;
            let citizen_id = citizen_id.to_string();
            let form_ok = match self.document_type {
                _ if number.is_empty() => return Err(bad_document("the document has no number")),
                DocumentType::Cccd | DocumentType::IdNumberNotice | DocumentType::CanCuoc => {
                    if number != citizen_id {
                        return Err(bad_document(
                            "for this document type the number is the citizen's ID number",
                        ));
                    }
                    true
                }
                DocumentType::Cmnd => digits(number, &[9, 12]),
                DocumentType::DrivingLicence => digits(number, &[12]),
                // A Vietnamese passport: one letter and seven digits.
                DocumentType::Passport => {
                    number.len() == 8
                        && number.as_bytes()[0].is_ascii_uppercase()
                        && number[1..].bytes().all(|b| b.is_ascii_digit())
                }
                // The social insurance code (10 digits) or the older card code (2 letters,
                // 13 digits).
                DocumentType::HealthInsuranceCard => {
                    digits(number, &[10])
                        || (number.len() == 15
                            && number[..2].bytes().all(|b| b.is_ascii_uppercase())
                            && number[2..].bytes().all(|b| b.is_ascii_digit()))
                }
                DocumentType::BirthCertificate | DocumentType::Other => free_form(number),
                DocumentType::Unspecified => false,
            };
            if !form_ok {
                return Err(bad_document(&format!(
                    "not of the form of a {}",
                    self.document_type.as_str_name()
                )));
            }
            return Ok(Person {
                key: format!("VNM:{citizen_id}"),
                citizen: Some(CitizenGuest {
                    citizen_id,
                    full_name: g.full_name.clone(),
                    date_of_birth,
                }),
            });
        }
        if !is_icao_form(nationality) {
            return Err(reject(
                R::InvalidNationality,
                format!(
                    "guests[{i}].nationality is not an ICAO 9303 code (three capital letters, or D for Germany)"
                ),
            ));
        }
        if !matches!(
            self.document_type,
            DocumentType::Passport | DocumentType::Other
        ) {
            return Err(reject(
                R::InvalidDocument,
                format!(
                    "guests[{i}].document_type: a foreigner presents a passport or another foreign document, not a {}",
                    self.document_type.as_str_name()
                ),
            ));
        }
        if !g.citizen_id.trim().is_empty() {
            return Err(reject(
                R::InvalidDocument,
                format!("guests[{i}].citizen_id: a foreigner has no personal ID number"),
            ));
        }
        if number.is_empty() {
            return Err(bad_document("the document has no number"));
        }
        let form_ok = match self.document_type {
            // ICAO 9303: at most nine letters or digits.
            DocumentType::Passport => {
                (5..=9).contains(&number.len())
                    && number
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            }
            _ => free_form(number),
        };
        if !form_ok {
            return Err(bad_document(&format!(
                "not of the form of a {}",
                self.document_type.as_str_name()
            )));
        }
        if g.visa_number.trim().is_empty() || self.stay_permitted_until.is_none() {
            return Err(reject(
                R::MissingStayPermit,
                format!(
                    "guests[{i}]: a foreigner is declared with the number and term of a visa or temporary residence card (visa_number, stay_permitted_until)"
                ),
            ));
        }
        Ok(Person {
            key: format!("{nationality}:{}:{number}", self.document_type as i32),
            citizen: None,
        })
    }
}

fn digits(number: &str, lengths: &[usize]) -> bool {
    lengths.contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit())
}

/// Up to 30 letters, digits, `-`, `/` or `.`.
fn free_form(number: &str) -> bool {
    number.len() <= 30
        && number
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'/' | b'.'))
}

/// An ICAO 9303 code's form: three capital letters, or `D` (Germany).
fn is_icao_form(code: &str) -> bool {
    code == "D" || (code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()))
}

/// A citizen guest judged against the population database's record.
pub(crate) fn against_record(
    i: usize,
    guest: &CitizenGuest,
    record: Option<pop::Citizen>,
) -> Option<Outcome> {
    let reject = |reason, message: &str| {
        Some(Outcome::reject(
            reason,
            Some(i),
            format!("guests[{i}]: {message}"),
        ))
    };
    let Some(record) = record else {
        return reject(R::CitizenNotFound, "no citizen has this ID number");
    };
    if record.life_status() == LifeStatus::Deceased {
        return reject(R::CitizenDeceased, "the citizen's death is recorded");
    }
    let recorded_birth = record
        .date_of_birth
        .as_ref()
        .and_then(|d| date_from_proto(d, "date_of_birth").ok());
    if recorded_birth != Some(guest.date_of_birth) {
        return reject(
            R::IdentityMismatch,
            "the date of birth contradicts the population database",
        );
    }
    // Facilities' software may drop the diacritics; a different name is refused.
    if compare_names(&guest.full_name, &record.full_name) == NameComparison::Different {
        return reject(
            R::IdentityMismatch,
            "the name contradicts the population database",
        );
    }
    None
}

/// A departure's time: required, a time.
pub(crate) fn departure_time(r: &pb::ReportDepartureRequest) -> Result<OffsetDateTime, FieldError> {
    time(r.departure_time.as_ref(), "departure_time")
}

/// Whether `number` names `guest` (their document number or ID number).
pub(crate) fn names_guest(number: &[u8], guest: &pb::RegistryGuest) -> bool {
    let number = String::from_utf8_lossy(number);
    let number = number.trim();
    !number.is_empty()
        && (guest.document_number.trim() == number || guest.citizen_id.trim() == number)
}

/// Every document number of a departure names a guest of the declaration.
pub(crate) fn departing_guests(
    r: &pb::ReportDepartureRequest,
    held: &pb::RegisteredDeclaration,
) -> Result<(), FieldError> {
    for (i, number) in r.document_numbers.iter().enumerate() {
        if !held
            .guests
            .iter()
            .any(|g| names_guest(number.as_bytes(), g))
        {
            return Err(invalid(
                format!("document_numbers[{i}]"),
                "no guest of the declaration has this document number",
            ));
        }
    }
    Ok(())
}

/// A departure before the arrival, or in the future, is refused.
pub(crate) fn departure_period(
    left: OffsetDateTime,
    held: &pb::RegisteredDeclaration,
    now: OffsetDateTime,
) -> Result<Option<Outcome>, FieldError> {
    let arrival = time(held.arrival_time.as_ref(), "arrival_time")?;
    if left <= arrival {
        return Ok(Some(Outcome::reject(
            R::InvalidPeriod,
            None,
            "departure_time is not after the declaration's arrival_time",
        )));
    }
    if left > now + CLOCK_TOLERANCE {
        return Ok(Some(Outcome::reject(
            R::InvalidPeriod,
            None,
            "departure_time is in the future",
        )));
    }
    Ok(None)
}

/// A cancellation says why.
pub(crate) fn cancellation(r: &pb::CancelDeclarationRequest) -> Result<(), FieldError> {
    if r.reason.trim().is_empty() {
        return Err(invalid(
            "reason",
            "reason is required: why the declaration is cancelled",
        ));
    }
    Ok(())
}
