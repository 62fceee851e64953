//! A declaration as the caller sent it, checked field by field: every bad field is found and
//! named (`declaration.guests[2].citizen.citizen_id`), not only the first.

use std::collections::HashSet;

use sandbox06_proto::{
    dates::{date_from_proto, time_from_proto},
    lodging as pb,
    types::{self, DocumentType},
};
use sandbox06_vn::{CitizenId, CivilDate};
use time::{Duration, OffsetDateTime};

use crate::error::BadField;
use crate::facility::{Facility, Placement};

/// Guests of one declaration, at most (a coach's passengers, a family, a patient and carers).
pub const MAX_GUESTS: usize = 100;

/// How far ahead of the suite's clock an arrival may be (the facility's clock is not the
/// suite's).
pub const CLOCK_TOLERANCE: Duration = Duration::minutes(5);

/// Longest name, in characters.
const MAX_NAME_CHARS: usize = 100;
/// Longest free text (an address, a ward), in characters.
const MAX_TEXT_CHARS: usize = 300;
/// Longest label (a room, a seat, a bed, a trip), in characters.
const MAX_LABEL_CHARS: usize = 64;
/// Longest share code, in bytes.
const MAX_SHARE_CODE_BYTES: usize = 4096;

/// Who a guest is, as sent.
#[derive(Clone, Debug)]
pub enum Identity {
    /// A citizen, typed.
    Citizen(pb::CitizenGuest),
    /// A foreigner.
    Foreigner(pb::ForeignGuest),
    /// A VNeID share code, to redeem.
    Share(String),
}

/// A guest, checked.
#[derive(Clone, Debug)]
pub struct DraftGuest {
    /// The guest as sent, its guest id assigned.
    pub guest: pb::Guest,
    /// Who it is.
    pub identity: Identity,
}

/// The parts of a declaration a create or an amendment sends, checked.
#[derive(Clone, Debug)]
pub struct Draft {
    /// The guests.
    pub guests: Vec<DraftGuest>,
    /// Where they stay.
    pub place: pb::Place,
    /// Arrival.
    pub arrival: OffsetDateTime,
    /// Expected departure.
    pub expected_departure: OffsetDateTime,
}

/// Collects bad fields.
#[derive(Default)]
pub struct Problems(pub Vec<BadField>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(BadField::new(field, description));
    }

    /// Whether none was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn text_ok(value: &str, max: usize) -> Option<String> {
    if value.chars().count() > max {
        return Some(format!("at most {max} characters"));
    }
    if value.chars().any(char::is_control) {
        return Some("may hold no control characters".to_owned());
    }
    None
}

fn required_text(p: &mut Problems, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        p.add(field, "is required");
    } else if let Some(problem) = text_ok(value, max) {
        p.add(field, problem);
    }
}

fn optional_text(p: &mut Problems, field: &str, value: &str, max: usize) {
    if let Some(problem) = text_ok(value, max) {
        p.add(field, problem);
    }
}

fn date(
    p: &mut Problems,
    field: &str,
    value: Option<&types::Date>,
    required: bool,
) -> Option<CivilDate> {
    match value {
        None if required => {
            p.add(field, "is required");
            None
        }
        None => None,
        Some(d) => match date_from_proto(d, field) {
            Ok(d) => Some(d),
            Err(e) => {
                p.add(e.field, e.description);
                None
            }
        },
    }
}

fn time(
    p: &mut Problems,
    field: &str,
    value: Option<&prost_types::Timestamp>,
) -> Option<OffsetDateTime> {
    let Some(at) = value else {
        p.add(field, "is required");
        return None;
    };
    match time_from_proto(at, field) {
        Ok(t) => Some(t),
        Err(e) => {
            p.add(e.field, e.description);
            None
        }
    }
}

fn enum_value<E: TryFrom<i32>>(p: &mut Problems, field: &str, value: i32, what: &str) -> Option<E> {
    match E::try_from(value) {
        Ok(e) => Some(e),
        Err(_) => {
            p.add(field, format!("{value} is not {what}"));
            None
        }
    }
}

/// Whether `code` has the form of an ICAO 9303 nationality code: three capital letters, or
/// `D` (Germany).
pub fn is_icao_form(code: &str) -> bool {
    code == "D" || (code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()))
}

