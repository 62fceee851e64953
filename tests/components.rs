//! The components run alone, as containers run them (`sandbox06 serve <component>`): each
//! finds its peers through its own configuration section, and says which key is missing.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use figment::{Figment, providers::Serialized};
use sandbox06_proto::{
    citizen::{GetCitizenRequest, citizen_service_client::CitizenServiceClient},
    vneid::{GetAccountRequest, vneid_service_client::VneidServiceClient},
};
use sandbox06_runtime::{component::StartError, error::reason_of};
use sandbox06_testkit::{
    Answer, FakeUpstream, STUB_SPEC, StubComponent, citizen_in_front_of, edge_in_front_of, http1,
    personas, serve_alone, serve_alone_in, test_config,
};
use tonic::Code;

fn get(citizen_id: &str) -> GetCitizenRequest {
    GetCitizenRequest {
        citizen_id: citizen_id.into(),
        read_mask: None,
    }
}

#[tokio::test]
async fn each_component_alone_answers_through_the_edge() {
    let population = serve_alone("population-db", Figment::new()).await;
    let citizen = citizen_in_front_of(&population.url()).await;
    let gateway = edge_in_front_of(&citizen.url(), Figment::new()).await;
    let mut client = CitizenServiceClient::connect(gateway.url()).await.unwrap();
    let citizen_record = client
        .get_citizen(get(personas::HAPPY_PATH))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(citizen_record.citizen.unwrap().full_name, "Nguyễn Văn Hùng");
    // The VNeID mock alone reads the same population database.
    let vneid = serve_alone(
        "vneid",
        Figment::new().merge(Serialized::default(
            "vneid.population_url",
            population.url(),
        )),
    )
    .await;
    let mut accounts = VneidServiceClient::connect(vneid.url()).await.unwrap();
    let account = accounts
        .get_account(GetAccountRequest {
            citizen_id: personas::HAPPY_PATH.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(account.account.unwrap().full_name, "Nguyễn Văn Hùng");
    vneid.stop().await.unwrap();
    gateway.stop().await.unwrap();
    citizen.stop().await.unwrap();
    population.stop().await.unwrap();
}

#[tokio::test]
async fn a_service_in_front_of_a_failing_upstream_says_so() {
    let upstream = FakeUpstream::start(Answer::Status(Code::Unavailable, "down".into())).await;
    let citizen = citizen_in_front_of(&upstream.url()).await;
    let mut client = CitizenServiceClient::connect(citizen.url()).await.unwrap();
    let status = client
        .get_citizen(get(personas::HAPPY_PATH))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(reason_of(&status).as_deref(), Some("UPSTREAM_UNAVAILABLE"));
    assert_eq!(
        upstream.calls(),
        ["/sandbox06.upstream.population.v1.PopulationService/GetCitizen"]
    );
}

#[tokio::test]
async fn a_component_alone_without_its_peers_url_names_the_key() {
    let config = test_config();
    for (name, key) in [
        ("citizen", "citizen.population_url"),
        ("vneid", "vneid.population_url"),
        // The first of the services in name order.
        ("gateway", "gateway.backends.admin"),
        // The first of the other components in name order.
        ("admin", "admin.components.citizen"),
    ] {
        let alone = sandbox06::Alone::bind(&config, name).await.unwrap();
        let error = alone
            .serve(&config, Box::pin(std::future::pending()))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, StartError::MissingPeer { key: k, .. } if k == key),
            "{name}: {error}"
        );
        assert!(error.to_string().contains(key), "{error}");
    }
}

/// The suite's components and the stub: a new component is one more entry in the list.
fn list_with_stub() -> Vec<std::sync::Arc<dyn sandbox06_runtime::component::Component>> {
    let mut list = sandbox06::components();
    list.push(std::sync::Arc::new(StubComponent));
    list
}

fn hello_request() -> http::Request<String> {
    http::Request::get("/stub/hello")
        // Only the edge may say who the caller is: a client's claim is stripped.
        .header("x-sandbox06-caller-subject", "someone-else")
        .body(String::new())
        .unwrap()
}

