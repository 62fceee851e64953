//! The edge's journal of calls through a real edge in front of a fake citizen backend: gRPC,
//! REST and refused calls recorded once each, read back with `JournalControl` on the edge's own
//! port (filters, verify, clear, the bound, masking).
#![allow(clippy::unwrap_used)]

use std::pin::Pin;
use std::time::Duration;

use http::HeaderMap;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sandbox06_gateway::{Backend, Bodies, Caller, Gateway, JournalConfig, MethodInfo};
use sandbox06_proto::admin::journal_control_client::JournalControlClient;
use sandbox06_proto::admin::{
    CallFilter, ClearJournalRequest, Comparison, JournalEntry, ListJournalRequest, Protocol,
    VerifyJournalRequest,
};
use sandbox06_proto::citizen::citizen_service_client::CitizenServiceClient;
use sandbox06_proto::citizen::citizen_service_server::{CitizenService, CitizenServiceServer};
use sandbox06_proto::citizen::{
    Citizen, GetCitizenRequest, GetCitizenResponse, MatchCitizensRequest, MatchCitizensResponse,
    VerifyCardQrRequest, VerifyCardQrResponse, VerifyCitizenRequest, VerifyCitizenResponse,
};
use sandbox06_runtime::config::Limits;
use sandbox06_runtime::error::field_violations_of;
use sandbox06_runtime::server::ServerBuilder;
use sandbox06_runtime::{ApiError, Reason};
use tokio_stream::{Stream, StreamExt};
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status, Streaming};

const CITIZEN_SERVICE: &str = "sandbox06.citizen.v1.CitizenService";
const GET_CITIZEN: &str = "/sandbox06.citizen.v1.CitizenService/GetCitizen";
const KNOWN_ID: &str = "058091001234";
const KNOWN_NAME: &str = "Nguyễn Văn An";
const UNKNOWN_ID: &str = "001099009999";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// How long an entry may take to be committed after its answer was read.
const WAIT: Duration = Duration::from_secs(10);

/// The fake's own reason, passed through by the edge.
#[derive(Debug)]
struct NoSuchCitizen;

impl sandbox06_runtime::ErrorReason for NoSuchCitizen {
    fn as_str(&self) -> &'static str {
        "NO_SUCH_CITIZEN"
    }

    fn code(&self) -> Code {
        Code::NotFound
    }

    fn when(&self) -> &'static str {
        "The fake knows one citizen only."
    }
}

/// A citizen service that knows one citizen and echoes match requests.
struct FakeCitizens;

#[tonic::async_trait]
impl CitizenService for FakeCitizens {
    async fn get_citizen(
        &self,
        request: Request<GetCitizenRequest>,
    ) -> Result<Response<GetCitizenResponse>, Status> {
        let id = request.into_inner().citizen_id;
        if id != KNOWN_ID {
            return Err(ApiError::new(NoSuchCitizen, format!("no citizen {id}")).into());
        }
        Ok(Response::new(GetCitizenResponse {
            citizen: Some(Citizen {
                citizen_id: id,
                full_name: KNOWN_NAME.to_owned(),
                ..Default::default()
            }),
        }))
    }

    /// Answers too late for any deadline a test sets.
    async fn verify_citizen(
        &self,
        _request: Request<VerifyCitizenRequest>,
    ) -> Result<Response<VerifyCitizenResponse>, Status> {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(Response::new(VerifyCitizenResponse::default()))
    }

    async fn verify_card_qr(
        &self,
        _request: Request<VerifyCardQrRequest>,
    ) -> Result<Response<VerifyCardQrResponse>, Status> {
        Err(Status::unimplemented("not in the fake"))
    }

    type MatchCitizensStream =
        Pin<Box<dyn Stream<Item = Result<MatchCitizensResponse, Status>> + Send>>;

    async fn match_citizens(
        &self,
        request: Request<Streaming<MatchCitizensRequest>>,
    ) -> Result<Response<Self::MatchCitizensStream>, Status> {
        let echoes = request.into_inner().map(|record| {
            Ok(MatchCitizensResponse {
                record_key: record?.record_key,
                ..Default::default()
            })
        });
        Ok(Response::new(Box::pin(echoes)))
    }
}

