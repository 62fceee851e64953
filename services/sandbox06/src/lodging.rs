//! Lodging declarations from the command line: `declare` declares citizens (by ID number, their
//! data read from the running suite, or by VNeID share code) at a facility, and `declarations`
//! lists a facility's, both over REST at the edge's address with a token of the client given
//! (the admin client, which may declare for every facility, by default).

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use serde_json::{Value, json};

use crate::admin::{AdminClient, print};
use sandbox06::Config;

/// The scopes the commands ask for: the lodging service's.
const SCOPES: &str = "lodging.read lodging.declare";

/// `sandbox06 declare`.
#[derive(Args, Debug, Clone)]
pub struct DeclareArgs {
    /// The facility's id, e.g. demo-hotel-phan-rang.
    pub facility: String,
    /// The guests: personal ID numbers (their name, date of birth and sex are read from the
    /// running suite's records), or `share:<code>` for a VNeID share code shown at the desk.
    #[arg(required = true)]
    pub guests: Vec<String>,
    /// The room, at a lodging house or hotel.
    #[arg(long)]
    pub room: Option<String>,
    /// The ward, at a medical facility: the first guest is the patient, the others their carers.
    #[arg(long)]
    pub ward: Option<String>,
    /// The patient's bed, at a medical facility.
    #[arg(long)]
    pub bed: Option<String>,
    /// The coach's plate, at a coach operator (with `--trip`), e.g. 85B-012.34.
    #[arg(long)]
    pub vehicle: Option<String>,
    /// The trip, at a coach operator.
    #[arg(long)]
    pub trip: Option<String>,
    /// The passengers' seats in guest order, comma-separated (default 1, 2, …).
    #[arg(long, value_delimiter = ',')]
    pub seats: Vec<String>,
    /// Arrival, RFC 3339 (default: the suite's clock now).
    #[arg(long)]
    pub arrival: Option<String>,
    /// Nights of the stay, for the expected departure (default 1).
    #[arg(long, default_value_t = 1)]
    pub nights: u16,
    /// Reason of stay: a national code 1–20 or a value's name (default 1, tourism).
    #[arg(long, default_value = "REASON_OF_STAY_TOURISM")]
    pub reason: String,
    /// The declaration's id in the facility (default: one the service makes).
    #[arg(long)]
    pub id: Option<String>,
    /// The request's key: a retry with the same key answers the first declaration.
    #[arg(long)]
    pub request_id: Option<String>,
    /// Check only: nothing is recorded.
    #[arg(long)]
    pub validate_only: bool,
    /// The single sign-on client to declare as, with its registered secret (default: the admin
    /// client).
    #[arg(long, default_value = "sandbox06-admin")]
    pub client: String,
}

/// `sandbox06 declarations`.
#[derive(Args, Debug, Clone)]
pub struct DeclarationsArgs {
    /// The facility's id, or `-` for every facility the client may see.
    pub facility: String,
    /// Only these: staying, checked-out or cancelled.
    #[arg(long)]
    pub state: Option<String>,
    /// Only the declarations of this guest (ID number, passport or document number).
    #[arg(long)]
    pub guest: Option<String>,
    /// At most this many (1 to 500).
    #[arg(long, default_value_t = 50)]
    pub limit: u16,
    /// The single sign-on client to list as (default: the admin client).
    #[arg(long, default_value = "sandbox06-admin")]
    pub client: String,
}

fn path_segment(text: &str) -> String {
    form_urlencoded::byte_serialize(text.trim().as_bytes()).collect()
}

/// A reason of stay as the JSON mapping takes it: a code's number, or a value's name.
fn reason_value(reason: &str) -> Value {
    match reason.trim().parse::<u8>() {
        Ok(code) => json!(code),
        Err(_) => json!(reason.trim().to_ascii_uppercase()),
    }
}

/// The place of the declaration, from the one of `--room`, `--ward` or `--vehicle`/`--trip`.
fn place(args: &DeclareArgs) -> anyhow::Result<Value> {
    match (&args.room, &args.ward, &args.vehicle, &args.trip) {
        (Some(room), None, None, None) => Ok(json!({"room": {"room": room}})),
        (None, Some(ward), None, None) => Ok(json!({"hospitalWard": {"ward": ward}})),
        (None, None, Some(vehicle), Some(trip)) => {
            Ok(json!({"coachTrip": {"vehiclePlate": vehicle, "trip": trip}}))
        }
        (None, None, Some(_), None) | (None, None, None, Some(_)) => {
            bail!("a coach trip needs both --vehicle and --trip")
        }
        _ => bail!("give one place: --room, --ward, or --vehicle with --trip"),
    }
}

/// A guest of the declaration: `share:<code>`, or an ID number whose record `record` reads.
fn guest(text: &str, record: Option<&Value>) -> anyhow::Result<Value> {
    if let Some(code) = text.strip_prefix("share:") {
        return Ok(json!({"vneidShare": {"shareCode": code.trim()}}));
    }
    let record = record.with_context(|| format!("no record of {text}"))?;
    let citizen = &record["citizen"];
    Ok(json!({"citizen": {
        "citizenId": text.trim(),
        "fullName": citizen["fullName"],
        "dateOfBirth": citizen["dateOfBirth"],
        "sex": citizen["sex"],
    }}))
}

