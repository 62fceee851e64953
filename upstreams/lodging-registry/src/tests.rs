#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use sandbox06_runtime::error::reason_of;
use sandbox06_store::MemoryStore;
use tonic_types::StatusExt as _;

use super::*;
use pb::RejectionReason as R;
use sandbox06_proto::types::{self, DocumentType, ReasonOfStay};

const HOA: &str = "079195034567";
const NAM: &str = "031075045678";
const DEAD: &str = "001090012345";

/// Records by ID number; an unreachable database when `down`.
#[derive(Default)]
struct FakeCitizens {
    records: HashMap<String, pop::Citizen>,
    down: bool,
}

#[tonic::async_trait]
impl Citizens for FakeCitizens {
    async fn citizen(&self, citizen_id: &str) -> Result<Option<pop::Citizen>, Status> {
        if self.down {
            return Err(Status::unavailable("tcp connect error"));
        }
        Ok(self.records.get(citizen_id).cloned())
    }
}

fn record(id: &str, name: &str, year: i32, deceased: bool) -> pop::Citizen {
    let mut c = pop::Citizen {
        citizen_id: id.into(),
        full_name: name.into(),
        date_of_birth: Some(types::Date {
            year,
            month: 3,
            day: 4,
        }),
        ..Default::default()
    };
    c.set_life_status(if deceased {
        types::LifeStatus::Deceased
    } else {
        types::LifeStatus::Alive
    });
    c
}

fn registry_with(down: bool) -> LodgingRegistry {
    let records = [
        record(HOA, "Lê Thị Hoa", 1995, false),
        record(NAM, "Phạm Văn Nam", 1975, false),
        record(DEAD, "Nguyễn Văn Mất", 1990, true),
    ]
    .into_iter()
    .map(|c| (c.citizen_id.clone(), c))
    .collect();
    LodgingRegistry::new(
        Arc::new(FakeCitizens { records, down }),
        Arc::new(MemoryStore::new()),
        Clock::new(time::macros::date!(2026 - 11 - 27)),
    )
}

fn registry() -> LodgingRegistry {
    registry_with(false)
}

/// One now for every test: the same request built twice is the same request.
static NOW: std::sync::LazyLock<time::OffsetDateTime> =
    std::sync::LazyLock::new(time::OffsetDateTime::now_utc);

fn ago(hours: i64) -> prost_types::Timestamp {
    timestamp_to_proto(*NOW - time::Duration::hours(hours))
}

fn citizen(id: &str, name: &str, year: i32) -> pb::RegistryGuest {
    pb::RegistryGuest {
        full_name: name.into(),
        document_type: DocumentType::Cccd as i32,
        document_number: id.into(),
        citizen_id: id.into(),
        date_of_birth: Some(types::Date {
            year,
            month: 3,
            day: 4,
        }),
        nationality: "VNM".into(),
        reason_of_stay: ReasonOfStay::Tourism as i32,
        ..Default::default()
    }
}

fn foreigner() -> pb::RegistryGuest {
    pb::RegistryGuest {
        full_name: "KIM MIN JUN".into(),
        document_type: DocumentType::Passport as i32,
        document_number: "M12345678".into(),
        date_of_birth: Some(types::Date {
            year: 1988,
            month: 1,
            day: 2,
        }),
        nationality: "KOR".into(),
        reason_of_stay: ReasonOfStay::Tourism as i32,
        visa_number: "EV1234567".into(),
        stay_permitted_until: Some(types::Date {
            year: 2027,
            month: 1,
            day: 1,
        }),
        ..Default::default()
    }
}

fn submission(id: &str, revision: i64) -> pb::SubmitDeclarationRequest {
    pb::SubmitDeclarationRequest {
        declaration_id: id.into(),
        revision,
        facility_code: "56-KS-000123".into(),
        guests: vec![citizen(HOA, "Lê Thị Hoa", 1995), foreigner()],
        place: "Phòng 305".into(),
        arrival_time: Some(ago(3)),
        expected_departure_time: Some(ago(-48)),
    }
}

fn receipt(outcome: &Outcome) -> &pb::Receipt {
    match outcome {
        Outcome::Receipt(r) => r,
        Outcome::Rejection(r) => panic!("rejected: {r:?}"),
    }
}