fn assert_stub_answered(status: http::StatusCode, body: &str) {
    assert_eq!(status, http::StatusCode::OK, "{body}");
    let answer: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(answer["component"], STUB_SPEC.name);
    assert!(answer["caller_subject"].is_null(), "{answer}");
    assert!(answer["forwarded_for"].is_string(), "{answer}");
}

#[tokio::test]
async fn a_components_http_route_is_reached_through_the_edge_under_up() {
    let mut suite = sandbox06::Suite::start_with(&test_config(), list_with_stub())
        .await
        .unwrap();
    suite
        .wait_ready(std::time::Duration::from_secs(10))
        .await
        .unwrap();
    let (status, body) = http1(suite.edge, hello_request()).await;
    assert_stub_answered(status, &body);
    // With a token, the edge names the caller to the component.
    let token =
        sandbox06_testkit::client_token(suite.edge, "demo-hotel", "demo-hotel-secret", None).await;
    let mut request = hello_request();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (status, body) = http1(suite.edge, request).await;
    assert_eq!(status, http::StatusCode::OK, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["caller_client"], "demo-hotel");
    assert_eq!(
        answer["caller_scopes"],
        serde_json::json!(["citizen.verify", "lodging.read", "lodging.declare"])
    );
    // A client credentials token acts for no citizen.
    assert!(answer["caller_subject"].is_null(), "{answer}");
    suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_components_http_route_is_reached_through_the_edge_alone() {
    let stub = serve_alone_in("stub", list_with_stub(), Figment::new()).await;
    let gateway = serve_alone_in(
        "gateway",
        list_with_stub(),
        // Every service but the stub behind a closed port.
        list_with_stub()
            .iter()
            .filter(|c| c.spec().role == sandbox06_runtime::component::Role::Service)
            .fold(Figment::new(), |f, c| {
                f.merge(Serialized::default(
                    &format!("gateway.backends.{}", c.spec().name),
                    "http://127.0.0.1:1",
                ))
            })
            .merge(Serialized::default("gateway.backends.stub", stub.url()))
            .merge(Serialized::default("gateway.enforce_auth", false)),
    )
    .await;
    let (status, body) = http1(gateway.addr, hello_request()).await;
    assert_stub_answered(status, &body);
}

/// The health a component reports for `service` at `url`, asked until it is `wanted` or a
/// bounded number of tries have passed.
async fn health_becomes(url: &str, service: &str, wanted: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        last = match sandbox06::health_status(url, service).await {
            Ok(status) => status.to_owned(),
            Err(error) => error,
        };
        if last == wanted {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    last
}

#[tokio::test]
async fn a_service_whose_upstream_is_down_says_it_is_not_serving() {
    let upstream = FakeUpstream::start(Answer::Status(Code::Unavailable, "down".into())).await;
    let citizen = citizen_in_front_of(&upstream.url()).await;
    let service = "sandbox06.citizen.v1.CitizenService";
    assert_eq!(
        health_becomes(&citizen.url(), service, "NOT_SERVING").await,
        "NOT_SERVING"
    );
    assert_eq!(
        health_becomes(&citizen.url(), "", "NOT_SERVING").await,
        "NOT_SERVING"
    );
}

/// The edge alone in front of a citizen service that never answers, with `extra` settings.
async fn edge_in_front_of_a_stall(
    extra: Figment,
) -> (FakeUpstream, sandbox06_testkit::RunningAlone) {
    let stalled = FakeUpstream::start(Answer::Stall).await;
    let gateway = edge_in_front_of(&stalled.url(), extra).await;
    (stalled, gateway)
}

#[tokio::test]
async fn a_callers_deadline_is_deadline_exceeded_at_the_edge() {
    let (_stalled, gateway) = edge_in_front_of_a_stall(Figment::new()).await;
    // A plain HTTP/2 client, so that only the server enforces the caller's deadline.
    let (headers, trailers) = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        raw_grpc(
            &gateway.url(),
            "/sandbox06.citizen.v1.CitizenService/GetCitizen",
            &[0, 0, 0, 0, 0],
            Some("300m"),
            None,
        ),
    )
    .await
    .expect("an answer, not a hang");
    let status = headers
        .get("grpc-status")
        .or_else(|| trailers.get("grpc-status"))
        .expect("a grpc-status");
    assert_eq!(status, "4", "DEADLINE_EXCEEDED: {headers:?} {trailers:?}");
    let status = tonic::Status::from_header_map(&headers).expect("a status");
    assert_eq!(reason_of(&status).as_deref(), Some("DEADLINE_EXCEEDED"));
}

#[tokio::test]
async fn every_call_has_a_default_deadline() {
    let (_stalled, gateway) = edge_in_front_of_a_stall(
        Figment::new().merge(Serialized::default("limits.request_timeout_seconds", 1)),
    )
    .await;
    let mut client = CitizenServiceClient::connect(gateway.url()).await.unwrap();
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        client.get_citizen(get(personas::HAPPY_PATH)),
    )
    .await
    .expect("an answer, not a hang");
    assert_eq!(answer.unwrap_err().code(), Code::DeadlineExceeded);
}