/// Lets a call through as client `lodging-app` acting for the citizen `KNOWN_ID` when it
/// carries an `authorization` header; refuses it otherwise.
struct TokenOrNothing;

impl sandbox06_gateway::Authorizer for TokenOrNothing {
    fn authorize<'a>(
        &'a self,
        _method: &'a MethodInfo,
        headers: &'a HeaderMap,
    ) -> futures::future::BoxFuture<'a, Result<Caller, ApiError>> {
        let allowed = headers.contains_key("authorization");
        Box::pin(async move {
            if !allowed {
                return Err(ApiError::new(Reason::TokenMissing, "no access token"));
            }
            Ok(Caller {
                client_id: Some("lodging-app".to_owned()),
                subject: Some(KNOWN_ID.to_owned()),
                scopes: vec!["citizen.read".to_owned()],
                acr: None,
            })
        })
    }

    fn identify<'a>(
        &'a self,
        _headers: &'a HeaderMap,
    ) -> futures::future::BoxFuture<'a, Result<Caller, ApiError>> {
        Box::pin(async { Ok(Caller::anonymous()) })
    }
}

/// The edge and its backend, running until dropped with the test's runtime.
struct Edge {
    url: String,
}

impl Edge {
    async fn start(journal: JournalConfig) -> Self {
        let backend = sandbox06_runtime::server::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let backend_url = format!("http://{}", backend.local_addr().unwrap());
        let builder = ServerBuilder::new(&Limits::default())
            .add_service(CitizenServiceServer::new(FakeCitizens));
        tokio::spawn(async move {
            builder
                .serve(backend, std::future::pending::<()>())
                .await
                .unwrap();
        });
        let listener = sandbox06_runtime::server::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let gateway = Gateway::new(vec![Backend::new(
            "citizen",
            backend_url,
            [CITIZEN_SERVICE],
        )])
        .with_authorizer(TokenOrNothing)
        .with_journal(journal);
        tokio::spawn(async move {
            gateway
                .serve(listener, std::future::pending::<()>())
                .await
                .unwrap();
        });
        Self { url }
    }