fn rejection(outcome: &Outcome) -> (R, i32) {
    match outcome {
        Outcome::Rejection(r) => (r.reason(), r.guest_index),
        Outcome::Receipt(r) => panic!("accepted: {r:?}"),
    }
}

#[tokio::test]
async fn a_valid_declaration_gets_a_receipt_and_is_held() {
    let registry = registry();
    let (outcome, replayed) = registry.submit(submission("d-1", 1)).await.unwrap();
    assert!(!replayed);
    let number = &receipt(&outcome).receipt_number;
    assert!(number.starts_with("LT56-"), "{number}");
    assert_eq!(number.len(), "LT56-20261127-000123".len(), "{number}");
    let held = registry.get("d-1").await.unwrap();
    assert_eq!(held.revision, 1);
    assert_eq!(held.guests.len(), 2);
    assert_eq!(held.receipts, vec![receipt(&outcome).clone()]);
    assert!(!held.cancelled);
}

#[tokio::test]
async fn a_repeated_submission_answers_the_first_answer() {
    let registry = registry();
    let (first, _) = registry.submit(submission("d-1", 1)).await.unwrap();
    let (again, replayed) = registry.submit(submission("d-1", 1)).await.unwrap();
    assert!(replayed);
    assert_eq!(first, again);
    assert_eq!(registry.get("d-1").await.unwrap().receipts.len(), 1);

    // A rejection is an answer too, replayed as well.
    let mut bad = submission("d-2", 1);
    bad.facility_code = "99-NOPE".into();
    let (first, _) = registry.submit(bad.clone()).await.unwrap();
    let (again, replayed) = registry.submit(bad).await.unwrap();
    assert_eq!(rejection(&first), (R::UnknownFacility, -1));
    assert!(replayed);
    assert_eq!(first, again);
}

#[tokio::test]
async fn receipt_numbers_depend_on_the_declaration_and_revision_only() {
    let (a, b) = (registry(), registry());
    let (one, _) = a.submit(submission("d-1", 1)).await.unwrap();
    let (other, _) = b.submit(submission("d-1", 1)).await.unwrap();
    assert_eq!(receipt(&one).receipt_number, receipt(&other).receipt_number);
    let (two, _) = a.submit(submission("d-1", 2)).await.unwrap();
    assert_ne!(receipt(&one).receipt_number, receipt(&two).receipt_number);
}

#[tokio::test]
async fn the_same_revision_with_other_content_is_a_conflict() {
    let registry = registry();
    registry.submit(submission("d-1", 1)).await.unwrap();
    let mut changed = submission("d-1", 1);
    changed.place = "Phòng 306".into();
    let status = Status::from(registry.submit(changed).await.unwrap_err());
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(reason_of(&status).as_deref(), Some("REVISION_CONFLICT"));
    // A cancellation with a revision a submission took is a conflict too.
    let cancel = pb::CancelDeclarationRequest {
        declaration_id: "d-1".into(),
        revision: 1,
        reason: "made in error".into(),
    };
    let status = Status::from(registry.cancel(cancel).await.unwrap_err());
    assert_eq!(reason_of(&status).as_deref(), Some("REVISION_CONFLICT"));
}

#[tokio::test]
async fn a_revision_below_the_latest_is_stale() {
    let registry = registry();
    registry.submit(submission("d-1", 3)).await.unwrap();
    let status = Status::from(registry.submit(submission("d-1", 2)).await.unwrap_err());
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(reason_of(&status).as_deref(), Some("STALE_REVISION"));
    let info = status.get_details_error_info().unwrap();
    assert_eq!(info.metadata["latest_revision"], "3");
    // The latest itself still replays.
    assert!(registry.submit(submission("d-1", 3)).await.unwrap().1);
}

#[tokio::test]
async fn an_amendment_replaces_the_content_and_adds_a_receipt() {
    let registry = registry();
    registry.submit(submission("d-1", 1)).await.unwrap();
    let mut amended = submission("d-1", 2);
    amended.guests.pop();
    registry.submit(amended).await.unwrap();
    let held = registry.get("d-1").await.unwrap();
    assert_eq!(
        (held.revision, held.guests.len(), held.receipts.len()),
        (2, 1, 2)
    );
}