#[tokio::test]
async fn a_callers_deadline_goes_on_to_the_upstream() {
    let stalled = FakeUpstream::start(Answer::Stall).await;
    let citizen = citizen_in_front_of(&stalled.url()).await;
    let mut client = CitizenServiceClient::connect(citizen.url()).await.unwrap();
    let mut request = tonic::Request::new(get(personas::HAPPY_PATH));
    request.set_timeout(std::time::Duration::from_millis(800));
    let status = client.get_citizen(request).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    // The population database was asked to answer within what was left, not within its own
    // default of 30 seconds.
    let deadlines = stalled.deadlines();
    assert!(!deadlines.is_empty());
    for deadline in deadlines {
        let deadline = deadline.expect("a grpc-timeout on the upstream call");
        assert!(
            deadline <= std::time::Duration::from_millis(800),
            "{deadline:?}"
        );
    }
}

/// Sends one raw gRPC request to `url` over plain HTTP/2: `frame` as the whole body, with
/// `grpc-timeout` when given; (headers, trailers).
async fn raw_grpc(
    url: &str,
    path: &str,
    frame: &'static [u8],
    grpc_timeout: Option<&str>,
    token: Option<&str>,
) -> (http::HeaderMap, http::HeaderMap) {
    use http_body_util::BodyExt as _;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let mut request = http::Request::post(format!("{url}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(timeout) = grpc_timeout {
        request = request.header("grpc-timeout", timeout);
    }
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(http_body_util::Full::new(bytes::Bytes::from_static(frame)))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let headers = response.headers().clone();
    let trailers = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .trailers()
        .cloned()
        .unwrap_or_default();
    (headers, trailers)
}

#[tokio::test]
async fn an_undecodable_request_is_invalid_argument_with_its_reason() {
    let h = sandbox06_testkit::start().await;
    let url = format!("http://{}", h.suite.edge);
    for frame in [
        // A message whose field 1 claims 100 bytes and has 2.
        &[0, 0, 0, 0, 4, 0x0a, 100, b'0', b'0'][..],
        // A frame prefix announcing 10 bytes, then the body ends.
        &[0, 0, 0, 0, 10, 1, 2][..],
    ] {
        let (headers, trailers) = raw_grpc(
            &url,
            "/sandbox06.citizen.v1.CitizenService/GetCitizen",
            frame,
            None,
            Some(&h.token),
        )
        .await;
        let status = tonic::Status::from_header_map(&headers)
            .or_else(|| tonic::Status::from_header_map(&trailers))
            .expect("a status");
        assert_eq!(
            status.code(),
            Code::InvalidArgument,
            "{frame:?}: {status:?}"
        );
        assert_eq!(
            reason_of(&status).as_deref(),
            Some("INVALID_ARGUMENT"),
            "{frame:?}"
        );
    }
    h.suite.stop().await.unwrap();
}
