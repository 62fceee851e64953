//! The lodging service through the edge port, as hotel, hospital and coach integrators use it:
//! declarations with their verdicts, the registry's answers through the outbox, retries,
//! outages, share codes, paging and every bad field.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::time::Duration;

use figment::{Figment, providers::Serialized};
use sandbox06_proto::{
    admin::{self as admin, admin_service_client::AdminServiceClient},
    citizen as cit,
    lodging::{
        self as pb, DeadlineVerdict, DeclarationState, DeliveryStatus, FindingType,
        lodging_service_client::LodgingServiceClient,
    },
    lodgingregistry::{self as reg, lodging_registry_service_client::LodgingRegistryServiceClient},
    types::{self, ReasonOfStay},
};
use sandbox06_runtime::error::{field_violations_of, reason_of};
use sandbox06_testkit::{
    Bearer, Edge, Harness, client_token, personas, redis_url, start_with, test_config_with,
    unique_namespace,
};
use tonic::{Code, Status, transport::Channel};

const HOTEL: &str = "demo-hotel-phan-rang";
const HOSPITAL: &str = "demo-hospital-khanh-hoa";
const COACH: &str = "demo-coach-phan-rang-hcm";

/// The suite at 10:00 in Vietnam on its today: a declaration of guests who arrived an hour ago is
/// then on time (before 23:00) whenever the test runs.
async fn start() -> Harness {
    let h = sandbox06_testkit::start().await;
    h.set_time_of_day(10).await;
    h
}

type Lodging = LodgingServiceClient<Edge>;

/// A lodging client through the edge with the token of demo client `client`.
async fn as_client(h: &Harness, client: &str) -> Lodging {
    let token = client_token(h.suite.edge, client, &format!("{client}-secret"), None).await;
    LodgingServiceClient::new(tonic::service::interceptor::InterceptedService::new(
        h.channel.clone(),
        Bearer::new(&token),
    ))
}

fn admin(h: &Harness) -> AdminServiceClient<Edge> {
    AdminServiceClient::new(h.edge.clone())
}

fn ts(at: time::OffsetDateTime) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.unix_timestamp(),
        nanos: 0,
    }
}

/// The suite's clock now.
async fn now(h: &Harness) -> time::OffsetDateTime {
    let clock = admin(h)
        .get_clock(admin::GetClockRequest::default())
        .await
        .unwrap()
        .into_inner();
    let at = clock.time.unwrap();
    time::OffsetDateTime::from_unix_timestamp(at.seconds).unwrap()
}

