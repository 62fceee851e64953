//! VNeID share codes, as an integrator's CI uses them: the admin surface issues one through
//! the edge (the citizen showing the QR code in the app), and the facility's software redeems
//! it at the VNeID mock's ShareCodeService, once, for that facility, before it expires on the
//! suite's clock. Bad requests are refused naming their fields; on Redis, a code issued by
//! one replica is redeemed at another, once.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use figment::{Figment, providers::Serialized};
use sandbox06_proto::admin::{self as admin, admin_service_client::AdminServiceClient};
use sandbox06_proto::types::VneidLevel;
use sandbox06_proto::vneid::{
    self as vneid, RedeemShareCodeRequest, share_code_service_client::ShareCodeServiceClient,
};
use sandbox06_runtime::error::reason_of;
use sandbox06_testkit::{
    Harness, http1, personas, redis_url, start, start_with, test_config_with, unique_namespace,
};
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt as _;

const HOTEL: &str = "facilities/hotel-hoan-kiem";

/// The admin surface through the edge, as a CI job calls it (no token: `admin.access = open`).
fn admin(h: &Harness) -> AdminServiceClient<Channel> {
    AdminServiceClient::new(h.channel.clone())
}

/// The VNeID mock's share codes, called directly as the lodging service will call them.
async fn share_codes(h: &Harness) -> ShareCodeServiceClient<Channel> {
    ShareCodeServiceClient::connect(h.url_of("vneid"))
        .await
        .unwrap()
}

fn issue_request(
    citizen_id: &str,
    facility: &str,
    ttl_seconds: i32,
) -> admin::IssueVneidShareCodeRequest {
    admin::IssueVneidShareCodeRequest {
        citizen_id: citizen_id.to_owned(),
        facility: facility.to_owned(),
        ttl_seconds,
    }
}

/// A share code of happy-path for the hotel, issued through the edge.
async fn issue(h: &Harness, ttl_seconds: i32) -> admin::IssueVneidShareCodeResponse {
    admin(h)
        .issue_vneid_share_code(issue_request(personas::HAPPY_PATH, HOTEL, ttl_seconds))
        .await
        .unwrap()
        .into_inner()
}

async fn redeem(
    client: &mut ShareCodeServiceClient<Channel>,
    code: &str,
    facility: &str,
    validate_only: bool,
) -> Result<vneid::RedeemShareCodeResponse, Status> {
    client
        .redeem_share_code(RedeemShareCodeRequest {
            share_code: code.to_owned(),
            facility: facility.to_owned(),
            validate_only,
        })
        .await
        .map(tonic::Response::into_inner)
}