#[tokio::test]
async fn departures_cancellations_and_reads_of_an_unknown_declaration_are_not_found() {
    let registry = registry();
    let departure = pb::ReportDepartureRequest {
        declaration_id: "nope".into(),
        revision: 2,
        document_numbers: vec![],
        departure_time: Some(ago(1)),
    };
    let status = Status::from(registry.report_departure(departure).await.unwrap_err());
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(reason_of(&status).as_deref(), Some("DECLARATION_NOT_FOUND"));
    let cancel = pb::CancelDeclarationRequest {
        declaration_id: "nope".into(),
        revision: 2,
        reason: "made in error".into(),
    };
    let status = Status::from(registry.cancel(cancel).await.unwrap_err());
    assert_eq!(reason_of(&status).as_deref(), Some("DECLARATION_NOT_FOUND"));
    let status = Status::from(registry.get("nope").await.unwrap_err());
    assert_eq!(reason_of(&status).as_deref(), Some("DECLARATION_NOT_FOUND"));

    // A declaration only ever rejected is not held either.
    let mut bad = submission("d-2", 1);
    bad.facility_code = "99-NOPE".into();
    registry.submit(bad).await.unwrap();
    let status = Status::from(registry.get("d-2").await.unwrap_err());
    assert_eq!(reason_of(&status).as_deref(), Some("DECLARATION_NOT_FOUND"));
}

#[tokio::test]
async fn departures_and_cancellation_are_recorded_and_a_cancelled_declaration_refuses_more() {
    let registry = registry();
    registry.submit(submission("d-1", 1)).await.unwrap();
    let some = pb::ReportDepartureRequest {
        declaration_id: "d-1".into(),
        revision: 2,
        document_numbers: vec![HOA.into()],
        departure_time: Some(ago(1)),
    };
    receipt(&registry.report_departure(some).await.unwrap().0);
    assert!(registry.get("d-1").await.unwrap().departure_time.is_none());
    let rest = pb::ReportDepartureRequest {
        declaration_id: "d-1".into(),
        revision: 3,
        document_numbers: vec!["M12345678".into()],
        departure_time: Some(ago(1)),
    };
    receipt(&registry.report_departure(rest).await.unwrap().0);
    assert!(registry.get("d-1").await.unwrap().departure_time.is_some());

    let unknown = pb::ReportDepartureRequest {
        declaration_id: "d-1".into(),
        revision: 4,
        document_numbers: vec!["000000000000".into()],
        departure_time: Some(ago(1)),
    };
    let status = Status::from(registry.report_departure(unknown).await.unwrap_err());
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(format!("{status:?}").contains("document_numbers[0]"));

    let cancel = pb::CancelDeclarationRequest {
        declaration_id: "d-1".into(),
        revision: 4,
        reason: "made in error".into(),
    };
    receipt(&registry.cancel(cancel.clone()).await.unwrap().0);
    assert!(registry.get("d-1").await.unwrap().cancelled);
    assert!(registry.cancel(cancel).await.unwrap().1);
    let again = pb::CancelDeclarationRequest {
        declaration_id: "d-1".into(),
        revision: 5,
        reason: "again".into(),
    };
    let (outcome, _) = registry.cancel(again).await.unwrap();
    assert_eq!(rejection(&outcome), (R::DeclarationCancelled, -1));
}

#[tokio::test]
async fn a_departure_before_the_arrival_is_refused() {
    let registry = registry();
    registry.submit(submission("d-1", 1)).await.unwrap();
    let early = pb::ReportDepartureRequest {
        declaration_id: "d-1".into(),
        revision: 2,
        document_numbers: vec![],
        departure_time: Some(ago(10)),
    };
    let (outcome, _) = registry.report_departure(early).await.unwrap();
    assert_eq!(rejection(&outcome), (R::InvalidPeriod, -1));
}

