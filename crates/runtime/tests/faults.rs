//! Fault injection on a real server: each kind of fault, the lifetimes of rules, their share
//! and matchers, the `x-sandbox06-fault` header and its journey to the next component, and the
//! rules refused.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use http_body_util::BodyExt as _;
use prost::Message as _;
use sandbox06_proto::admin as pb;
use sandbox06_proto::population::population_service_client::PopulationServiceClient;
use sandbox06_proto::population::{Citizen, GetCitizenRequest, GetCitizenResponse};
use sandbox06_runtime::config::Limits;
use sandbox06_runtime::error::{DOMAIN, field_violations_of, reason_of};
use sandbox06_runtime::faults::{
    FAULT_HEADER, FAULT_RULE_HEADER, FaultControlClient, TENANT_HEADER,
};
use sandbox06_runtime::server::{ServerBuilder, bind};
use sandbox06_runtime::telemetry::TraceContextInterceptor;
use sandbox06_runtime::{ErrorReason, PeerChannel, peer_channel};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt as _;

const SERVICE: &str = "sandbox06.upstream.population.v1.PopulationService";
const GET_CITIZEN: &str = "sandbox06.upstream.population.v1.PopulationService/GetCitizen";
const ALICE: &str = "001090000001";
const BOB: &str = "001090000002";

/// The test database's own reasons.
#[derive(Clone, Copy, Debug)]
enum DbReason {
    CitizenNotFound,
}

impl ErrorReason for DbReason {
    fn as_str(&self) -> &'static str {
        "CITIZEN_NOT_FOUND"
    }

    fn code(&self) -> Code {
        Code::NotFound
    }

    fn when(&self) -> &'static str {
        "In a test."
    }
}

/// A gRPC answer of one message and an OK status.
fn answer(message: &impl prost::Message) -> http::Response<axum::body::Body> {
    let encoded = message.encode_to_vec();
    let mut framed = BytesMut::new();
    framed.put_u8(0);
    framed.put_u32(u32::try_from(encoded.len()).unwrap());
    framed.put_slice(&encoded);
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
    let frames = futures::stream::iter([
        Ok::<_, Infallible>(http_body::Frame::data(framed.freeze())),
        Ok(http_body::Frame::trailers(trailers)),
    ]);
    http::Response::builder()
        .header("content-type", "application/grpc")
        .body(axum::body::Body::new(http_body_util::StreamBody::new(
            frames,
        )))
        .unwrap()
}

/// The request message of a unary call.
async fn request_message(request: http::Request<axum::body::Body>) -> GetCitizenRequest {
    let body = request.into_body().collect().await.unwrap().to_bytes();
    GetCitizenRequest::decode(body.get(5..).unwrap_or_default()).unwrap_or_default()
}

/// A server of `component` answering every call as GetCitizen does: the citizen asked for, or
/// when `next` is given, what `next` answers. Its address.
async fn server(component: &'static str, next: Option<SocketAddr>) -> SocketAddr {
    let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let next = next.map(|next| peer_channel(&format!("http://{next}")).unwrap());
    let handler = tower::service_fn(move |request: http::Request<axum::body::Body>| {
        let next: Option<PeerChannel> = next.clone();
        async move {
            let asked = request_message(request).await;
            let Some(next) = next else {
                let citizen = Citizen {
                    citizen_id: asked.citizen_id,
                    ..Default::default()
                };
                return Ok::<_, Infallible>(answer(&GetCitizenResponse {
                    citizen: Some(citizen),
                }));
            };
            let mut client =
                PopulationServiceClient::with_interceptor(next, TraceContextInterceptor);
            Ok(match client.get_citizen(asked).await {
                Ok(response) => answer(&response.into_inner()),
                Err(status) => status.into_http(),
            })
        }
    });
    let builder = ServerBuilder::new(&Limits::default())
        .component(component)
        .error_reasons(&[DbReason::CitizenNotFound])
        .list_service(SERVICE)
        .fallback(handler);
    tokio::spawn(builder.serve(listener, std::future::pending()));
    addr
}

fn channel(addr: SocketAddr) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy()
}

struct Db {
    channel: Channel,
}