/// The code, reason and first field named of a refusal.
fn refusal<T: std::fmt::Debug>(result: Result<T, Status>) -> (Code, String, String) {
    let status = result.unwrap_err();
    let field = status
        .get_details_bad_request()
        .and_then(|bad| bad.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default();
    (status.code(), reason_of(&status).unwrap_or_default(), field)
}

fn reason<T: std::fmt::Debug>(result: Result<T, Status>) -> String {
    refusal(result).1
}

#[tokio::test]
async fn a_code_issued_through_the_edge_releases_the_holders_data_once() {
    let h = start().await;
    let issued = issue(&h, 0).await;
    assert_eq!(issued.share_code.split('.').count(), 3, "a compact JWS");
    assert!(issued.expire_time.is_some());
    let mut vneid = share_codes(&h).await;

    // Checking it leaves it usable, as often as the facility likes.
    for _ in 0..2 {
        let checked = redeem(&mut vneid, &issued.share_code, HOTEL, true)
            .await
            .unwrap();
        assert_eq!(checked.citizen.unwrap().citizen_id, personas::HAPPY_PATH);
    }
    let redeemed = redeem(&mut vneid, &issued.share_code, HOTEL, false)
        .await
        .unwrap();
    let citizen = redeemed.citizen.unwrap();
    assert_eq!(citizen.citizen_id, personas::HAPPY_PATH);
    assert_eq!(citizen.full_name, "Nguyễn Văn Hùng");
    assert_eq!(citizen.level(), VneidLevel::VneidLevel2);
    assert!(citizen.date_of_birth.is_some());
    assert!(!citizen.residence_address.is_empty());
    assert!(!redeemed.share_code_id.is_empty());

    for validate_only in [false, true] {
        assert_eq!(
            refusal(redeem(&mut vneid, &issued.share_code, HOTEL, validate_only).await),
            (
                Code::FailedPrecondition,
                "SHARE_CODE_USED".to_owned(),
                String::new()
            )
        );
    }
}

#[tokio::test]
async fn a_code_is_for_its_facility_its_issuer_and_its_time() {
    let h = start().await;
    let mut vneid = share_codes(&h).await;
    let issued = issue(&h, 30).await;

    let other = redeem(
        &mut vneid,
        &issued.share_code,
        "facilities/another-hotel",
        false,
    )
    .await;
    assert_eq!(
        refusal(other),
        (
            Code::PermissionDenied,
            "SHARE_CODE_OTHER_FACILITY".to_owned(),
            "facility".to_owned()
        )
    );

    // A signature changed in its middle, garbage, and a code of another suite's VNeID.
    let (signed, signature) = issued.share_code.rsplit_once('.').unwrap();
    let mut bytes = signature.as_bytes().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{signed}.{}", String::from_utf8(bytes).unwrap());
    let other_suite = start().await;
    let foreign = issue(&other_suite, 0).await.share_code;
    for bad in [tampered, "not-a-share-code".to_owned(), foreign] {
        assert_eq!(
            refusal(redeem(&mut vneid, &bad, HOTEL, false).await),
            (
                Code::InvalidArgument,
                "SHARE_CODE_INVALID".to_owned(),
                "share_code".to_owned()
            ),
            "{bad}"
        );
    }

    // Past its 30 seconds on the suite's clock, it is expired, even to check.
    admin(&h)
        .advance_clock(admin::AdvanceClockRequest {
            by: Some(prost_types::Duration {
                seconds: 31,
                nanos: 0,
            }),
        })
        .await
        .unwrap();
    for validate_only in [true, false] {
        assert_eq!(
            reason(redeem(&mut vneid, &issued.share_code, HOTEL, validate_only).await),
            "SHARE_CODE_EXPIRED"
        );
    }
}

#[tokio::test]
async fn bad_requests_name_their_fields_and_vneids_refusals_pass_through() {
    let h = start().await;
    let cases = [
        (
            issue_request("12345", HOTEL, 0),
            Code::InvalidArgument,
            "INVALID_CITIZEN_ID",
            "citizen_id",
        ),
        (
            issue_request(personas::HAPPY_PATH, "hotel-hoan-kiem", 0),
            Code::InvalidArgument,
            "INVALID_ARGUMENT",
            "facility",
        ),
        (
            issue_request(personas::HAPPY_PATH, "", 0),
            Code::InvalidArgument,
            "INVALID_ARGUMENT",
            "facility",
        ),
        (
            issue_request(personas::HAPPY_PATH, HOTEL, 10),
            Code::InvalidArgument,
            "INVALID_ARGUMENT",
            "ttl_seconds",
        ),
        (
            issue_request(personas::HAPPY_PATH, HOTEL, 601),
            Code::InvalidArgument,
            "INVALID_ARGUMENT",
            "ttl_seconds",
        ),
        (
            issue_request(personas::NO_VNEID, HOTEL, 0),
            Code::NotFound,
            "ACCOUNT_NOT_FOUND",
            "",
        ),
        (
            issue_request(personas::VNEID_LOCKED, HOTEL, 0),
            Code::FailedPrecondition,
            "ACCOUNT_LOCKED",
            "",
        ),
    ];
    for (request, code, why, field) in cases {
        let answer = admin(&h).issue_vneid_share_code(request.clone()).await;
        assert_eq!(
            refusal(answer),
            (code, why.to_owned(), field.to_owned()),
            "{request:?}"
        );
    }

    let mut vneid = share_codes(&h).await;
    let code = issue(&h, 0).await.share_code;
    assert_eq!(
        refusal(redeem(&mut vneid, &code, "facilities/", false).await).2,
        "facility"
    );
    assert_eq!(
        refusal(redeem(&mut vneid, "", HOTEL, false).await).2,
        "share_code"
    );
    // Neither refusal used the code.
    redeem(&mut vneid, &code, HOTEL, false).await.unwrap();
}

#[tokio::test]
async fn the_admin_issues_over_rest_at_its_route() {
    let h = start().await;
    let body = serde_json::json!({
        "citizenId": personas::HAPPY_PATH,
        "facility": HOTEL,
        "ttlSeconds": 300,
    })
    .to_string();
    let request = http::Request::post("/v1/admin/vneidShareCodes")
        .header("content-type", "application/json")
        .body(body)
        .unwrap();
    let (status, text) = http1(h.suite.edge, request).await;
    assert_eq!(status, http::StatusCode::OK, "{text}");
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
    let code = answer["shareCode"].as_str().unwrap();
    assert!(answer["expireTime"].is_string(), "{answer}");
    let mut vneid = share_codes(&h).await;
    redeem(&mut vneid, code, HOTEL, false).await.unwrap();
}

#[tokio::test]
#[cfg_attr(
    not(redis_url_set),
    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
)]
async fn on_redis_a_code_issued_by_one_replica_is_redeemed_at_another_once() {
    let Some(url) = redis_url("on_redis_a_code_issued_by_one_replica_is_redeemed_at_another_once")
    else {
        return;
    };
    let config = test_config_with(
        Figment::new()
            .merge(Serialized::default("store.url", url))
            .merge(Serialized::default(
                "store.namespace",
                unique_namespace("share-codes"),
            )),
    );
    let first = start_with(&config).await;
    let second = start_with(&config).await;
    let issued = issue(&first, 0).await;
    let mut at_second = share_codes(&second).await;
    let mut at_first = share_codes(&first).await;
    redeem(&mut at_second, &issued.share_code, HOTEL, false)
        .await
        .unwrap();
    assert_eq!(
        reason(redeem(&mut at_first, &issued.share_code, HOTEL, false).await),
        "SHARE_CODE_USED"
    );
    first.suite.stop().await.unwrap();
    second.suite.stop().await.unwrap();

    // A restart keeps the key: a code issued before it still verifies (and is still used).
    let third = start_with(&config).await;
    let mut at_third = share_codes(&third).await;
    assert_eq!(
        reason(redeem(&mut at_third, &issued.share_code, HOTEL, true).await),
        "SHARE_CODE_USED"
    );
    third.suite.stop().await.unwrap();
    sandbox06_testkit::clear_stores(&config).await;
}
