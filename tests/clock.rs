//! The suite's clock through the edge port, as a CI test moves it: today follows it, an access
//! token expires when the clock passes its expiry, a card expires when the clock passes its
//! expiry date, a stored lifetime (a client's authentication lock) runs out when the clock
//! is advanced past it, and a reset puts it back. Bad settings are refused naming the field.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use sandbox06_proto::admin::{self as admin, admin_service_client::AdminServiceClient};
use sandbox06_proto::citizen::citizen_service_client::CitizenServiceClient;
use sandbox06_proto::citizen::{Citizen, GetCitizenRequest};
use sandbox06_proto::types::{CardStatus, Date};
use sandbox06_runtime::error::reason_of;
use sandbox06_testkit::{
    ADMIN_CLIENT, ADMIN_SECRET, Bearer, Harness, clear_of_vietnam_midnight, client_token, http1,
    personas, start,
};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

fn admin(h: &Harness) -> AdminServiceClient<Channel> {
    AdminServiceClient::new(h.channel.clone())
}

async fn clock(h: &Harness) -> admin::Clock {
    admin(h)
        .get_clock(admin::GetClockRequest {})
        .await
        .unwrap()
        .into_inner()
}

fn date(d: &Date) -> time::Date {
    sandbox06_proto::dates::date_from_proto(d, "date").unwrap()
}

fn days(n: i64) -> prost_types::Duration {
    prost_types::Duration {
        seconds: n * 86_400,
        nanos: 0,
    }
}

/// GetCitizen through the edge with `token`.
async fn get_with(h: &Harness, token: &str, citizen_id: &str) -> Result<Citizen, tonic::Status> {
    CitizenServiceClient::new(InterceptedService::new(
        h.channel.clone(),
        Bearer::new(token),
    ))
    .get_citizen(GetCitizenRequest {
        citizen_id: citizen_id.to_owned(),
        read_mask: None,
    })
    .await
    .map(|answer| answer.into_inner().citizen.unwrap())
}

/// A new token of the admin client, issued by the suite's clock as it is now.
async fn fresh_token(h: &Harness) -> String {
    client_token(h.suite.edge, ADMIN_CLIENT, ADMIN_SECRET, None).await
}