/// Each bad field of a submission: the rejection it gets, or the field INVALID_ARGUMENT names.
#[tokio::test]
async fn each_bad_field_is_rejected_or_named() {
    type Edit = fn(&mut pb::SubmitDeclarationRequest);
    let rejected: Vec<(&str, Edit, R, i32)> = vec![
        (
            "unknown facility",
            |r| r.facility_code = "KS-1".into(),
            R::UnknownFacility,
            -1,
        ),
        (
            "no such province",
            |r| r.facility_code = "99-KS-1".into(),
            R::UnknownFacility,
            -1,
        ),
        (
            "departure before arrival",
            |r| r.expected_departure_time = Some(ago(5)),
            R::InvalidPeriod,
            -1,
        ),
        (
            "arrival in the future",
            |r| {
                r.arrival_time = Some(ago(-24));
                r.expected_departure_time = Some(ago(-48));
            },
            R::InvalidPeriod,
            -1,
        ),
        (
            "no name",
            |r| r.guests[1].full_name = " ".into(),
            R::MissingField,
            1,
        ),
        (
            "no date of birth",
            |r| r.guests[0].date_of_birth = None,
            R::MissingField,
            0,
        ),
        (
            "no reason of stay",
            |r| r.guests[0].reason_of_stay = 0,
            R::MissingField,
            0,
        ),
        (
            "no document type",
            |r| r.guests[0].document_type = 0,
            R::MissingField,
            0,
        ),
        (
            "no nationality",
            |r| r.guests[1].nationality = String::new(),
            R::MissingField,
            1,
        ),
        (
            "citizen without an ID number",
            |r| {
                r.guests[0].document_type = DocumentType::Passport as i32;
                r.guests[0].document_number = "C1234567".into();
                r.guests[0].citizen_id = String::new();
            },
            R::MissingField,
            0,
        ),
        (
            "malformed ID number",
            |r| {
                r.guests[0].citizen_id = "07919503456".into();
                r.guests[0].document_number = "07919503456".into();
            },
            R::InvalidDocument,
            0,
        ),
        (
            "CCCD number not the ID number",
            |r| r.guests[0].document_number = NAM.into(),
            R::InvalidDocument,
            0,
        ),
        (
            "CMND of 10 digits",
            |r| {
                r.guests[0].document_type = DocumentType::Cmnd as i32;
                r.guests[0].document_number = "0123456789".into();
            },
            R::InvalidDocument,
            0,
        ),
        (
            "Vietnamese passport of the wrong form",
            |r| {
                r.guests[0].document_type = DocumentType::Passport as i32;
                r.guests[0].document_number = "12345678".into();
            },
            R::InvalidDocument,
            0,
        ),
        (
            "CCCD for a foreigner",
            |r| r.guests[1].document_type = DocumentType::Cccd as i32,
            R::InvalidDocument,
            1,
        ),
        (
            "passport without a number",
            |r| r.guests[1].document_number = String::new(),
            R::InvalidDocument,
            1,
        ),
        (
            "passport number too long",
            |r| r.guests[1].document_number = "M123456789".into(),
            R::InvalidDocument,
            1,
        ),
        (
            "foreigner with an ID number",
            |r| r.guests[1].citizen_id = HOA.into(),
            R::InvalidDocument,
            1,
        ),
        (
            "nationality not ICAO",
            |r| r.guests[1].nationality = "Korea".into(),
            R::InvalidNationality,
            1,
        ),
        (
            "nationality lower case",
            |r| r.guests[1].nationality = "kor".into(),
            R::InvalidNationality,
            1,
        ),
        (
            "no visa",
            |r| r.guests[1].visa_number = String::new(),
            R::MissingStayPermit,
            1,
        ),
        (
            "no permitted stay",
            |r| r.guests[1].stay_permitted_until = None,
            R::MissingStayPermit,
            1,
        ),
        (
            "the same citizen twice",
            |r| {
                let again = r.guests[0].clone();
                r.guests.push(again);
            },
            R::DuplicateGuest,
            2,
        ),
        (
            "no such citizen",
            |r| {
                r.guests[0].citizen_id = "079195099999".into();
                r.guests[0].document_number = "079195099999".into();
            },
            R::CitizenNotFound,
            0,
        ),
        (
            "deceased",
            |r| r.guests[0] = citizen(DEAD, "Nguyễn Văn Mất", 1990),
            R::CitizenDeceased,
            0,
        ),
        (
            "another name",
            |r| r.guests[0].full_name = "Lê Thị Hồng".into(),
            R::IdentityMismatch,
            0,
        ),
        (
            "another birth date",
            |r| {
                r.guests[0].date_of_birth = Some(types::Date {
                    year: 1995,
                    month: 3,
                    day: 5,
                })
            },
            R::IdentityMismatch,
            0,
        ),
    ];
    let registry = registry();
    for (n, (what, edit, reason, index)) in rejected.into_iter().enumerate() {
        let mut request = submission(&format!("r-{n}"), 1);
        edit(&mut request);
        let (outcome, _) = registry
            .submit(request)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(rejection(&outcome), (reason, index), "{what}");
    }

    // Without diacritics the name is the same.
    let mut request = submission("plain-name", 1);
    request.guests[0].full_name = "LE THI HOA".into();
    receipt(&registry.submit(request).await.unwrap().0);

    let invalid: Vec<(&str, Edit)> = vec![
        ("declaration_id", |r| r.declaration_id = String::new()),
        ("declaration_id", |r| r.declaration_id = "a{b}".into()),
        ("revision", |r| r.revision = 0),
        ("facility_code", |r| r.facility_code = String::new()),
        ("guests", |r| r.guests.clear()),
        ("guests", |r| r.guests = vec![foreigner(); MAX_GUESTS + 1]),
        ("arrival_time", |r| r.arrival_time = None),
        ("expected_departure_time", |r| {
            r.expected_departure_time = None
        }),
        ("arrival_time", |r| {
            r.arrival_time = Some(prost_types::Timestamp {
                seconds: 0,
                nanos: -1,
            })
        }),
        ("guests[0].date_of_birth", |r| {
            r.guests[0].date_of_birth = Some(types::Date {
                year: 1995,
                month: 2,
                day: 30,
            })
        }),
        ("guests[1].stay_permitted_until", |r| {
            r.guests[1].stay_permitted_until = Some(types::Date {
                year: 2027,
                month: 13,
                day: 1,
            })
        }),
        ("guests[0].document_type", |r| {
            r.guests[0].document_type = 10
        }),
        ("guests[0].reason_of_stay", |r| {
            r.guests[0].reason_of_stay = 21
        }),
        ("guests[1].sex", |r| r.guests[1].sex = 7),
        ("guests[0].residence_status", |r| {
            r.guests[0].residence_status = 4
        }),
    ];
    for (n, (field, edit)) in invalid.into_iter().enumerate() {
        let mut request = submission(&format!("i-{n}"), 1);
        edit(&mut request);
        let status = Status::from(registry.submit(request).await.unwrap_err());
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        let fields: Vec<String> = status
            .get_details_bad_request()
            .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
            .unwrap_or_default();
        assert_eq!(fields, vec![field.to_owned()], "{status:?}");
    }
    let cancel = pb::CancelDeclarationRequest {
        declaration_id: "plain-name".into(),
        revision: 2,
        reason: " ".into(),
    };
    let status = Status::from(registry.cancel(cancel).await.unwrap_err());
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn an_unreachable_population_database_is_unavailable_and_answers_nothing() {
    let registry = registry_with(true);
    let status = Status::from(registry.submit(submission("d-1", 1)).await.unwrap_err());
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason_of(&status).as_deref(), Some("UPSTREAM_UNAVAILABLE"));
    // Nothing was answered: a later delivery is judged anew.
    assert!(
        registry
            .store
            .get(&answer_key("d-1", 1))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn an_answer_stored_before_its_effect_is_recorded_on_the_repeat() {
    let registry = registry();
    let write = Write::Submit(submission("d-1", 1));
    let outcome = registry.judge(&write).await.unwrap();
    registry
        .store
        .put(
            &answer_key("d-1", 1),
            &encode_answer(&write.digest(), &outcome),
            None,
        )
        .await
        .unwrap();
    let (again, replayed) = registry.submit(submission("d-1", 1)).await.unwrap();
    assert!(replayed);
    assert_eq!(again, outcome);
    assert_eq!(registry.get("d-1").await.unwrap().receipts.len(), 1);
}