/// A citizen guest as the population database records them.
async fn citizen(h: &Harness, id: &str) -> pb::Guest {
    let record = h
        .citizens()
        .get_citizen(cit::GetCitizenRequest {
            citizen_id: id.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .citizen
        .unwrap();
    pb::Guest {
        identity: Some(pb::guest::Identity::Citizen(pb::CitizenGuest {
            citizen_id: id.into(),
            full_name: record.full_name,
            date_of_birth: record.date_of_birth,
            sex: record.sex,
            ..Default::default()
        })),
        reason_of_stay: ReasonOfStay::Tourism as i32,
        ..Default::default()
    }
}

fn foreigner() -> pb::Guest {
    pb::Guest {
        identity: Some(pb::guest::Identity::Foreigner(pb::ForeignGuest {
            passport_number: "X1234567".into(),
            nationality: "USA".into(),
            full_name: "SMITH JOHN".into(),
            date_of_birth: Some(types::Date {
                year: 1980,
                month: 5,
                day: 17,
            }),
            sex: types::Sex::Male as i32,
            visa_number: "EV123456".into(),
            stay_permitted_until: Some(types::Date {
                year: 2027,
                month: 1,
                day: 30,
            }),
            document_type: 0,
        })),
        reason_of_stay: ReasonOfStay::Tourism as i32,
        ..Default::default()
    }
}

fn room(number: &str) -> pb::Place {
    pb::Place {
        kind: Some(pb::place::Kind::Room(pb::RoomPlace {
            room: number.into(),
        })),
    }
}

fn declaration(
    guests: Vec<pb::Guest>,
    place: pb::Place,
    arrival: time::OffsetDateTime,
) -> pb::Declaration {
    pb::Declaration {
        guests,
        place: Some(place),
        arrival_time: Some(ts(arrival)),
        expected_departure_time: Some(ts(arrival + time::Duration::days(2))),
        ..Default::default()
    }
}

async fn create(
    client: &mut Lodging,
    facility: &str,
    declaration: pb::Declaration,
    request_id: &str,
) -> Result<pb::Declaration, Status> {
    client
        .create_declaration(pb::CreateDeclarationRequest {
            facility_id: facility.into(),
            declaration: Some(declaration),
            request_id: request_id.into(),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner().declaration.unwrap())
}

/// The fields a refusal names.
fn fields_of(status: &Status) -> Vec<String> {
    field_violations_of(status)
        .into_iter()
        .map(|v| v.field)
        .collect()
}

fn id_of(d: &pb::Declaration) -> String {
    d.name.rsplit('/').next().unwrap().to_owned()
}

/// The registry answers UNAVAILABLE to every delivery until the fault rules are cleared.
async fn registry_down(h: &Harness) {
    h.make_unavailable("lodging-registry", None, 0).await;
}

/// The declaration once the registry answered it (or the last read after `within`).
async fn answered(
    client: &mut Lodging,
    facility: &str,
    id: &str,
    within: Duration,
) -> pb::Declaration {
    let until = tokio::time::Instant::now() + within;
    loop {
        let d = client
            .get_declaration(pb::GetDeclarationRequest {
                facility_id: facility.into(),
                declaration_id: id.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .declaration
            .unwrap();
        let status = d.delivery.as_ref().unwrap().status;
        if status != DeliveryStatus::Pending as i32 || tokio::time::Instant::now() > until {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn registry(h: &Harness) -> LodgingRegistryServiceClient<Channel> {
    LodgingRegistryServiceClient::connect(h.url_of("lodging-registry"))
        .await
        .unwrap()
}

/// What the registry holds of a declaration of `facility_code`.
async fn held(h: &Harness, facility_code: &str, id: &str) -> reg::RegisteredDeclaration {
    registry(h)
        .await
        .get_declaration(reg::GetDeclarationRequest {
            declaration_id: sandbox06_lodging::registry_id(facility_code, id),
        })
        .await
        .unwrap()
        .into_inner()
        .declaration
        .unwrap()
}

#[tokio::test]
async fn a_hotel_night_with_two_citizens_and_a_foreigner_is_accepted_by_the_registry() {
    let h = start().await;
    let mut hotel = as_client(&h, "demo-hotel").await;
    let arrival = now(&h).await - time::Duration::hours(1);
    let guests = vec![
        citizen(&h, personas::HAPPY_PATH).await,
        citizen(&h, personas::MARRIED_WIFE).await,
        foreigner(),
    ];
    let d = create(
        &mut hotel,
        HOTEL,
        declaration(guests, room("305"), arrival),
        "",
    )
    .await
    .unwrap();
    assert_eq!(d.revision, 1);
    assert_eq!(d.state, DeclarationState::Staying as i32);
    assert_eq!(
        d.deadline.as_ref().unwrap().verdict,
        DeadlineVerdict::OnTime as i32
    );
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    assert_eq!(
        d.guests
            .iter()
            .map(|g| g.guest_id.as_str())
            .collect::<Vec<_>>(),
        ["g1", "g2", "g3"]
    );
    let id = id_of(&d);
    let d = answered(&mut hotel, HOTEL, &id, Duration::from_secs(10)).await;
    let delivery = d.delivery.unwrap();
    assert_eq!(
        delivery.status,
        DeliveryStatus::Accepted as i32,
        "{delivery:?}"
    );
    assert!(delivery.receipt_number.starts_with("LT56-"), "{delivery:?}");
    let registered = held(&h, "56-KS-000123", &id).await;
    assert_eq!(registered.receipts.len(), 1);
    assert_eq!(registered.guests.len(), 3);

    // Check out one guest, then the rest: each a revision the registry receives.
    let d = hotel
        .check_out_declaration(pb::CheckOutDeclarationRequest {
            facility_id: HOTEL.into(),
            declaration_id: id.clone(),
            guest_ids: vec!["g3".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .declaration
        .unwrap();
    assert_eq!(d.revision, 2);
    assert_eq!(d.state, DeclarationState::Staying as i32);
    let d = hotel
        .check_out_declaration(pb::CheckOutDeclarationRequest {
            facility_id: HOTEL.into(),
            declaration_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .declaration
        .unwrap();
    assert_eq!(d.state, DeclarationState::CheckedOut as i32);
    let d = answered(&mut hotel, HOTEL, &id, Duration::from_secs(10)).await;
    assert_eq!(d.delivery.as_ref().unwrap().revision, 3);
    assert_eq!(
        d.delivery.as_ref().unwrap().status,
        DeliveryStatus::Accepted as i32,
        "{:?}",
        d.delivery
    );
    // Closed: no more changes.
    let closed = hotel
        .cancel_declaration(pb::CancelDeclarationRequest {
            facility_id: HOTEL.into(),
            declaration_id: id.clone(),
            reason: "khai trùng".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(closed.code(), Code::FailedPrecondition);
    assert_eq!(reason_of(&closed).as_deref(), Some("DECLARATION_CLOSED"));

    // The hotel sees its own declarations, not the hospital's.
    let listed = hotel
        .list_declarations(pb::ListDeclarationsRequest {
            facility_id: "-".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.declarations.len(), 1);
    let denied = hotel
        .list_declarations(pb::ListDeclarationsRequest {
            facility_id: HOSPITAL.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert_eq!(
        reason_of(&denied).as_deref(),
        Some("FACILITY_NOT_PERMITTED")
    );
    let mut hospital = as_client(&h, "demo-hospital").await;
    let denied = hospital
        .get_declaration(pb::GetDeclarationRequest {
            facility_id: HOTEL.into(),
            declaration_id: id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn a_hospital_inpatient_with_a_carer_and_a_late_declaration() {
    let h = start().await;
    let mut hospital = as_client(&h, "demo-hospital").await;
    // Admitted two days ago: declared late.
    let arrival = now(&h).await - time::Duration::days(2);
    let mut patient = citizen(&h, personas::RETIREE_HT).await;
    patient.guest_id = "patient".into();
    patient.hospital_role = pb::HospitalRole::Patient as i32;
    patient.bed = "12".into();
    patient.reason_of_stay = ReasonOfStay::MedicalTreatment as i32;
    let mut carer = citizen(&h, personas::HAPPY_PATH).await;
    carer.hospital_role = pb::HospitalRole::Carer as i32;
    carer.patient_guest_id = "patient".into();
    carer.reason_of_stay = ReasonOfStay::MedicalTreatment as i32;
    let ward = pb::Place {
        kind: Some(pb::place::Kind::HospitalWard(pb::HospitalWardPlace {
            ward: "Khoa Nội tổng hợp".into(),
        })),
    };
    let d = create(
        &mut hospital,
        HOSPITAL,
        declaration(vec![patient, carer], ward, arrival),
        "",
    )
    .await
    .unwrap();
    assert_eq!(
        d.deadline.as_ref().unwrap().verdict,
        DeadlineVerdict::Late as i32
    );
    let d = answered(&mut hospital, HOSPITAL, &id_of(&d), Duration::from_secs(10)).await;
    assert_eq!(
        d.delivery.as_ref().unwrap().status,
        DeliveryStatus::Accepted as i32,
        "{:?}",
        d.delivery
    );
    // A carer without a patient names the field.
    let mut lone = citizen(&h, personas::HAPPY_PATH).await;
    lone.hospital_role = pb::HospitalRole::Carer as i32;
    let ward = pb::Place {
        kind: Some(pb::place::Kind::HospitalWard(pb::HospitalWardPlace {
            ward: "Khoa Nhi".into(),
        })),
    };
    let bad = create(
        &mut hospital,
        HOSPITAL,
        declaration(vec![lone], ward, arrival),
        "",
    )
    .await
    .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let fields: Vec<String> = fields_of(&bad);
    assert_eq!(
        fields,
        ["declaration.guests[0].patient_guest_id"],
        "{bad:?}"
    );
}

#[tokio::test]
async fn findings_are_recorded_not_refused() {
    let h = start().await;
    let mut hotel = as_client(&h, "demo-hotel").await;
    let arrival = now(&h).await - time::Duration::hours(1);
    let mut wrong_name = citizen(&h, personas::HAPPY_PATH).await;
    if let Some(pb::guest::Identity::Citizen(c)) = &mut wrong_name.identity {
        c.full_name = "Trần Văn Sai".into();
    }
    let deceased = citizen(&h, personas::DECEASED).await;
    let d = create(
        &mut hotel,
        HOTEL,
        declaration(vec![wrong_name, deceased], room("101"), arrival),
        "",
    )
    .await
    .unwrap();
    let kinds: Vec<i32> = d.findings.iter().map(|f| f.r#type).collect();
    assert!(
        kinds.contains(&(FindingType::NameMismatch as i32)),
        "{:?}",
        d.findings
    );
    assert!(
        kinds.contains(&(FindingType::CitizenDeceased as i32)),
        "{:?}",
        d.findings
    );
    // The registry, judging as the national system does, rejects it.
    let d = answered(&mut hotel, HOTEL, &id_of(&d), Duration::from_secs(10)).await;
    let delivery = d.delivery.unwrap();
    assert_eq!(
        delivery.status,
        DeliveryStatus::Rejected as i32,
        "{delivery:?}"
    );
    assert!(!delivery.rejection_reason.is_empty());

    // A child alone.
    let child = citizen(&h, personas::CHILD_WITH_CARD).await;
    let d = create(
        &mut hotel,
        HOTEL,
        declaration(vec![child], room("102"), arrival),
        "",
    )
    .await
    .unwrap();
    assert!(
        d.findings
            .iter()
            .any(|f| f.r#type == FindingType::MinorWithoutAdult as i32),
        "{:?}",
        d.findings
    );
}

#[tokio::test]
async fn a_retried_create_answers_the_first_declaration() {
    let h = start().await;
    let mut hotel = as_client(&h, "demo-hotel").await;
    let arrival = now(&h).await - time::Duration::hours(1);
    let sent = declaration(
        vec![citizen(&h, personas::HAPPY_PATH).await],
        room("7"),
        arrival,
    );
    let first = create(&mut hotel, HOTEL, sent.clone(), "req-1")
        .await
        .unwrap();
    let again = create(&mut hotel, HOTEL, sent.clone(), "req-1")
        .await
        .unwrap();
    assert_eq!(first.name, again.name);
    let mut other = sent.clone();
    other.place = Some(room("8"));
    let reused = create(&mut hotel, HOTEL, other, "req-1").await.unwrap_err();
    assert_eq!(reused.code(), Code::AlreadyExists);
    assert_eq!(reason_of(&reused).as_deref(), Some("REQUEST_ID_REUSED"));
    // Concurrent retries: one declaration.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let mut client = hotel.clone();
        let sent = sent.clone();
        tasks.push(tokio::spawn(async move {
            create(&mut client, HOTEL, sent, "req-2")
                .await
                .unwrap()
                .name
        }));
    }
    let mut names = Vec::new();
    for task in tasks {
        names.push(task.await.unwrap());
    }
    names.dedup();
    assert_eq!(names.len(), 1, "{names:?}");
    let listed = hotel
        .list_declarations(pb::ListDeclarationsRequest {
            facility_id: HOTEL.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.declarations.len(), 2);
}

#[tokio::test]
async fn while_the_registry_is_down_declarations_wait_and_are_delivered_once() {
    let h = start().await;
    let mut hotel = as_client(&h, "demo-hotel").await;
    let arrival = now(&h).await - time::Duration::hours(1);
    registry_down(&h).await;
    let guest = foreigner();
    let mut ids = Vec::new();
    for n in 0..100 {
        let d = create(
            &mut hotel,
            HOTEL,
            declaration(vec![guest.clone()], room(&format!("{n}")), arrival),
            "",
        )
        .await
        .unwrap();
        ids.push(id_of(&d));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let d = answered(&mut hotel, HOTEL, &ids[0], Duration::ZERO).await;
    assert_eq!(
        d.delivery.as_ref().unwrap().status,
        DeliveryStatus::Pending as i32
    );
    admin(&h)
        .clear_fault_rules(admin::ClearFaultRulesRequest::default())
        .await
        .unwrap();
    for id in &ids {
        let d = answered(&mut hotel, HOTEL, id, Duration::from_secs(30)).await;
        assert_eq!(
            d.delivery.as_ref().unwrap().status,
            DeliveryStatus::Accepted as i32,
            "{:?}",
            d.delivery
        );
        assert_eq!(held(&h, "56-KS-000123", id).await.receipts.len(), 1);
    }
}

fn coach_trip(plate: &str, trip: &str) -> pb::Place {
    pb::Place {
        kind: Some(pb::place::Kind::CoachTrip(pb::CoachTripPlace {
            vehicle_plate: plate.into(),
            trip: trip.into(),
            departure_time: None,
        })),
    }
}

#[tokio::test]
async fn a_coach_trip_of_forty_passengers_is_declared_with_their_seats() {
    let h = start().await;
    let mut coach = as_client(&h, "demo-coach").await;
    let found = admin(&h)
        .find_citizens(admin::FindCitizensRequest {
            filter: Some(admin::CitizenFilter {
                min_age: Some(18),
                max_age: Some(70),
                deceased: Some(false),
                ..admin::CitizenFilter::default()
            }),
            page_size: 40,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.citizen_ids.len(), 40, "{found:?}");
    let mut passengers = Vec::new();
    for (i, id) in found.citizen_ids.iter().enumerate() {
        let mut guest = citizen(&h, id).await;
        guest.seat = format!("A{:02}", i + 1);
        guest.reason_of_stay = ReasonOfStay::BusinessTrip as i32;
        passengers.push(guest);
    }
    let departure = now(&h).await - time::Duration::minutes(30);
    let trip = declaration(
        passengers.clone(),
        coach_trip("85B-012.34", "PR-HCM-2100"),
        departure,
    );
    let made = create(&mut coach, COACH, trip.clone(), "trip-1")
        .await
        .unwrap();
    assert_eq!(made.guests.len(), 40);
    assert!(made.findings.is_empty(), "{:?}", made.findings);
    assert_eq!(made.guests[39].seat, "A40");
    let done = answered(&mut coach, COACH, &id_of(&made), Duration::from_secs(10)).await;
    assert_eq!(
        done.delivery.as_ref().unwrap().status,
        DeliveryStatus::Accepted as i32,
        "{:?}",
        done.delivery
    );
    assert_eq!(
        held(&h, "56-XK-000078", &id_of(&made)).await.guests.len(),
        40
    );
    // One passenger found by their number among the operator's trips.
    let by_guest = coach
        .list_declarations(pb::ListDeclarationsRequest {
            facility_id: COACH.into(),
            document_number: found.citizen_ids[17].clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_guest.declarations.len(), 1);
    // Two passengers on one seat, a passenger without a seat, a room at a coach operator.
    let mut twice = trip.clone();
    twice.guests[1].seat = "A01".into();
    twice.guests[2].seat = String::new();
    let refused = create(&mut coach, COACH, twice, "trip-2")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let fields: Vec<String> = fields_of(&refused);
    assert!(
        fields.contains(&"declaration.guests[1].seat".to_owned())
            && fields.contains(&"declaration.guests[2].seat".to_owned()),
        "{fields:?}"
    );
    let mut roomed = trip;
    roomed.place = Some(room("12"));
    let refused = create(&mut coach, COACH, roomed, "trip-3")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        field_violations_of(&refused)
            .iter()
            .any(|v| v.field.starts_with("declaration.place")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn every_bad_field_is_named_and_nothing_is_recorded() {
    let h = start().await;
    let mut hotel = as_client(&h, "demo-hotel").await;
    let arrival = now(&h).await - time::Duration::hours(1);
    let good = declaration(
        vec![citizen(&h, personas::HAPPY_PATH).await, foreigner()],
        room("9"),
        arrival,
    );
    type Spoil = fn(&mut pb::Declaration);
    let cases: &[(&str, Spoil)] = &[
        ("declaration.guests", |d| d.guests.clear()),
        ("declaration.guests", |d| {
            let one = d.guests[0].clone();
            d.guests = vec![one; 101];
        }),
        ("declaration.guests[0].citizen.citizen_id", |d| {
            if let Some(pb::guest::Identity::Citizen(c)) = &mut d.guests[0].identity {
                c.citizen_id = "12345".into();
            }
        }),
        ("declaration.guests[1].foreigner.nationality", |d| {
            if let Some(pb::guest::Identity::Foreigner(f)) = &mut d.guests[1].identity {
                f.nationality = "US".into();
            }
        }),
        ("declaration.guests[1].foreigner.full_name", |d| {
            if let Some(pb::guest::Identity::Foreigner(f)) = &mut d.guests[1].identity {
                f.full_name = "x".repeat(10_000);
            }
        }),
        ("declaration.guests[0].identity", |d| {
            d.guests[0].identity = None
        }),
        ("declaration.guests[0].reason_of_stay", |d| {
            d.guests[0].reason_of_stay = 0;
        }),
        ("declaration.guests[0].seat", |d| {
            d.guests[0].seat = "A1".into()
        }),
        ("declaration.place", |d| d.place = None),
        ("declaration.place.room.room", |d| d.place = Some(room(""))),
        ("declaration.arrival_time", |d| d.arrival_time = None),
        ("declaration.expected_departure_time", |d| {
            d.expected_departure_time = d.arrival_time;
        }),
    ];
    for (field, spoil) in cases {
        let mut sent = good.clone();
        spoil(&mut sent);
        let refused = create(&mut hotel, HOTEL, sent, "").await.unwrap_err();
        assert_eq!(
            refused.code(),
            Code::InvalidArgument,
            "{field}: {refused:?}"
        );
        let fields: Vec<String> = fields_of(&refused);
        assert!(
            fields.iter().any(|f| f == field),
            "{field} not named: {fields:?}"
        );
    }
    // None of them was recorded; the good one is.
    let listed = hotel
        .list_declarations(pb::ListDeclarationsRequest {
            facility_id: HOTEL.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.declarations.is_empty(), "{listed:?}");
    create(&mut hotel, HOTEL, good, "").await.unwrap();
}

#[tokio::test]
#[cfg_attr(
    not(redis_url_set),
    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
)]
async fn on_redis_replicas_share_declarations_and_a_stopped_one_loses_nothing() {
    let Some(url) =
        redis_url("on_redis_replicas_share_declarations_and_a_stopped_one_loses_nothing")
    else {
        return;
    };
    let config = test_config_with(
        Figment::new()
            .merge(Serialized::default("store.url", url))
            .merge(Serialized::default(
                "store.namespace",
                unique_namespace("lodging"),
            )),
    );
    let first = start_with(&config).await;
    let second = start_with(&config).await;
    let mut at_first = as_client(&first, "demo-hotel").await;
    let mut at_second = as_client(&second, "demo-hotel").await;
    let arrival = now(&first).await - time::Duration::hours(1);
    let sent = declaration(vec![foreigner()], room("1"), arrival);
    // A retry that lands on the other replica answers the first declaration.
    let made = create(&mut at_first, HOTEL, sent.clone(), "redis-req-1")
        .await
        .unwrap();
    let again = create(&mut at_second, HOTEL, sent, "redis-req-1")
        .await
        .unwrap();
    assert_eq!(made.name, again.name);

    // The registry fails for the first replica; it records 20 declarations and stops.
    registry_down(&first).await;
    let mut ids = vec![id_of(&made)];
    for n in 0..20 {
        let d = create(
            &mut at_first,
            HOTEL,
            declaration(vec![foreigner()], room(&format!("2{n}")), arrival),
            "",
        )
        .await
        .unwrap();
        ids.push(id_of(&d));
    }
    first.suite.stop().await.unwrap();
    admin(&second)
        .clear_fault_rules(admin::ClearFaultRulesRequest::default())
        .await
        .unwrap();
    // The other replica delivers every one, once.
    for id in &ids {
        let d = answered(&mut at_second, HOTEL, id, Duration::from_secs(30)).await;
        assert_eq!(
            d.delivery.as_ref().unwrap().status,
            DeliveryStatus::Accepted as i32,
            "{id}: {:?}",
            d.delivery
        );
        assert_eq!(held(&second, "56-KS-000123", id).await.receipts.len(), 1);
    }
    second.suite.stop().await.unwrap();

    // A restart keeps them all.
    let third = start_with(&config).await;
    let mut at_third = as_client(&third, "demo-hotel").await;
    let listed = at_third
        .list_declarations(pb::ListDeclarationsRequest {
            facility_id: HOTEL.into(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.declarations.len(), ids.len());
    third.suite.stop().await.unwrap();
    sandbox06_testkit::clear_stores(&config).await;
}

/// A VNeID share code of `citizen` for `facility`, as the app shows it (issued through the
/// admin surface, as the citizen's app would ask VNeID).
async fn share_code(h: &Harness, citizen: &str, facility: &str) -> String {
    admin(h)
        .issue_vneid_share_code(admin::IssueVneidShareCodeRequest {
            citizen_id: citizen.into(),
            facility: format!("facilities/{facility}"),
            ttl_seconds: 60,
        })
        .await
        .unwrap()
        .into_inner()
        .share_code
}

fn shared(code: &str) -> pb::Guest {
    pb::Guest {
        identity: Some(pb::guest::Identity::VneidShare(pb::VneidShare {
            share_code: code.into(),
        })),
        reason_of_stay: ReasonOfStay::BusinessTrip as i32,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_vneid_qr_check_in_fills_the_guest_and_a_bad_code_is_refused() {
    let h = start().await;
    let mut hotel = as_client(&h, "demo-hotel").await;
    let arrival = now(&h).await - time::Duration::hours(1);
    let code = share_code(&h, personas::HAPPY_PATH, HOTEL).await;
    let d = create(
        &mut hotel,
        HOTEL,
        declaration(vec![shared(&code)], room("21"), arrival),
        "",
    )
    .await
    .unwrap();
    let guest = &d.guests[0];
    assert_eq!(
        guest.data_source,
        pb::GuestDataSource::VneidShareCode as i32
    );
    let Some(pb::guest::Identity::Citizen(c)) = &guest.identity else {
        panic!("{guest:?}");
    };
    assert_eq!(c.citizen_id, personas::HAPPY_PATH);
    assert_eq!(c.full_name, "Nguyễn Văn Hùng");
    assert!(d.findings.is_empty(), "{:?}", d.findings);

    // The code, the reason, and the field the message begins with (a malformed code is bad
    // input and names it as a field violation too).
    let field = "declaration.guests[0].vneid_share.share_code";
    let refused = |status: Status| {
        assert!(status.message().starts_with(field), "{status:?}");
        if status.code() == Code::InvalidArgument {
            assert_eq!(fields_of(&status), [field]);
        }
        (status.code(), reason_of(&status).unwrap_or_default())
    };
    // Used once already.
    let again = create(
        &mut hotel,
        HOTEL,
        declaration(vec![shared(&code)], room("22"), arrival),
        "",
    )
    .await
    .unwrap_err();
    assert_eq!(
        refused(again),
        (Code::FailedPrecondition, "SHARE_CODE_USED".into())
    );
    // Forged: the payload changed, the signature kept.
    let fresh = share_code(&h, personas::HAPPY_PATH, HOTEL).await;
    let mut parts: Vec<String> = fresh.split('.').map(str::to_owned).collect();
    parts[1] = format!("{}A", &parts[1][..parts[1].len() - 1]);
    let forged = create(
        &mut hotel,
        HOTEL,
        declaration(vec![shared(&parts.join("."))], room("23"), arrival),
        "",
    )
    .await
    .unwrap_err();
    assert_eq!(
        refused(forged),
        (Code::InvalidArgument, "SHARE_CODE_INVALID".into())
    );
    // Made for another facility.
    let elsewhere = share_code(&h, personas::HAPPY_PATH, HOSPITAL).await;
    let other = create(
        &mut hotel,
        HOTEL,
        declaration(vec![shared(&elsewhere)], room("24"), arrival),
        "",
    )
    .await
    .unwrap_err();
    assert_eq!(
        refused(other),
        (Code::PermissionDenied, "SHARE_CODE_OTHER_FACILITY".into())
    );
    // Expired on the suite's clock: the unused fresh code, two minutes on.
    admin(&h)
        .advance_clock(admin::AdvanceClockRequest {
            by: Some(prost_types::Duration {
                seconds: 120,
                nanos: 0,
            }),
        })
        .await
        .unwrap();
    let expired = create(
        &mut hotel,
        HOTEL,
        declaration(vec![shared(&fresh)], room("25"), arrival),
        "",
    )
    .await
    .unwrap_err();
    assert_eq!(
        refused(expired),
        (Code::FailedPrecondition, "SHARE_CODE_EXPIRED".into())
    );
}

#[tokio::test]
async fn a_dashboard_follows_the_events_as_server_sent_events() {
    let h = start().await;
    let token = client_token(h.suite.edge, "demo-hotel", "demo-hotel-secret", None).await;
    let mut hotel = as_client(&h, "demo-hotel").await;
    let arrival = now(&h).await - time::Duration::hours(1);
    let made = create(
        &mut hotel,
        HOTEL,
        declaration(vec![foreigner()], room("31"), arrival),
        "",
    )
    .await
    .unwrap();
    answered(&mut hotel, HOTEL, &id_of(&made), Duration::from_secs(10)).await;
    let response = openidconnect::reqwest::Client::new()
        .get(format!(
            "http://{}/v1/facilities/{HOTEL}/declarations:watch?start_after_event_id=0&stop_at_latest=true",
            h.suite.edge
        ))
        .bearer_auth(&token)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = response.text().await.unwrap();
    let types: Vec<String> = text
        .split("\n\n")
        .filter_map(|event| event.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|data| {
            let event: serde_json::Value = serde_json::from_str(data).unwrap();
            event["type"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    assert_eq!(
        types,
        [
            "DECLARATION_EVENT_TYPE_CREATED",
            "DECLARATION_EVENT_TYPE_DELIVERY_ACCEPTED"
        ],
        "{text}"
    );
    // Another facility's client is refused its events.
    let mut hospital = as_client(&h, "demo-hospital").await;
    let refused = hospital
        .watch_declaration_events(pb::WatchDeclarationEventsRequest {
            facility_id: HOTEL.into(),
            start_after_event_id: "0".into(),
            stop_at_latest: true,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn an_amendment_without_a_mask_changes_what_it_sets_and_one_of_nothing_changes_nothing() {
    let h = start().await;
    let mut hotel = as_client(&h, "demo-hotel").await;
    let arrival = now(&h).await - time::Duration::hours(1);
    let made = create(
        &mut hotel,
        HOTEL,
        declaration(vec![foreigner()], room("41"), arrival),
        "",
    )
    .await
    .unwrap();
    let later = ts(arrival + time::Duration::days(3));
    let update = |declaration: pb::Declaration| pb::UpdateDeclarationRequest {
        facility_id: HOTEL.into(),
        declaration_id: id_of(&made),
        declaration: Some(declaration),
        update_mask: None,
        request_id: String::new(),
    };
    let amended = hotel
        .update_declaration(update(pb::Declaration {
            expected_departure_time: Some(later),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .declaration
        .unwrap();
    assert_eq!(amended.revision, 2);
    assert_eq!(amended.expected_departure_time, Some(later));
    assert_eq!(amended.guests, made.guests);
    assert_eq!(amended.place, made.place);
    // Nothing set: the declaration as it is.
    let same = hotel
        .update_declaration(update(pb::Declaration::default()))
        .await
        .unwrap()
        .into_inner()
        .declaration
        .unwrap();
    assert_eq!(same.revision, 2);
    // A field that cannot be amended, named.
    let refused = hotel
        .update_declaration(pb::UpdateDeclarationRequest {
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["arrival_time".into()],
            }),
            ..update(pb::Declaration::default())
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(fields_of(&refused), ["update_mask"]);
}