#[tokio::test]
async fn today_follows_the_clock_and_an_access_token_expires_when_it_passes_its_expiry() {
    // Today moves at Vietnam's midnight as the system's date does: not during this test.
    clear_of_vietnam_midnight(std::time::Duration::from_secs(60)).await;
    let h = start().await;
    let start_clock = clock(&h).await;
    let reference = date(start_clock.reference_date.as_ref().unwrap());
    assert_eq!(date(start_clock.today.as_ref().unwrap()), reference);
    assert!(!start_clock.frozen);
    get_with(&h, &h.token, personas::HAPPY_PATH).await.unwrap();

    // A day later: today is the next day, and the token issued before has expired.
    let moved = admin(&h)
        .advance_clock(admin::AdvanceClockRequest { by: Some(days(1)) })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        date(moved.today.as_ref().unwrap()),
        reference.next_day().unwrap()
    );
    assert!(moved.offset.unwrap().seconds >= 86_399, "{moved:?}");
    let expired = get_with(&h, &h.token, personas::HAPPY_PATH)
        .await
        .unwrap_err();
    assert_eq!(expired.code(), Code::Unauthenticated, "{expired:?}");
    assert_eq!(reason_of(&expired).as_deref(), Some("TOKEN_EXPIRED"));
    // A token issued now, by the moved clock, is good.
    let token = fresh_token(&h).await;
    get_with(&h, &token, personas::HAPPY_PATH).await.unwrap();

    // Back on the system time and the reference date.
    let reset = admin(&h)
        .reset_clock(admin::ResetClockRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(date(reset.today.as_ref().unwrap()), reference);
    assert!(reset.offset.unwrap().seconds.abs() <= 1, "{reset:?}");
    get_with(&h, &h.token, personas::HAPPY_PATH).await.unwrap();
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_card_expires_when_the_clock_passes_its_expiry_date_and_a_reset_brings_it_back() {
    let h = start().await;
    let record = get_with(&h, &h.token, personas::HAPPY_PATH).await.unwrap();
    let card = record.card.unwrap();
    assert_eq!(card.status(), CardStatus::Valid);
    let expiry = date(card.expiry_date.as_ref().unwrap());

    // Noon in Vietnam the day after the expiry date, the clock frozen there.
    let noon = expiry
        .next_day()
        .unwrap()
        .with_hms(12, 0, 0)
        .unwrap()
        .assume_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap());
    let set = admin(&h)
        .set_clock(admin::SetClockRequest {
            time: Some(sandbox06_runtime::clock::timestamp_to_proto(noon)),
            freeze: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(set.frozen);
    assert_eq!(set.time.unwrap().seconds, noon.unix_timestamp());
    assert_eq!(
        date(set.today.as_ref().unwrap()),
        expiry.next_day().unwrap()
    );
    let token = fresh_token(&h).await;
    let later = get_with(&h, &token, personas::HAPPY_PATH).await.unwrap();
    assert_eq!(later.card.unwrap().status(), CardStatus::Expired);
    // Frozen: it stands still.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(clock(&h).await.time.unwrap().seconds, noon.unix_timestamp());

    // A whole reset puts the clock back with the state.
    admin(&h)
        .reset_sandbox(admin::ResetSandboxRequest::default())
        .await
        .unwrap();
    let after = clock(&h).await;
    assert!(!after.frozen);
    let record = get_with(&h, &h.token, personas::HAPPY_PATH).await.unwrap();
    assert_eq!(record.card.unwrap().status(), CardStatus::Valid);
    h.suite.stop().await.unwrap();
}

/// The token endpoint's status for `client` with `secret`.
async fn token_status(h: &Harness, client: &str, secret: &str) -> u16 {
    let form = format!("grant_type=client_credentials&client_id={client}&client_secret={secret}");
    let request = http::Request::post("/oidc/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .unwrap();
    http1(h.suite.edge, request).await.0.as_u16()
}

#[tokio::test]
async fn a_stored_lock_runs_out_when_the_clock_is_advanced_past_it() {
    lock_runs_out(start().await).await;
}

#[tokio::test]
#[cfg_attr(
    not(redis_url_set),
    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
)]
async fn a_stored_lock_runs_out_when_the_clock_is_advanced_past_it_on_redis() {
    let Some(url) = sandbox06_testkit::redis_url("a_stored_lock_runs_out_on_redis") else {
        return;
    };
    let config = sandbox06_testkit::test_config_with(
        figment::Figment::new()
            .merge(figment::providers::Serialized::default("store.url", url))
            .merge(figment::providers::Serialized::default(
                "store.namespace",
                sandbox06_testkit::unique_namespace("clock"),
            )),
    );
    lock_runs_out(sandbox06_testkit::start_with(&config).await).await;
    sandbox06_testkit::clear_stores(&config).await;
}

/// Ten failed client authentications lock the client for five minutes, in the store; the
/// clock advanced past them unlocks it.
async fn lock_runs_out(h: Harness) {
    // Ten failures lock the client's authentication for five minutes.
    for _ in 0..10 {
        assert_eq!(token_status(&h, "demo-hotel", "guess").await, 401);
    }
    assert_eq!(
        token_status(&h, "demo-hotel", "demo-hotel-secret").await,
        429
    );
    admin(&h)
        .advance_clock(admin::AdvanceClockRequest {
            by: Some(prost_types::Duration {
                seconds: 301,
                nanos: 0,
            }),
        })
        .await
        .unwrap();
    assert_eq!(
        token_status(&h, "demo-hotel", "demo-hotel-secret").await,
        200
    );
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn clock_settings_that_make_no_sense_are_refused_naming_the_field() {
    let h = start().await;
    let mut admin = admin(&h);
    let cases = [
        (
            admin
                .advance_clock(admin::AdvanceClockRequest { by: None })
                .await
                .unwrap_err(),
            "by",
        ),
        (
            admin
                .advance_clock(admin::AdvanceClockRequest { by: Some(days(-1)) })
                .await
                .unwrap_err(),
            "by",
        ),
        (
            admin
                .advance_clock(admin::AdvanceClockRequest {
                    by: Some(days(40_000)),
                })
                .await
                .unwrap_err(),
            "by",
        ),
        (
            admin
                .set_clock(admin::SetClockRequest {
                    time: None,
                    freeze: false,
                })
                .await
                .unwrap_err(),
            "time",
        ),
        (
            admin
                .set_clock(admin::SetClockRequest {
                    time: Some(prost_types::Timestamp {
                        seconds: 0,
                        nanos: -1,
                    }),
                    freeze: false,
                })
                .await
                .unwrap_err(),
            "time",
        ),
    ];
    for (status, field) in cases {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(status.message().contains(field), "{status:?}");
    }
    // Nothing moved.
    assert!(clock(&h).await.offset.unwrap().seconds.abs() <= 1);
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn the_clock_over_rest_takes_protobuf_json_times_and_durations() {
    clear_of_vietnam_midnight(std::time::Duration::from_secs(60)).await;
    let h = start().await;
    let post = |path: &'static str, body: &'static str| {
        let request = http::Request::post(path)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .unwrap();
        http1(h.suite.edge, request)
    };
    let (status, body) = post("/v1/admin/clock:advance", r#"{"by": "172800s"}"#).await;
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["today"]["day"], 29, "{answer}");
    let (status, body) = post(
        "/v1/admin/clock:set",
        r#"{"time": "2027-03-01T08:00:00+07:00", "freeze": true}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["time"], "2027-03-01T01:00:00Z", "{answer}");
    assert_eq!(answer["frozen"], true, "{answer}");
    let (status, body) = post("/v1/admin/clock:advance", r#"{"by": "soon"}"#).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("by"), "{body}");
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_tenant_reads_the_shared_clock_but_cannot_move_it() {
    let h = start().await;
    fn with_tenant<T>(message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request
            .metadata_mut()
            .insert("x-sandbox06-tenant", "job-a".parse().unwrap());
        request
    }
    let refused = admin(&h)
        .advance_clock(with_tenant(admin::AdvanceClockRequest {
            by: Some(days(1)),
        }))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert_eq!(reason_of(&refused).as_deref(), Some("CLOCK_SHARED"));
    let refused = admin(&h)
        .reset_clock(with_tenant(admin::ResetClockRequest {}))
        .await
        .unwrap_err();
    assert_eq!(reason_of(&refused).as_deref(), Some("CLOCK_SHARED"));
    let read = admin(&h)
        .get_clock(with_tenant(admin::GetClockRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert!(read.offset.unwrap().seconds.abs() <= 1, "{read:?}");
    h.suite.stop().await.unwrap();
}