impl Db {
    async fn start() -> Self {
        Self {
            channel: channel(server("test-db", None).await),
        }
    }

    fn control(&self) -> FaultControlClient<Channel> {
        FaultControlClient::new(self.channel.clone())
    }

    async fn create(&self, rule: pb::FaultRule) -> Result<pb::FaultRule, Status> {
        self.control()
            .create_fault_rule(pb::CreateFaultRuleRequest { rule: Some(rule) })
            .await
            .map(tonic::Response::into_inner)
    }

    async fn clear(&self) {
        self.control()
            .clear_fault_rules(pb::ClearFaultRulesRequest {})
            .await
            .unwrap();
    }

    async fn rules(&self) -> Vec<pb::FaultRule> {
        self.control()
            .list_fault_rules(pb::ListFaultRulesRequest {})
            .await
            .unwrap()
            .into_inner()
            .rules
    }

    /// GetCitizen of `citizen_id`, as `setup` shapes the request.
    async fn get_with(
        &self,
        citizen_id: &str,
        setup: impl FnOnce(&mut Request<GetCitizenRequest>),
    ) -> Result<tonic::Response<GetCitizenResponse>, Status> {
        let mut request = Request::new(GetCitizenRequest {
            citizen_id: citizen_id.into(),
            ..Default::default()
        });
        setup(&mut request);
        PopulationServiceClient::new(self.channel.clone())
            .get_citizen(request)
            .await
    }

    async fn get(&self, citizen_id: &str) -> Result<tonic::Response<GetCitizenResponse>, Status> {
        self.get_with(citizen_id, |_| {}).await
    }
}

/// A rule of every method doing `action`.
fn rule_of(action: pb::fault_rule::Action) -> pb::FaultRule {
    pb::FaultRule {
        action: Some(action),
        ..Default::default()
    }
}

fn status_rule(code: Code, reason: &str) -> pb::FaultRule {
    pb::FaultRule {
        method: GET_CITIZEN.into(),
        ..rule_of(pb::fault_rule::Action::Status(pb::StatusFault {
            code: code as i32,
            reason: reason.into(),
            message: String::new(),
        }))
    }
}

fn duration(d: Duration) -> prost_types::Duration {
    prost_types::Duration::try_from(d).unwrap()
}

fn latency_rule(delay: Duration) -> pb::FaultRule {
    rule_of(pb::fault_rule::Action::Latency(pb::LatencyFault {
        delay: Some(pb::latency_fault::Delay::Fixed(duration(delay))),
    }))
}

/// The `fault_rule` metadata of a status fault.
fn fault_rule_of(status: &Status) -> String {
    let info = status.get_details_error_info().unwrap();
    assert_eq!(info.domain, DOMAIN);
    info.metadata["fault_rule"].clone()
}

#[tokio::test]
async fn with_no_rule_calls_pass_untouched() {
    let db = Db::start().await;
    let response = db.get(ALICE).await.unwrap();
    assert!(response.metadata().get(FAULT_RULE_HEADER).is_none());
    assert_eq!(response.into_inner().citizen.unwrap().citizen_id, ALICE);
    assert!(db.rules().await.is_empty());
}

#[tokio::test]
async fn a_status_rule_answers_in_the_components_own_shape() {
    let db = Db::start().await;
    let rule = db
        .create(status_rule(Code::Ok, "CITIZEN_NOT_FOUND"))
        .await
        .unwrap();
    assert_eq!(rule.id, "f-1");
    assert_eq!(rule.component, "test-db");
    assert!(rule.create_time.is_some());
    let status = db.get(ALICE).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(reason_of(&status).as_deref(), Some("CITIZEN_NOT_FOUND"));
    assert_eq!(fault_rule_of(&status), rule.id);
    assert_eq!(status.metadata().get(FAULT_RULE_HEADER).unwrap(), "f-1");
    assert_eq!(db.rules().await[0].applied, 1);
    // By code alone, the component's reason for it; else the runtime's. Once cleared, the
    // ids start again from f-1.
    db.clear().await;
    let again = db.create(status_rule(Code::NotFound, "")).await.unwrap();
    assert_eq!(again.id, "f-1");
    let status = db.get(ALICE).await.unwrap_err();
    assert_eq!(reason_of(&status).as_deref(), Some("CITIZEN_NOT_FOUND"));
    db.clear().await;
    db.create(status_rule(Code::Unavailable, "")).await.unwrap();
    let status = db.get(ALICE).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason_of(&status).as_deref(), Some("UPSTREAM_UNAVAILABLE"));
}