/// Whether `id` is a guest id: letters, digits and `-`, 1 to 32.
fn is_guest_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn citizen(p: &mut Problems, at: &str, c: &pb::CitizenGuest, today: CivilDate) {
    let f = |name: &str| format!("{at}.{name}");
    if let Err(e) = CitizenId::parse_field(&c.citizen_id, &f("citizen_id")) {
        p.add(e.field, e.description);
    }
    let document = enum_value::<DocumentType>(
        p,
        &f("document_type"),
        c.document_type,
        "a document type (codes 1–9)",
    );
    match document {
        Some(
            DocumentType::Unspecified
            | DocumentType::Cccd
            | DocumentType::CanCuoc
            | DocumentType::IdNumberNotice,
        ) if !c.document_number.is_empty() && c.document_number.trim() != c.citizen_id.trim() => {
            p.add(
                f("document_number"),
                "a CCCD, Căn cước or ID-number notice is numbered by the ID number: leave document_number empty or give the ID number",
            );
        }
        Some(
            DocumentType::Unspecified
            | DocumentType::Cccd
            | DocumentType::CanCuoc
            | DocumentType::IdNumberNotice,
        ) => {}
        Some(DocumentType::Passport) => {
            let n = c.document_number.trim();
            if !(n.len() == 8
                && n.as_bytes()[0].is_ascii_uppercase()
                && n[1..].bytes().all(|b| b.is_ascii_digit()))
            {
                p.add(
                    f("document_number"),
                    "a Vietnamese passport number is one capital letter and seven digits, e.g. C1234567",
                );
            }
        }
        Some(DocumentType::Cmnd) => {
            let n = c.document_number.trim();
            if !((n.len() == 9 || n.len() == 12) && n.bytes().all(|b| b.is_ascii_digit())) {
                p.add(f("document_number"), "a CMND number is 9 (or 12) digits");
            }
        }
        Some(_) => required_text(p, &f("document_number"), &c.document_number, 30),
        None => {}
    }
    required_text(p, &f("full_name"), &c.full_name, MAX_NAME_CHARS);
    if let Some(born) = date(p, &f("date_of_birth"), c.date_of_birth.as_ref(), true)
        && born > today
    {
        p.add(f("date_of_birth"), "is after today");
    }
    enum_value::<types::Sex>(p, &f("sex"), c.sex, "a sex");
    enum_value::<types::ResidenceStatus>(
        p,
        &f("residence_status"),
        c.residence_status,
        "a residence status (codes 1–3)",
    );
    optional_text(
        p,
        &f("residence_address"),
        &c.residence_address,
        MAX_TEXT_CHARS,
    );
}