/// `sandbox06 declare <facility> <guest>... (--room R | --ward W | --vehicle P --trip T)`:
/// declares the guests at the facility and prints the declaration as recorded, with its
/// deadline verdict and findings.
pub async fn declare(config: &Config, args: &DeclareArgs) -> anyhow::Result<ExitCode> {
    let place = place(args)?;
    let client = AdminClient::connect_as(config, &args.client, SCOPES).await?;
    // The guests' records, read as `sandbox06 citizen` reads them.
    let records = AdminClient::connect_as(config, "sandbox06-admin", "citizen.read").await?;
    let arrival = match &args.arrival {
        Some(at) => time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
            .with_context(|| format!("--arrival {at:?} is not an RFC 3339 time"))?,
        None => {
            let clock = records
                .call(http::Method::GET, "/v1/admin/clock", None)
                .await;
            clock
                .ok()
                .and_then(|c| c["time"].as_str().map(str::to_owned))
                .and_then(|t| {
                    time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_else(time::OffsetDateTime::now_utc)
        }
    };
    let departure = arrival + time::Duration::days(i64::from(args.nights.max(1)));
    let rfc3339 = |at: time::OffsetDateTime| {
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let mut guests = Vec::new();
    for (i, text) in args.guests.iter().enumerate() {
        let record = if text.starts_with("share:") {
            None
        } else {
            Some(
                records
                    .call(
                        http::Method::GET,
                        &format!("/v1/citizens/{}", path_segment(text)),
                        None,
                    )
                    .await?,
            )
        };
        let mut one = guest(text, record.as_ref())?;
        one["guestId"] = json!(format!("g{}", i + 1));
        one["reasonOfStay"] = reason_value(&args.reason);
        if args.ward.is_some() {
            if i == 0 {
                one["hospitalRole"] = json!("HOSPITAL_ROLE_PATIENT");
                if let Some(bed) = &args.bed {
                    one["bed"] = json!(bed);
                }
            } else {
                one["hospitalRole"] = json!("HOSPITAL_ROLE_CARER");
                one["patientGuestId"] = json!("g1");
            }
        }
        if args.vehicle.is_some() {
            let seat = args.seats.get(i).cloned().unwrap_or((i + 1).to_string());
            one["seat"] = json!(seat);
        }
        guests.push(one);
    }
    let declaration = json!({
        "place": place,
        "arrivalTime": rfc3339(arrival),
        "expectedDepartureTime": rfc3339(departure),
        "guests": guests,
    });
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(id) = &args.id {
        query.append_pair("declaration_id", id);
    }
    if let Some(key) = &args.request_id {
        query.append_pair("request_id", key);
    }
    if args.validate_only {
        query.append_pair("validate_only", "true");
    }
    let query = query.finish();
    let path = format!(
        "/v1/facilities/{}/declarations{}{query}",
        path_segment(&args.facility),
        if query.is_empty() { "" } else { "?" }
    );
    print(
        &client
            .call(http::Method::POST, &path, Some(declaration))
            .await?,
    )
}

/// `sandbox06 declarations <facility|-> [--state …] [--guest …] [--limit N]`: the facility's
/// declarations, newest arrival first, as the service lists them.
pub async fn declarations(config: &Config, args: &DeclarationsArgs) -> anyhow::Result<ExitCode> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("page_size", &args.limit.to_string());
    if let Some(state) = &args.state {
        let state = match state.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "staying" => "DECLARATION_STATE_STAYING",
            "checked-out" => "DECLARATION_STATE_CHECKED_OUT",
            "cancelled" => "DECLARATION_STATE_CANCELLED",
            other => bail!("--state {other:?}: staying, checked-out or cancelled"),
        };
        query.append_pair("state", state);
    }
    if let Some(guest) = &args.guest {
        query.append_pair("document_number", guest.trim());
    }
    let client = AdminClient::connect_as(config, &args.client, SCOPES).await?;
    let path = format!(
        "/v1/facilities/{}/declarations?{}",
        path_segment(&args.facility),
        query.finish()
    );
    print(&client.call(http::Method::GET, &path, None).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(room: Option<&str>, ward: Option<&str>, coach: Option<(&str, &str)>) -> DeclareArgs {
        DeclareArgs {
            facility: "demo-hotel-phan-rang".into(),
            guests: vec!["001091012345".into()],
            room: room.map(str::to_owned),
            ward: ward.map(str::to_owned),
            bed: None,
            vehicle: coach.map(|c| c.0.to_owned()),
            trip: coach.map(|c| c.1.to_owned()),
            seats: Vec::new(),
            arrival: None,
            nights: 1,
            reason: "1".into(),
            id: None,
            request_id: None,
            validate_only: false,
            client: "sandbox06-admin".into(),
        }
    }

    #[test]
    fn one_place_is_given() {
        assert_eq!(
            place(&args(Some("305"), None, None)).unwrap(),
            json!({"room": {"room": "305"}})
        );
        assert_eq!(
            place(&args(None, None, Some(("85B-012.34", "PR-HCM")))).unwrap(),
            json!({"coachTrip": {"vehiclePlate": "85B-012.34", "trip": "PR-HCM"}})
        );
        assert!(place(&args(None, None, None)).is_err());
        assert!(place(&args(Some("1"), Some("A"), None)).is_err());
    }

    #[test]
    fn a_reason_is_a_code_or_a_name() {
        assert_eq!(reason_value("2"), json!(2));
        assert_eq!(
            reason_value("reason_of_stay_tourism"),
            json!("REASON_OF_STAY_TOURISM")
        );
    }

    #[test]
    fn a_share_code_guest_carries_the_code() {
        assert_eq!(
            guest("share:abc.def.ghi", None).unwrap(),
            json!({"vneidShare": {"shareCode": "abc.def.ghi"}})
        );
        assert!(guest("001091012345", None).is_err());
    }
}