#[tokio::test]
async fn a_latency_rule_delays_the_call_within_its_deadline() {
    let db = Db::start().await;
    db.create(latency_rule(Duration::from_millis(300)))
        .await
        .unwrap();
    let started = Instant::now();
    let response = db.get(ALICE).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(response.metadata().get(FAULT_RULE_HEADER).unwrap(), "f-1");
    // A delay beyond the deadline ends the call at the deadline.
    db.create(latency_rule(Duration::from_secs(5)))
        .await
        .unwrap();
    let started = Instant::now();
    let status = db
        .get_with(ALICE, |r| r.set_timeout(Duration::from_millis(500)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn uniform_and_normal_delays_are_drawn_within_their_bounds() {
    let db = Db::start().await;
    let mut rule = latency_rule(Duration::ZERO);
    rule.action = Some(pb::fault_rule::Action::Latency(pb::LatencyFault {
        delay: Some(pb::latency_fault::Delay::Uniform(pb::UniformDelay {
            min: Some(duration(Duration::from_millis(100))),
            max: Some(duration(Duration::from_millis(150))),
        })),
    }));
    db.create(rule.clone()).await.unwrap();
    let started = Instant::now();
    db.get(ALICE).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(100));
    rule.action = Some(pb::fault_rule::Action::Latency(pb::LatencyFault {
        delay: Some(pb::latency_fault::Delay::Normal(pb::NormalDelay {
            mean: Some(duration(Duration::from_millis(50))),
            stddev: Some(duration(Duration::from_millis(1))),
        })),
    }));
    db.create(rule).await.unwrap();
    let started = Instant::now();
    db.get(ALICE).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(140));
}

#[tokio::test]
async fn a_drop_rule_resets_the_stream() {
    let db = Db::start().await;
    db.create(rule_of(pb::fault_rule::Action::Drop(pb::DropFault {})))
        .await
        .unwrap();
    let status = db.get(ALICE).await.unwrap_err();
    // A tonic client reports a stream reset by the server as INTERNAL.
    assert_eq!(status.code(), Code::Internal, "{status:?}");
    assert!(status.get_details_error_info().is_none(), "{status:?}");
    // The connection itself is fine: the next call passes once the rule is gone.
    db.clear().await;
    db.get(ALICE).await.unwrap();
}

#[tokio::test]
async fn a_down_rule_makes_the_component_unreachable_but_for_its_controls() {
    let db = Db::start().await;
    db.create(rule_of(pb::fault_rule::Action::Down(pb::DownFault {})))
        .await
        .unwrap();
    let status = db.get(ALICE).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.get_details_error_info().is_none());
    let health = sandbox06_runtime::client::health_status(db.channel.clone(), "").await;
    assert_eq!(health.unwrap_err().code(), Code::Unavailable);
    // FaultControl answers, and lifts the fault.
    assert_eq!(db.rules().await.len(), 1);
    db.clear().await;
    db.get(ALICE).await.unwrap();
    let health = sandbox06_runtime::client::health_status(db.channel.clone(), "").await;
    assert_eq!(health.unwrap(), "SERVING");
}

#[tokio::test]
async fn a_rule_of_n_times_ends_after_n_calls() {
    let db = Db::start().await;
    let mut rule = status_rule(Code::Unavailable, "");
    rule.times = 2;
    db.create(rule).await.unwrap();
    assert!(db.get(ALICE).await.is_err());
    assert!(db.get(ALICE).await.is_err());
    db.get(ALICE).await.unwrap();
    assert!(db.rules().await.is_empty());
}

#[tokio::test]
async fn a_rule_with_a_ttl_ends_then() {
    let db = Db::start().await;
    let mut rule = status_rule(Code::Unavailable, "");
    rule.ttl = Some(duration(Duration::from_millis(300)));
    let created = db.create(rule).await.unwrap();
    assert!(created.expire_time.is_some());
    assert!(created.ttl.is_none());
    assert!(db.get(ALICE).await.is_err());
    tokio::time::sleep(Duration::from_millis(400)).await;
    db.get(ALICE).await.unwrap();
    assert!(db.rules().await.is_empty());
}