fn foreigner(p: &mut Problems, at: &str, g: &pb::ForeignGuest, today: CivilDate) {
    let f = |name: &str| format!("{at}.{name}");
    let document = enum_value::<DocumentType>(
        p,
        &f("document_type"),
        g.document_type,
        "a document type (codes 1–9)",
    );
    let number = g.passport_number.trim();
    match document {
        Some(DocumentType::Unspecified | DocumentType::Passport) => {
            if number.is_empty() {
                p.add(f("passport_number"), "is required");
            } else if !((5..=9).contains(&number.len())
                && number
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
            {
                p.add(
                    f("passport_number"),
                    "a passport number is 5 to 9 capital letters or digits (ICAO 9303)",
                );
            }
        }
        Some(DocumentType::Other) => required_text(p, &f("passport_number"), number, 30),
        Some(other) => p.add(
            f("document_type"),
            format!(
                "a foreigner presents a passport or another foreign document, not a {}",
                other.as_str_name()
            ),
        ),
        None => {}
    }
    let nationality = g.nationality.trim();
    if nationality.is_empty() {
        p.add(f("nationality"), "is required");
    } else if nationality == "VNM" {
        p.add(
            f("nationality"),
            "a Vietnamese citizen is declared as a citizen guest, by ID number",
        );
    } else if !is_icao_form(nationality) {
        p.add(
            f("nationality"),
            "is an ICAO 9303 code: three capital letters (USA, KOR), or D for Germany",
        );
    }
    required_text(p, &f("full_name"), &g.full_name, MAX_NAME_CHARS);
    if let Some(born) = date(p, &f("date_of_birth"), g.date_of_birth.as_ref(), true)
        && born > today
    {
        p.add(f("date_of_birth"), "is after today");
    }
    enum_value::<types::Sex>(p, &f("sex"), g.sex, "a sex");
    optional_text(p, &f("visa_number"), &g.visa_number, 30);
    date(
        p,
        &f("stay_permitted_until"),
        g.stay_permitted_until.as_ref(),
        true,
    );
}

/// Checks the guests and place of a declaration at `facility`; `prefix` is the path of the
/// declaration in the request (`declaration`).
pub fn guests(
    p: &mut Problems,
    prefix: &str,
    facility: &Facility,
    sent: &[pb::Guest],
    today: CivilDate,
    taken: &HashSet<String>,
) -> Vec<DraftGuest> {
    let field = format!("{prefix}.guests");
    if sent.is_empty() {
        p.add(&field, "a declaration has at least one guest");
        return Vec::new();
    }
    if sent.len() > MAX_GUESTS {
        p.add(
            &field,
            format!(
                "a declaration has at most {MAX_GUESTS} guests; got {} (declare a larger group in several)",
                sent.len()
            ),
        );
        return Vec::new();
    }
    let placement = facility.placement();
    let given: HashSet<&str> = sent.iter().map(|g| g.guest_id.as_str()).collect();
    let mut assigned = 0;
    let mut seen_ids = HashSet::new();
    let mut seats = HashSet::new();
    let mut drafts = Vec::with_capacity(sent.len());
    for (i, g) in sent.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let f = |name: &str| format!("{at}.{name}");
        let mut guest = g.clone();
        if guest.guest_id.is_empty() {
            guest.guest_id = loop {
                assigned += 1;
                let id = format!("g{assigned}");
                if !given.contains(id.as_str()) && !taken.contains(&id) {
                    break id;
                }
            };
        } else if !is_guest_id(&guest.guest_id) {
            p.add(f("guest_id"), "is letters, digits and '-', 1 to 32");
        }
        if !seen_ids.insert(guest.guest_id.clone()) {
            p.add(f("guest_id"), "is another guest's guest_id too");
        }
        let identity = match &g.identity {
            None => {
                p.add(
                    format!("{at}.identity"),
                    "one of citizen, foreigner or vneid_share is required",
                );
                None
            }
            Some(pb::guest::Identity::Citizen(c)) => {
                citizen(p, &f("citizen"), c, today);
                Some(Identity::Citizen(c.clone()))
            }
            Some(pb::guest::Identity::Foreigner(fg)) => {
                foreigner(p, &f("foreigner"), fg, today);
                Some(Identity::Foreigner(fg.clone()))
            }
            Some(pb::guest::Identity::VneidShare(share)) => {
                let code = share.share_code.trim();
                if code.is_empty() {
                    p.add(f("vneid_share.share_code"), "is required");
                } else if code.len() > MAX_SHARE_CODE_BYTES {
                    p.add(
                        f("vneid_share.share_code"),
                        format!("at most {MAX_SHARE_CODE_BYTES} bytes"),
                    );
                }
                Some(Identity::Share(code.to_owned()))
            }
        };
        if let Some(types::ReasonOfStay::Unspecified) = enum_value::<types::ReasonOfStay>(
            p,
            &f("reason_of_stay"),
            g.reason_of_stay,
            "a reason of stay (codes 1–20)",
        ) {
            p.add(f("reason_of_stay"), "is required: a national code 1–20");
        }
        let role = enum_value::<pb::HospitalRole>(
            p,
            &f("hospital_role"),
            g.hospital_role,
            "a hospital role",
        );
        match placement {
            Placement::CoachTrip => {
                required_text(p, &f("seat"), &g.seat, MAX_LABEL_CHARS);
                if !g.seat.trim().is_empty() && !seats.insert(g.seat.trim().to_owned()) {
                    p.add(f("seat"), "is another passenger's seat too");
                }
            }
            _ if !g.seat.is_empty() => {
                p.add(f("seat"), "a seat is given only at a coach operator");
            }
            _ => {}
        }
        match (placement, role) {
            (Placement::HospitalWard, Some(pb::HospitalRole::Unspecified)) => {
                p.add(
                    f("hospital_role"),
                    "is required at a medical facility: patient or carer",
                );
            }
            (Placement::HospitalWard, Some(pb::HospitalRole::Patient)) => {
                optional_text(p, &f("bed"), &g.bed, MAX_LABEL_CHARS);
                if !g.patient_guest_id.is_empty() {
                    p.add(f("patient_guest_id"), "a patient has no patient_guest_id");
                }
            }
            (Placement::HospitalWard, Some(pb::HospitalRole::Carer)) => {
                if !g.bed.is_empty() {
                    p.add(f("bed"), "a carer has no bed");
                }
                let patient = sent.iter().enumerate().find(|(j, other)| {
                    *j != i
                        && !g.patient_guest_id.is_empty()
                        && other.guest_id == g.patient_guest_id
                        && other.hospital_role == pb::HospitalRole::Patient as i32
                });
                if patient.is_none() {
                    p.add(
                        f("patient_guest_id"),
                        "a carer names the guest_id of a patient of the same declaration",
                    );
                }
            }
            (Placement::HospitalWard, _) => {}
            (_, Some(pb::HospitalRole::Unspecified) | None) => {
                if !g.bed.is_empty() {
                    p.add(f("bed"), "a bed is given only at a medical facility");
                }
                if !g.patient_guest_id.is_empty() {
                    p.add(
                        f("patient_guest_id"),
                        "a patient is named only at a medical facility",
                    );
                }
            }
            (_, Some(_)) => {
                p.add(
                    f("hospital_role"),
                    "a hospital role is given only at a medical facility",
                );
            }
        }
        guest.data_source = pb::GuestDataSource::Typed as i32;
        guest.departure_time = None;
        if let Some(identity) = identity {
            drafts.push(DraftGuest { guest, identity });
        }
    }
    drafts
}

