//! The national lodging registry mock, called directly on its own port as the lodging service
//! will deliver to it: a declaration of a persona checked against the population database, a
//! delivery repeated, a conflicting one, and a fault rule of the admin surface making it
//! unavailable.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use sandbox06_proto::{
    lodgingregistry::{
        self as pb, lodging_registry_service_client::LodgingRegistryServiceClient,
        submit_declaration_response::Outcome,
    },
    population::{self as pop, population_service_client::PopulationServiceClient},
    types::{DocumentType, ReasonOfStay},
};
use sandbox06_runtime::error::reason_of;
use sandbox06_testkit::{Harness, personas, start};
use tonic::{Code, transport::Channel};

async fn registry(h: &Harness) -> LodgingRegistryServiceClient<Channel> {
    LodgingRegistryServiceClient::connect(h.url_of("lodging-registry"))
        .await
        .unwrap()
}

fn timestamp(at: time::OffsetDateTime) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.unix_timestamp(),
        nanos: 0,
    }
}

/// A declaration of the happy-path persona as the population database records them.
async fn declaration(h: &Harness, id: &str) -> pb::SubmitDeclarationRequest {
    let citizen = PopulationServiceClient::connect(h.url_of("population-db"))
        .await
        .unwrap()
        .get_citizen(pop::GetCitizenRequest {
            citizen_id: personas::HAPPY_PATH.into(),
            view: pop::RecordView::Basic as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .citizen
        .unwrap();
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap();
    pb::SubmitDeclarationRequest {
        declaration_id: id.into(),
        revision: 1,
        facility_code: "56-KS-000123".into(),
        guests: vec![pb::RegistryGuest {
            full_name: citizen.full_name,
            document_type: DocumentType::Cccd as i32,
            document_number: personas::HAPPY_PATH.into(),
            citizen_id: personas::HAPPY_PATH.into(),
            date_of_birth: citizen.date_of_birth,
            nationality: "VNM".into(),
            reason_of_stay: ReasonOfStay::Tourism as i32,
            ..Default::default()
        }],
        place: "Phòng 305".into(),
        arrival_time: Some(timestamp(now - time::Duration::hours(2))),
        expected_departure_time: Some(timestamp(now + time::Duration::days(2))),
    }
}

#[tokio::test]
async fn a_declaration_is_received_replayed_and_refused_when_changed() {
    received_replayed_and_refused(start().await).await;
}

#[tokio::test]
#[cfg_attr(
    not(redis_url_set),
    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
)]
async fn on_redis_a_second_replica_replays_what_the_first_answered() {
    let Some(url) = sandbox06_testkit::redis_url("lodging_registry_on_redis") else {
        return;
    };
    let config = sandbox06_testkit::test_config_with(
        figment::Figment::new()
            .merge(figment::providers::Serialized::default("store.url", url))
            .merge(figment::providers::Serialized::default(
                "store.namespace",
                sandbox06_testkit::unique_namespace("lodging-registry"),
            )),
    );
    let first = sandbox06_testkit::start_with(&config).await;
    let second = sandbox06_testkit::start_with(&config).await;
    let request = declaration(&first, "facilities/56-KS-000123/declarations/9").await;
    let answered = registry(&first)
        .await
        .submit_declaration(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(!answered.replayed);
    // The delivery repeated at the other replica: the first answer, not a second receipt.
    let replayed = registry(&second)
        .await
        .submit_declaration(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(replayed.replayed, "{replayed:?}");
    assert_eq!(replayed.outcome, answered.outcome);
    first.suite.stop().await.unwrap();
    // And after a restart.
    let third = sandbox06_testkit::start_with(&config).await;
    let held = registry(&third)
        .await
        .get_declaration(pb::GetDeclarationRequest {
            declaration_id: request.declaration_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .declaration
        .unwrap();
    assert_eq!(held.receipts.len(), 1);
    second.suite.stop().await.unwrap();
    third.suite.stop().await.unwrap();
    sandbox06_testkit::clear_stores(&config).await;
}

/// A persona's declaration is received, the same delivery replays the first answer, a
/// changed one with the same revision is a conflict, and a guest no citizen is is rejected.
async fn received_replayed_and_refused(h: Harness) {
    let mut client = registry(&h).await;
    let request = declaration(&h, "facilities/56-KS-000123/declarations/1").await;
    let first = client
        .submit_declaration(request.clone())
        .await
        .unwrap()
        .into_inner();
    let Some(Outcome::Receipt(receipt)) = &first.outcome else {
        panic!("not accepted: {first:?}");
    };
    assert!(receipt.receipt_number.starts_with("LT56-"), "{receipt:?}");
    assert!(!first.replayed);

    let again = client
        .submit_declaration(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(again.replayed);
    assert_eq!(again.outcome, first.outcome);

    let mut changed = request.clone();
    changed.place = "Phòng 306".into();
    let status = client.submit_declaration(changed).await.unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(reason_of(&status).as_deref(), Some("REVISION_CONFLICT"));

    let held = client
        .get_declaration(pb::GetDeclarationRequest {
            declaration_id: request.declaration_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .declaration
        .unwrap();
    assert_eq!(held.receipts.len(), 1);

    // A guest no citizen is: the registry's own rejection, as an answer.
    let mut unknown = declaration(&h, "facilities/56-KS-000123/declarations/2").await;
    unknown.guests[0].full_name = "Người Không Có".into();
    let answer = client
        .submit_declaration(unknown)
        .await
        .unwrap()
        .into_inner();
    let Some(Outcome::Rejection(rejection)) = answer.outcome else {
        panic!("not refused: {answer:?}");
    };
    assert_eq!(rejection.reason(), pb::RejectionReason::IdentityMismatch);
    assert_eq!(rejection.guest_index, 0);
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_fault_rule_of_the_admin_surface_makes_the_registry_unavailable() {
    let h = start().await;
    h.make_unavailable(
        "lodging-registry",
        Some("sandbox06.upstream.lodgingregistry.v1.LodgingRegistryService/SubmitDeclaration"),
        1,
    )
    .await;
    let mut client = registry(&h).await;
    let request = declaration(&h, "facilities/56-KS-000123/declarations/3").await;
    let status = client
        .submit_declaration(request.clone())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    // The rule was for one call: the delivery retried is received.
    let answer = client
        .submit_declaration(request)
        .await
        .unwrap()
        .into_inner();
    assert!(
        matches!(answer.outcome, Some(Outcome::Receipt(_))),
        "{answer:?}"
    );
    assert!(!answer.replayed);
    h.suite.stop().await.unwrap();
}