#[tokio::test]
async fn a_share_applies_to_about_that_share_of_calls() {
    let db = Db::start().await;
    let mut rule = status_rule(Code::Unavailable, "");
    rule.share = Some(0.5);
    db.create(rule).await.unwrap();
    let mut failed = 0;
    for _ in 0..200 {
        if db.get(ALICE).await.is_err() {
            failed += 1;
        }
    }
    assert!((50..150).contains(&failed), "{failed} of 200");
    assert_eq!(db.rules().await[0].applied, failed);
}

#[tokio::test]
async fn rules_match_on_method_citizen_and_client() {
    let db = Db::start().await;
    let mut rule = status_rule(Code::NotFound, "");
    rule.citizen_id = ALICE.into();
    db.create(rule).await.unwrap();
    assert_eq!(db.get(ALICE).await.unwrap_err().code(), Code::NotFound);
    db.get(BOB).await.unwrap();

    let mut rule = status_rule(Code::PermissionDenied, "");
    rule.method = SERVICE.into();
    rule.client_id = "demo-hotel".into();
    db.create(rule).await.unwrap();
    db.get(BOB).await.unwrap();
    let status = db
        .get_with(BOB, |r| {
            r.metadata_mut()
                .insert("x-sandbox06-caller-client", "demo-hotel".parse().unwrap());
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    let mut other = status_rule(Code::Internal, "");
    other.method = format!("{SERVICE}/GetCountryInfo");
    db.create(other).await.unwrap();
    db.get(BOB).await.unwrap();
}

#[tokio::test]
async fn the_header_faults_the_call_that_carries_it() {
    let db = Db::start().await;
    let with = |value: &'static str| {
        move |r: &mut Request<GetCitizenRequest>| {
            r.metadata_mut()
                .insert(FAULT_HEADER, value.parse().unwrap());
        }
    };
    let status = db
        .get_with(ALICE, with("test-db: unavailable"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(fault_rule_of(&status), "header");
    let status = db
        .get_with(ALICE, with("test-db: reason=CITIZEN_NOT_FOUND"))
        .await
        .unwrap_err();
    assert_eq!(reason_of(&status).as_deref(), Some("CITIZEN_NOT_FOUND"));
    // Another component's part is not this one's.
    db.get_with(ALICE, with("citizen: unavailable"))
        .await
        .unwrap();
    let started = Instant::now();
    db.get_with(ALICE, with("test-db: latency=200ms"))
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
    let status = db
        .get_with(ALICE, with("test-db: sometimes"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let info = status.get_details_error_info().unwrap();
    assert_eq!(info.metadata["header"], FAULT_HEADER);
    // No rule was made of it.
    assert!(db.rules().await.is_empty());
}

#[tokio::test]
async fn the_header_travels_to_the_components_behind() {
    let back = server("back", None).await;
    let front = channel(server("front", Some(back)).await);
    let mut client = PopulationServiceClient::new(front);
    let mut request = Request::new(GetCitizenRequest {
        citizen_id: ALICE.into(),
        ..Default::default()
    });
    request.metadata_mut().insert(
        FAULT_HEADER,
        "front: latency=100ms, back: not_found".parse().unwrap(),
    );
    let started = Instant::now();
    let status = client.get_citizen(request).await.unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(fault_rule_of(&status), "header");
    // Without it, the call passes through both.
    let answered = client
        .get_citizen(GetCitizenRequest {
            citizen_id: ALICE.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(answered.into_inner().citizen.unwrap().citizen_id, ALICE);
}

#[tokio::test]
async fn bad_rules_are_refused_naming_the_field() {
    let db = Db::start().await;
    let refused = |rule: pb::FaultRule, field: &'static str| {
        let db = &db;
        async move {
            let status = db.create(rule).await.unwrap_err();
            assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
            let violations = field_violations_of(&status);
            assert_eq!(violations[0].field, field, "{status:?}");
        }
    };
    refused(status_rule(Code::Ok, "SHOP_CLOSED"), "rule.status.reason").await;
    refused(
        status_rule(Code::Internal, "CITIZEN_NOT_FOUND"),
        "rule.status.code",
    )
    .await;
    refused(status_rule(Code::Ok, ""), "rule.status.code").await;
    let mut rule = status_rule(Code::Internal, "");
    rule.share = Some(1.5);
    refused(rule, "rule.share").await;
    let mut rule = status_rule(Code::Internal, "");
    rule.share = Some(0.0);
    refused(rule, "rule.share").await;
    let mut rule = status_rule(Code::Internal, "");
    rule.method = "no.such.Service".into();
    refused(rule, "rule.method").await;
    let mut rule = status_rule(Code::Internal, "");
    rule.method = format!("{SERVICE}/NoSuchMethod");
    refused(rule, "rule.method").await;
    let mut rule = status_rule(Code::Internal, "");
    rule.component = "citizen".into();
    refused(rule, "rule.component").await;
    refused(pb::FaultRule::default(), "rule.action").await;
    refused(latency_rule(Duration::ZERO), "rule.latency.fixed").await;
    refused(latency_rule(Duration::from_secs(301)), "rule.latency.fixed").await;
    let mut rule = status_rule(Code::Internal, "");
    rule.ttl = Some(duration(Duration::ZERO));
    refused(rule, "rule.ttl").await;
    let status = db
        .control()
        .create_fault_rule(pb::CreateFaultRuleRequest { rule: None })
        .await
        .unwrap_err();
    assert_eq!(field_violations_of(&status)[0].field, "rule");
    assert!(db.rules().await.is_empty());
    let status = db
        .control()
        .delete_fault_rule(pb::DeleteFaultRuleRequest { id: "f-9".into() })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}

#[tokio::test]
async fn a_deleted_rule_stops_and_is_returned_with_its_count() {
    let db = Db::start().await;
    let rule = db.create(status_rule(Code::Unavailable, "")).await.unwrap();
    assert!(db.get(ALICE).await.is_err());
    let deleted = db
        .control()
        .delete_fault_rule(pb::DeleteFaultRuleRequest { id: rule.id })
        .await
        .unwrap()
        .into_inner()
        .rule
        .unwrap();
    assert_eq!(deleted.applied, 1);
    db.get(ALICE).await.unwrap();
}

#[tokio::test]
async fn a_drop_reads_alike_to_a_component_calling_in_process() {
    let back = server("back", None).await;
    let front = channel(server("front", Some(back)).await);
    let mut request = Request::new(GetCitizenRequest {
        citizen_id: ALICE.into(),
        ..Default::default()
    });
    request
        .metadata_mut()
        .insert(FAULT_HEADER, "back: drop".parse().unwrap());
    let status = PopulationServiceClient::new(front)
        .get_citizen(request)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Internal, "{status:?}");
}

/// `request` carrying the tenant `tenant`.
fn tenant_of<T>(mut request: Request<T>, tenant: &str) -> Request<T> {
    request
        .metadata_mut()
        .insert(TENANT_HEADER, tenant.parse().unwrap());
    request
}

#[tokio::test]
async fn a_tenants_rule_reaches_the_component_behind_for_that_tenant_only() {
    let back = server("back", None).await;
    let front = channel(server("front", Some(back)).await);
    let mut control = FaultControlClient::new(channel(back));
    // Job A makes the component behind fail its calls.
    let mut rule = status_rule(Code::NotFound, "CITIZEN_NOT_FOUND");
    rule.component = "back".into();
    let created = control
        .create_fault_rule(tenant_of(
            Request::new(pb::CreateFaultRuleRequest { rule: Some(rule) }),
            "job-a",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.tenant, "job-a");
    let get = |tenant: Option<&'static str>| {
        let front = front.clone();
        async move {
            let request = Request::new(GetCitizenRequest {
                citizen_id: ALICE.into(),
                ..Default::default()
            });
            let request = match tenant {
                Some(tenant) => tenant_of(request, tenant),
                None => request,
            };
            PopulationServiceClient::new(front)
                .get_citizen(request)
                .await
        }
    };
    // The tenant travels from the front to the back: A's call fails there, B's and an
    // untenanted call pass.
    let status = get(Some("job-a")).await.unwrap_err();
    assert_eq!(reason_of(&status).as_deref(), Some("CITIZEN_NOT_FOUND"));
    assert_eq!(fault_rule_of(&status), created.id);
    get(Some("job-b")).await.unwrap();
    get(None).await.unwrap();
    // B neither sees nor deletes A's rule; the operator sees it.
    let listed = |tenant: Option<&'static str>| {
        let mut control = control.clone();
        async move {
            let request = Request::new(pb::ListFaultRulesRequest {});
            let request = match tenant {
                Some(tenant) => tenant_of(request, tenant),
                None => request,
            };
            control
                .list_fault_rules(request)
                .await
                .unwrap()
                .into_inner()
                .rules
        }
    };
    assert!(listed(Some("job-b")).await.is_empty());
    assert_eq!(listed(Some("job-a")).await.len(), 1);
    assert_eq!(listed(None).await.len(), 1);
    let status = control
        .delete_fault_rule(tenant_of(
            Request::new(pb::DeleteFaultRuleRequest {
                id: created.id.clone(),
            }),
            "job-b",
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let cleared = control
        .clear_fault_rules(tenant_of(
            Request::new(pb::ClearFaultRulesRequest {}),
            "job-b",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cleared.removed, 0);
    let cleared = control
        .clear_fault_rules(tenant_of(
            Request::new(pb::ClearFaultRulesRequest {}),
            "job-a",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cleared.removed, 1);
    get(Some("job-a")).await.unwrap();
}

#[tokio::test]
async fn a_malformed_tenant_is_refused_naming_the_header() {
    let db = Db::start().await;
    for bad in ["job a", "job/a", &"x".repeat(65)] {
        let status = db
            .get_with(ALICE, |r| {
                r.metadata_mut().insert(TENANT_HEADER, bad.parse().unwrap());
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{bad}");
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.metadata["header"], TENANT_HEADER, "{bad}");
        // The controls refuse it too.
        let status = db
            .control()
            .list_fault_rules(tenant_of(Request::new(pb::ListFaultRulesRequest {}), bad))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{bad}");
    }
}

#[tokio::test]
async fn a_malformed_grpc_timeout_is_refused_alike_with_or_without_a_fault() {
    let db = Db::start().await;
    let refused = |status: &Status, case: &str| {
        assert_eq!(status.code(), Code::InvalidArgument, "{case}: {status:?}");
        assert_eq!(
            reason_of(status).as_deref(),
            Some("INVALID_ARGUMENT"),
            "{case}"
        );
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.metadata["header"], "grpc-timeout", "{case}");
    };
    let with = |fault: Option<&'static str>| {
        move |r: &mut Request<GetCitizenRequest>| {
            r.metadata_mut()
                .insert("grpc-timeout", "1.5S".parse().unwrap());
            if let Some(fault) = fault {
                r.metadata_mut()
                    .insert(FAULT_HEADER, fault.parse().unwrap());
            }
        }
    };
    // No fault: the deadline layer refuses it.
    refused(
        &db.get_with(ALICE, with(None)).await.unwrap_err(),
        "no fault",
    );
    // A delay of the header's, then of a rule's, and a status of a rule's: refused alike,
    // not given the default deadline.
    refused(
        &db.get_with(ALICE, with(Some("test-db: latency=50ms")))
            .await
            .unwrap_err(),
        "header delay",
    );
    db.create(latency_rule(Duration::from_millis(50)))
        .await
        .unwrap();
    refused(
        &db.get_with(ALICE, with(None)).await.unwrap_err(),
        "rule delay",
    );
    db.clear().await;
    db.create(status_rule(Code::Unavailable, "")).await.unwrap();
    refused(
        &db.get_with(ALICE, with(None)).await.unwrap_err(),
        "rule status",
    );
    db.clear().await;
    // A well-formed one still gets its delay and its answer.
    db.create(latency_rule(Duration::from_millis(50)))
        .await
        .unwrap();
    db.get_with(ALICE, |r| r.set_timeout(Duration::from_secs(5)))
        .await
        .unwrap();
}