    async fn channel(&self) -> Channel {
        // The server is up once it accepts connections.
        for _ in 0..100 {
            if let Ok(channel) = Channel::from_shared(self.url.clone())
                .unwrap()
                .connect()
                .await
            {
                return channel;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the edge does not accept connections");
    }

    async fn citizens(&self) -> CitizenServiceClient<Channel> {
        CitizenServiceClient::new(self.channel().await)
    }

    async fn journal(&self) -> JournalControlClient<Channel> {
        JournalControlClient::new(self.channel().await)
    }

    /// GetCitizen over gRPC, with a token or without.
    async fn get(&self, id: &str, token: bool) -> Result<GetCitizenResponse, Status> {
        let mut request = Request::new(GetCitizenRequest {
            citizen_id: id.to_owned(),
            read_mask: None,
        });
        request
            .metadata_mut()
            .insert("traceparent", TRACEPARENT.parse().unwrap());
        if token {
            request
                .metadata_mut()
                .insert("authorization", "Bearer test".parse().unwrap());
        }
        self.citizens()
            .await
            .get_citizen(request)
            .await
            .map(Response::into_inner)
    }

    /// A REST GET with a token; the status and body.
    async fn rest_get(&self, path: &str) -> (u16, String) {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<bytes::Bytes>>();
        let request = http::Request::get(format!("{}{path}", self.url))
            .header("authorization", "Bearer test")
            .body(Full::default())
            .unwrap();
        let response = client.request(request).await.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }
}

fn filter() -> CallFilter {
    CallFilter::default()
}

async fn count(journal: &mut JournalControlClient<Channel>, filter: CallFilter) -> u64 {
    journal
        .verify_journal(VerifyJournalRequest {
            filter: Some(filter),
            comparison: Comparison::AtLeast.into(),
            expected_count: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .count
}

/// Waits until `n` calls are recorded (an entry is committed when its answer has ended on the
/// edge's side, a moment after the client has read it).
async fn wait_for(journal: &mut JournalControlClient<Channel>, n: u64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while count(journal, filter()).await < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} calls are not all recorded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn list(
    journal: &mut JournalControlClient<Channel>,
    filter: CallFilter,
) -> Vec<JournalEntry> {
    journal
        .list_journal(ListJournalRequest {
            filter: Some(filter),
            page_size: 0,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .entries
}

#[tokio::test]
async fn grpc_rest_and_refused_calls_are_each_recorded_once() {
    let edge = Edge::start(JournalConfig::default()).await;
    let mut journal = edge.journal().await;

    edge.get(KNOWN_ID, true).await.unwrap();
    let refused = edge.get(KNOWN_ID, false).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    let missing = edge.get(UNKNOWN_ID, true).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let (status, body) = edge.rest_get(&format!("/v1/citizens/{KNOWN_ID}")).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = edge.rest_get(&format!("/v1/nowhere/{KNOWN_ID}")).await;
    assert_eq!(status, 404);
    wait_for(&mut journal, 5).await;
    // Nothing is recorded twice, a moment later either.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let entries = list(&mut journal, filter()).await;
    assert_eq!(entries.len(), 5, "{entries:#?}");

    // Newest first, numbered in order.
    let sequences: Vec<u64> = entries.iter().map(|e| e.sequence).collect();
    assert!(sequences.windows(2).all(|w| w[0] > w[1]), "{sequences:?}");

    let [nowhere, rest, missing, refused, ok] = <[JournalEntry; 5]>::try_from(entries).unwrap();
    assert_eq!(ok.protocol(), Protocol::Grpc);
    assert_eq!(ok.method, GET_CITIZEN);
    assert_eq!(ok.code, 0);
    assert_eq!(ok.client_id, "lodging-app");
    assert_eq!(ok.subject, "058*******34");
    assert_eq!((ok.request_messages, ok.response_messages), (1, 1));
    assert!(ok.latency.is_some() && ok.time.is_some());
    assert_eq!(ok.trace_id, TRACE_ID);

    assert_eq!(refused.code, Code::Unauthenticated as u32);
    assert_eq!(refused.reason, "TOKEN_MISSING");
    assert_eq!(refused.method, GET_CITIZEN);
    assert!(refused.client_id.is_empty());
    assert_eq!(refused.request_messages, 0);

    assert_eq!(missing.code, Code::NotFound as u32);
    assert_eq!(missing.reason, "NO_SUCH_CITIZEN");
    assert!(!missing.message.contains(UNKNOWN_ID), "{}", missing.message);

    assert_eq!(rest.protocol(), Protocol::Rest);
    assert_eq!(rest.method, GET_CITIZEN);
    let http = rest.http.clone().unwrap();
    assert_eq!(
        (
            http.method.as_str(),
            http.path_template.as_str(),
            http.status
        ),
        ("GET", "/v1/citizens/{citizen_id}", 200)
    );
    assert_eq!(rest.code, 0);
    assert_eq!(rest.client_id, "lodging-app");

    assert_eq!(nowhere.protocol(), Protocol::Rest);
    assert_eq!(nowhere.code, Code::NotFound as u32);
    assert_eq!(nowhere.reason, "ROUTE_NOT_FOUND");
    let http = nowhere.http.clone().unwrap();
    assert_eq!(http.status, 404);
    assert_eq!(http.path_template, "/v1/nowhere/058*******34");

    // Masked bodies: the ID number and the name never appear whole.
    for entry in [&ok, &rest, &missing, &refused, &nowhere] {
        let text = format!("{entry:?}");
        assert!(!text.contains(KNOWN_ID), "{text}");
        assert!(!text.contains(UNKNOWN_ID), "{text}");
        assert!(!text.contains(KNOWN_NAME), "{text}");
    }
    let request: serde_json::Value = serde_json::from_str(&ok.request_body).unwrap();
    assert_eq!(request["citizenId"], "058*******34");
    let response: serde_json::Value = serde_json::from_str(&rest.response_body).unwrap();
    assert_eq!(response["citizen"]["fullName"], "N. V. A.");
    assert_eq!(response["citizen"]["citizenId"], "058*******34");
}

#[tokio::test]
async fn filters_and_verify_count_what_matched() {
    let edge = Edge::start(JournalConfig::default()).await;
    let mut journal = edge.journal().await;
    edge.get(KNOWN_ID, true).await.unwrap();
    edge.get(KNOWN_ID, true).await.unwrap();
    edge.get(UNKNOWN_ID, true).await.unwrap_err();
    edge.get(KNOWN_ID, false).await.unwrap_err();
    edge.rest_get(&format!("/v1/citizens/{KNOWN_ID}")).await;
    wait_for(&mut journal, 5).await;

    let cases = [
        (
            CallFilter {
                method: GET_CITIZEN.to_owned(),
                ..filter()
            },
            5,
        ),
        (
            CallFilter {
                method: CITIZEN_SERVICE.to_owned(),
                ..filter()
            },
            5,
        ),
        (
            CallFilter {
                method: "sandbox06.citizen.v1.CitizenService/MatchCitizens".to_owned(),
                ..filter()
            },
            0,
        ),
        (
            CallFilter {
                client_id: "lodging-app".to_owned(),
                ..filter()
            },
            4,
        ),
        (
            CallFilter {
                code: Some(0),
                ..filter()
            },
            3,
        ),
        (
            CallFilter {
                code: Some(Code::NotFound as u32),
                ..filter()
            },
            1,
        ),
        (
            CallFilter {
                reason: "TOKEN_MISSING".to_owned(),
                ..filter()
            },
            1,
        ),
        (
            CallFilter {
                protocol: Protocol::Rest.into(),
                ..filter()
            },
            1,
        ),
        (
            CallFilter {
                protocol: Protocol::Grpc.into(),
                code: Some(0),
                ..filter()
            },
            2,
        ),
        (
            CallFilter {
                since: Some(prost_types::Timestamp::from(
                    std::time::SystemTime::now() + Duration::from_secs(60),
                )),
                ..filter()
            },
            0,
        ),
        (
            CallFilter {
                until: Some(prost_types::Timestamp::from(
                    std::time::SystemTime::now() + Duration::from_secs(60),
                )),
                ..filter()
            },
            5,
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            count(&mut journal, filter.clone()).await,
            expected,
            "{filter:?}"
        );
        assert_eq!(
            list(&mut journal, filter.clone()).await.len() as u64,
            expected,
            "{filter:?}"
        );
    }

    // Verify compares as asked.
    let verify = |comparison: Comparison, expected_count: u64| VerifyJournalRequest {
        filter: Some(CallFilter {
            method: GET_CITIZEN.to_owned(),
            code: Some(0),
            ..filter()
        }),
        comparison: comparison.into(),
        expected_count,
    };
    for (comparison, expected, matched) in [
        (Comparison::Exactly, 3, true),
        (Comparison::Exactly, 2, false),
        (Comparison::AtLeast, 3, true),
        (Comparison::AtMost, 2, false),
        (Comparison::MoreThan, 2, true),
        (Comparison::LessThan, 3, false),
    ] {
        let answer = journal
            .verify_journal(verify(comparison, expected))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (answer.count, answer.matched),
            (3, matched),
            "{comparison:?} {expected}"
        );
    }

    // Pages of two, newest first, until the token runs out.
    let mut token = String::new();
    let mut seen = Vec::new();
    loop {
        let page = journal
            .list_journal(ListJournalRequest {
                filter: None,
                page_size: 2,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.entries.len() <= 2);
        seen.extend(page.entries.iter().map(|e| e.sequence));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "{seen:?}");
}

#[tokio::test]
async fn bad_requests_name_the_field() {
    let edge = Edge::start(JournalConfig::default()).await;
    let mut journal = edge.journal().await;
    let field_of = |status: Status| {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        field_violations_of(&status)[0].field.clone()
    };
    let verify = |comparison: Comparison, filter: CallFilter| VerifyJournalRequest {
        filter: Some(filter),
        comparison: comparison.into(),
        expected_count: 1,
    };
    let status = journal
        .verify_journal(verify(Comparison::Unspecified, filter()))
        .await
        .unwrap_err();
    assert_eq!(field_of(status), "comparison");
    for (bad, field) in [
        (
            CallFilter {
                code: Some(17),
                ..filter()
            },
            "filter.code",
        ),
        (
            CallFilter {
                method: "/no.Such/Method".to_owned(),
                ..filter()
            },
            "filter.method",
        ),
        (
            CallFilter {
                protocol: 9,
                ..filter()
            },
            "filter.protocol",
        ),
        (
            CallFilter {
                since: Some(prost_types::Timestamp {
                    seconds: 100,
                    nanos: 0,
                }),
                until: Some(prost_types::Timestamp {
                    seconds: 50,
                    nanos: 0,
                }),
                ..filter()
            },
            "filter.until",
        ),
    ] {
        let status = journal
            .verify_journal(verify(Comparison::Exactly, bad))
            .await
            .unwrap_err();
        assert_eq!(field_of(status), field);
    }
    for (page_size, page_token, field) in [(1001, "", "page_size"), (0, "x", "page_token")] {
        let status = journal
            .list_journal(ListJournalRequest {
                filter: None,
                page_size,
                page_token: page_token.to_owned(),
            })
            .await
            .unwrap_err();
        assert_eq!(field_of(status), field);
    }
    // The controls are not recorded themselves.
    assert_eq!(count(&mut journal, filter()).await, 0);
}

#[tokio::test]
async fn clear_forgets_and_the_bound_drops_the_oldest() {
    let edge = Edge::start(JournalConfig {
        max_entries: 3,
        ..JournalConfig::default()
    })
    .await;
    let mut journal = edge.journal().await;
    for _ in 0..5 {
        edge.get(KNOWN_ID, true).await.unwrap();
    }
    // Wait for the fifth: the bound keeps three.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let page = journal
            .list_journal(ListJournalRequest::default())
            .await
            .unwrap()
            .into_inner();
        if page.dropped == 2 {
            assert_eq!(page.entries.len(), 3);
            let sequences: Vec<u64> = page.entries.iter().map(|e| e.sequence).collect();
            assert_eq!(sequences, [5, 4, 3]);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{page:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let cleared = journal
        .clear_journal(ClearJournalRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cleared.cleared, 3);
    let page = journal
        .list_journal(ListJournalRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(page.entries.is_empty());
    assert_eq!(page.dropped, 0);

    // Sequence numbers go on after a clear.
    edge.get(KNOWN_ID, true).await.unwrap();
    wait_for(&mut journal, 1).await;
    assert_eq!(list(&mut journal, filter()).await[0].sequence, 6);
}

#[tokio::test]
async fn streams_are_counted_and_bodies_kept_in_full_when_configured() {
    let edge = Edge::start(JournalConfig {
        bodies: Bodies::Full,
        ..JournalConfig::default()
    })
    .await;
    let mut journal = edge.journal().await;
    edge.get(KNOWN_ID, true).await.unwrap();
    let records = (0..3).map(|i| MatchCitizensRequest {
        record_key: format!("row-{i}"),
        ..Default::default()
    });
    let mut request = Request::new(tokio_stream::iter(records));
    request
        .metadata_mut()
        .insert("authorization", "Bearer test".parse().unwrap());
    let answers: Vec<_> = edge
        .citizens()
        .await
        .match_citizens(request)
        .await
        .unwrap()
        .into_inner()
        .collect::<Result<_, _>>()
        .await
        .unwrap();
    assert_eq!(answers.len(), 3);
    wait_for(&mut journal, 2).await;

    let entries = list(&mut journal, filter()).await;
    let [stream, get] = <[JournalEntry; 2]>::try_from(entries).unwrap();
    assert_eq!((stream.request_messages, stream.response_messages), (3, 3));
    let requests: serde_json::Value = serde_json::from_str(&stream.request_body).unwrap();
    assert_eq!(requests[2]["recordKey"], "row-2");
    let responses: serde_json::Value = serde_json::from_str(&stream.response_body).unwrap();
    assert_eq!(responses.as_array().unwrap().len(), 3);

    // In full: as sent.
    assert_eq!(get.subject, KNOWN_ID);
    let response: serde_json::Value = serde_json::from_str(&get.response_body).unwrap();
    assert_eq!(response["citizen"]["citizenId"], KNOWN_ID);
    assert_eq!(response["citizen"]["fullName"], KNOWN_NAME);
}

#[tokio::test]
async fn bodies_past_the_bound_are_counted_not_kept_and_none_keeps_none() {
    for (config, truncated) in [
        (
            JournalConfig {
                max_body_bytes: 8,
                ..JournalConfig::default()
            },
            true,
        ),
        (
            JournalConfig {
                bodies: Bodies::None,
                ..JournalConfig::default()
            },
            false,
        ),
    ] {
        let edge = Edge::start(config).await;
        let mut journal = edge.journal().await;
        edge.get(KNOWN_ID, true).await.unwrap();
        wait_for(&mut journal, 1).await;
        let entry = list(&mut journal, filter()).await.remove(0);
        assert_eq!(
            (entry.request_truncated, entry.response_truncated),
            (truncated, truncated),
            "{entry:?}"
        );
        assert_eq!((entry.request_messages, entry.response_messages), (1, 1));
        assert!(entry.request_body.is_empty() && entry.response_body.is_empty());
    }
}

#[tokio::test]
async fn a_call_past_its_deadline_is_recorded_as_such() {
    let edge = Edge::start(JournalConfig::default()).await;
    let mut journal = edge.journal().await;
    let mut request = Request::new(VerifyCitizenRequest::default());
    request
        .metadata_mut()
        .insert("authorization", "Bearer test".parse().unwrap());
    request.set_timeout(Duration::from_millis(200));
    let status = edge
        .citizens()
        .await
        .verify_citizen(request)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    wait_for(&mut journal, 1).await;
    let entry = list(&mut journal, filter()).await.remove(0);
    assert_eq!(
        entry.method,
        "/sandbox06.citizen.v1.CitizenService/VerifyCitizen"
    );
    assert_eq!(entry.code, Code::DeadlineExceeded as u32, "{entry:?}");
    assert_eq!(entry.client_id, "lodging-app");
}

#[tokio::test]
async fn with_the_journal_off_there_is_no_control() {
    let edge = Edge::start(JournalConfig {
        enabled: false,
        ..JournalConfig::default()
    })
    .await;
    edge.get(KNOWN_ID, true).await.unwrap();
    let status = edge
        .journal()
        .await
        .list_journal(ListJournalRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented, "{status:?}");
}

#[tokio::test]
async fn a_grpc_web_call_is_recorded_as_one() {
    let edge = Edge::start(JournalConfig::default()).await;
    let mut journal = edge.journal().await;
    let message = prost::Message::encode_to_vec(&GetCitizenRequest {
        citizen_id: KNOWN_ID.to_owned(),
        read_mask: None,
    });
    let mut body = vec![0];
    body.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
    body.extend_from_slice(&message);
    // Binary gRPC-Web over HTTP/1.1, as a browser sends it.
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<bytes::Bytes>>();
    let request = http::Request::post(format!("{}{GET_CITIZEN}", edge.url))
        .header("content-type", "application/grpc-web+proto")
        .header("authorization", "Bearer test")
        .body(Full::new(bytes::Bytes::from(body)))
        .unwrap();
    let response = client.request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    response.into_body().collect().await.unwrap();
    wait_for(&mut journal, 1).await;

    let entries = list(&mut journal, filter()).await;
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let entry = &entries[0];
    assert_eq!(entry.protocol(), Protocol::GrpcWeb);
    assert_eq!(entry.method, GET_CITIZEN);
    assert_eq!(entry.code, 0);
    assert_eq!((entry.request_messages, entry.response_messages), (1, 1));
}