/// Checks a place for `facility`.
pub fn place(p: &mut Problems, prefix: &str, facility: &Facility, place: Option<&pb::Place>) {
    let field = format!("{prefix}.place");
    let expected = match facility.placement() {
        Placement::Room => "room",
        Placement::CoachTrip => "coach_trip",
        Placement::HospitalWard => "hospital_ward",
    };
    let Some(kind) = place.and_then(|p| p.kind.as_ref()) else {
        p.add(
            &field,
            format!("is required: a {expected} at this facility"),
        );
        return;
    };
    match (facility.placement(), kind) {
        (Placement::Room, pb::place::Kind::Room(r)) => {
            required_text(p, &format!("{field}.room.room"), &r.room, MAX_LABEL_CHARS);
        }
        (Placement::CoachTrip, pb::place::Kind::CoachTrip(t)) => {
            let plate = t.vehicle_plate.trim();
            if plate.is_empty() {
                p.add(format!("{field}.coach_trip.vehicle_plate"), "is required");
            } else if !(5..=12).contains(&plate.len())
                || !plate
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
                || !plate.as_bytes()[..2].iter().all(u8::is_ascii_digit)
            {
                p.add(
                    format!("{field}.coach_trip.vehicle_plate"),
                    "a registration plate is the province's two digits, a series and a number, e.g. 85B-012.34",
                );
            }
            required_text(
                p,
                &format!("{field}.coach_trip.trip"),
                &t.trip,
                MAX_LABEL_CHARS,
            );
            if let Some(at) = &t.departure_time
                && let Err(e) = time_from_proto(at, &format!("{field}.coach_trip.departure_time"))
            {
                p.add(e.field, e.description);
            }
        }
        (Placement::HospitalWard, pb::place::Kind::HospitalWard(w)) => {
            required_text(
                p,
                &format!("{field}.hospital_ward.ward"),
                &w.ward,
                MAX_TEXT_CHARS,
            );
        }
        _ => p.add(
            &field,
            format!(
                "this facility is a {}: its place is a {expected}",
                facility.kind.as_str_name()
            ),
        ),
    }
}

/// Checks a declaration's arrival and expected departure against `now`.
pub fn period(
    p: &mut Problems,
    prefix: &str,
    arrival: Option<&prost_types::Timestamp>,
    departure: Option<&prost_types::Timestamp>,
    now: OffsetDateTime,
) -> Option<(OffsetDateTime, OffsetDateTime)> {
    let arrival_field = format!("{prefix}.arrival_time");
    let departure_field = format!("{prefix}.expected_departure_time");
    let arrival = time(p, &arrival_field, arrival);
    let departure = time(p, &departure_field, departure);
    if let Some(a) = arrival
        && a > now + CLOCK_TOLERANCE
    {
        p.add(
            &arrival_field,
            "is in the future on the suite's clock: a guest is declared once arrived",
        );
    }
    if let (Some(a), Some(d)) = (arrival, departure)
        && d <= a
    {
        p.add(&departure_field, "is not after arrival_time");
    }
    Some((arrival?, departure?))
}

/// Checks a whole declaration sent to `facility`.
pub fn declaration(
    facility: &Facility,
    sent: Option<&pb::Declaration>,
    now: OffsetDateTime,
    today: CivilDate,
    taken: &HashSet<String>,
) -> Result<Draft, Vec<BadField>> {
    let mut p = Problems::default();
    let Some(d) = sent else {
        return Err(vec![BadField::new("declaration", "is required")]);
    };
    let guests = guests(&mut p, "declaration", facility, &d.guests, today, taken);
    place(&mut p, "declaration", facility, d.place.as_ref());
    let period = period(
        &mut p,
        "declaration",
        d.arrival_time.as_ref(),
        d.expected_departure_time.as_ref(),
        now,
    );
    match period {
        Some((arrival, expected_departure)) if p.is_empty() => Ok(Draft {
            guests,
            place: d.place.clone().unwrap_or_default(),
            arrival,
            expected_departure,
        }),
        _ => Err(p.0),
    }
}

/// Checks a declaration or request id: letters, digits and `-`, 1 to 63, starting with a letter
/// for a declaration id; a request id is 1 to 128 printable ASCII characters without braces.
pub fn request_id(p: &mut Problems, field: &str, id: &str) {
    if id.len() > 128
        || id
            .bytes()
            .any(|b| !(0x21..0x7f).contains(&b) || b == b'{' || b == b'}' || b == b'/')
    {
        p.add(
            field,
            "is 1 to 128 printable ASCII characters without spaces, braces or '/' (a UUID is usual)",
        );
    }
}
