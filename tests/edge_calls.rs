//! A component's calls to another service through the edge, as the next services make them
//! (`Context::edge_channel`): with a client-credentials token of the client the component
//! declares in its spec (which the single sign-on registered at start), in the caller's trace,
//! and within what is left of the caller's deadline.
//!
//! The calling component here serves `CitizenService` itself (as an upstream, not routed by the
//! edge): its `GetCitizen` asks the citizen service the same through the edge.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use figment::Figment;
use sandbox06::{Suite, components};
use sandbox06_citizen::component::SPEC as CITIZEN_SPEC;
use sandbox06_proto::citizen::{
    GetCitizenRequest, GetCitizenResponse, MatchCitizensRequest, MatchCitizensResponse,
    VerifyCardQrRequest, VerifyCardQrResponse, VerifyCitizenRequest, VerifyCitizenResponse,
    citizen_service_client::CitizenServiceClient,
    citizen_service_server::{CitizenService, CitizenServiceServer},
};
use sandbox06_runtime::{
    caller::Caller,
    component::{
        CLIENT_CREDENTIALS, ClientSpec, Component, ComponentSpec, Context, Role, Running, Shutdown,
        StartError,
    },
    config::ConfigError,
    server::ServerBuilder,
    token::EdgeChannel,
};
use sandbox06_testkit::spans::telemetry;
use sandbox06_testkit::{Answer, Fake, personas, test_config};
use tokio::net::TcpListener;
use tonic::{Request, Response, Status, Streaming};

/// The client the calling component declares.
const CALLER_CLIENT: &str = "svc-edge-caller";

static CALLER_SPEC: ComponentSpec = ComponentSpec {
    name: "edge-caller",
    summary: "a component calling the citizen service through the edge, for tests",
    role: Role::Upstream,
    section: "edge_caller",
    grpc_services: &[],
    http_prefixes: &[],
    peers: &[],
    container_port: 4697,
    clients: &[ClientSpec {
        client_id: CALLER_CLIENT,
        name: "Thử gọi qua cổng",
        name_en: "Edge caller (tests)",
        grant_types: &[CLIENT_CREDENTIALS],
        scopes: &["citizen.read"],
    }],
};

/// What the calling component saw of its own calls.
#[derive(Default)]
struct Calls {
    /// The status of each call it made through the edge, when it failed.
    failed: Mutex<Vec<tonic::Code>>,
    /// Its channel to the edge, once it serves.
    edge: Mutex<Option<EdgeChannel>>,
}

#[derive(Clone)]
struct Forwarder {
    citizens: CitizenServiceClient<EdgeChannel>,
    calls: Arc<Calls>,
}

#[tonic::async_trait]
impl CitizenService for Forwarder {
    async fn get_citizen(
        &self,
        request: Request<GetCitizenRequest>,
    ) -> Result<Response<GetCitizenResponse>, Status> {
        let answer = self
            .citizens
            .clone()
            .get_citizen(request.into_inner())
            .await;
        if let Err(status) = &answer {
            self.calls.failed.lock().unwrap().push(status.code());
        }
        answer
    }

    async fn verify_citizen(
        &self,
        _: Request<VerifyCitizenRequest>,
    ) -> Result<Response<VerifyCitizenResponse>, Status> {
        Err(Status::unimplemented("not in this test"))
    }

    async fn verify_card_qr(
        &self,
        _: Request<VerifyCardQrRequest>,
    ) -> Result<Response<VerifyCardQrResponse>, Status> {
        Err(Status::unimplemented("not in this test"))
    }

    type MatchCitizensStream = tokio_stream::Empty<Result<MatchCitizensResponse, Status>>;

    async fn match_citizens(
        &self,
        _: Request<Streaming<MatchCitizensRequest>>,
    ) -> Result<Response<Self::MatchCitizensStream>, Status> {
        Err(Status::unimplemented("not in this test"))
    }
}

struct CallerComponent(Arc<Calls>);

impl Component for CallerComponent {
    fn spec(&self) -> &'static ComponentSpec {
        &CALLER_SPEC
    }

    fn listen(&self, _config: &Figment) -> Result<SocketAddr, ConfigError> {
        Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }

    fn serve(&self, ctx: Context, listener: TcpListener, shutdown: Shutdown) -> Running {
        let calls = Arc::clone(&self.0);
        Box::pin(async move {
            let edge = ctx.edge_channel(&CALLER_SPEC, None)?;
            *calls.edge.lock().unwrap() = Some(edge.clone());
            let forwarder = Forwarder {
                citizens: CitizenServiceClient::new(edge),
                calls,
            };
            ServerBuilder::new(&ctx.limits)
                .component(CALLER_SPEC.name)
                .add_service(CitizenServiceServer::new(forwarder))
                .serve(listener, shutdown)
                .await
                .map_err(StartError::serve(CALLER_SPEC.name))
        })
    }
}

/// The suite with the calling component, and `citizen` in place of the citizen service when
/// given.
async fn suite(calls: &Arc<Calls>, citizen: Option<&Fake>) -> Suite {
    let mut list = components();
    if let Some(citizen) = citizen {
        list.retain(|c| c.spec().name != CITIZEN_SPEC.name);
        list.push(citizen.component(&CITIZEN_SPEC));
    }
    list.push(Arc::new(CallerComponent(Arc::clone(calls))));
    let mut suite = Suite::start_with(&test_config(), list).await.unwrap();
    suite.wait_ready(Duration::from_secs(10)).await.unwrap();
    suite
}

async fn caller(suite: &Suite) -> CitizenServiceClient<tonic::transport::Channel> {
    let addr = suite.addr(CALLER_SPEC.name).unwrap();
    CitizenServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
}

fn get(citizen_id: &str, trace: &str) -> Request<GetCitizenRequest> {
    let mut request = Request::new(GetCitizenRequest {
        citizen_id: citizen_id.into(),
        read_mask: None,
    });
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{trace}-00f067aa0ba902b7-01").parse().unwrap(),
    );
    request
}

fn trace_of(traceparent: &str) -> &str {
    traceparent.split('-').nth(1).unwrap_or_default()
}

#[tokio::test]
async fn a_component_calls_the_citizen_service_through_the_edge_in_the_callers_trace() {
    const TRACE: &str = "9bf92f3577b34da6a3ce929d0e0e4740";
    let (provider, collector) = telemetry();
    let calls = Arc::new(Calls::default());
    let suite = suite(&calls, None).await;
    let mut client = caller(&suite).await;
    for _ in 0..3 {
        let citizen = client
            .get_citizen(get(personas::HAPPY_PATH, TRACE))
            .await
            .unwrap()
            .into_inner()
            .citizen
            .unwrap();
        assert_eq!(citizen.citizen_id, personas::HAPPY_PATH);
    }
    // One token, fetched through the edge, for every call while it lives.
    let edge = calls.edge.lock().unwrap().clone().unwrap();
    assert_eq!(edge.source().fetched(), 1);
    suite.stop().await.unwrap();
    provider.force_flush().unwrap();
    // Every hop in the caller's trace: the calling component, the edge (its gRPC call and
    // the token's HTTP request), the citizen service and the population database.
    let services = collector.services_of(TRACE);
    for hop in ["edge-caller", "gateway", "sso", "citizen", "population-db"] {
        assert!(services.contains(hop), "{hop} missing from {services:?}");
    }
}

#[tokio::test]
async fn the_callee_sees_the_components_client_trace_and_deadline() {
    const TRACE: &str = "9bf92f3577b34da6a3ce929d0e0e4741";
    telemetry();
    let calls = Arc::new(Calls::default());
    // The citizen service as the edge routes it, recording each call.
    let citizen = Fake::new(Answer::Empty);
    let suite = suite(&calls, Some(&citizen)).await;
    let mut client = caller(&suite).await;

    // The component's first call also fetches its token, which may take a while on a busy
    // machine; the deadline is measured on the call after it.
    client
        .get_citizen(get(personas::HAPPY_PATH, TRACE))
        .await
        .unwrap();
    let mut request = get(personas::HAPPY_PATH, TRACE);
    request.set_timeout(Duration::from_secs(5));
    client.get_citizen(request).await.unwrap();
    let seen = citizen.headers()[1].clone();
    let caller = Caller::from_headers(&seen);
    // The edge took the component's token and told the service who calls.
    assert_eq!(caller.client_id.as_deref(), Some(CALLER_CLIENT));
    assert_eq!(caller.subject, None);
    assert!(caller.has_scope("citizen.read"), "{caller:?}");
    let traceparent = seen.get("traceparent").and_then(|v| v.to_str().ok());
    assert_eq!(trace_of(traceparent.unwrap_or_default()), TRACE);
    // What was left of the caller's 5 s, not the server's default.
    let left = citizen.deadlines()[1].unwrap();
    assert!(
        left <= Duration::from_secs(5) && left > Duration::from_secs(3),
        "{left:?}"
    );

    // A callee that never answers: the call ends at the caller's deadline, as such.
    citizen.answer(Answer::Stall);
    let mut request = get(personas::HAPPY_PATH, TRACE);
    request.set_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let status = client.get_citizen(request).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let hung = citizen.deadlines().last().copied().flatten().unwrap();
    assert!(hung <= Duration::from_millis(300), "{hung:?}");
    // The component's own call ended as the deadline's, never as a cancellation.
    for code in calls.failed.lock().unwrap().iter() {
        assert_eq!(*code, tonic::Code::DeadlineExceeded);
    }
    suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_component_without_a_declared_client_cannot_call_through_the_edge() {
    static BARE: ComponentSpec = ComponentSpec {
        name: "bare",
        summary: "a component declaring no client",
        role: Role::Upstream,
        section: "bare",
        grpc_services: &[],
        http_prefixes: &[],
        peers: &[],
        container_port: 4696,
        clients: &[],
    };
    let config = test_config();
    let peers = components()
        .iter()
        .map(|c| sandbox06_runtime::component::Peer {
            spec: c.spec(),
            url: Some("http://127.0.0.1:1".to_owned()),
        })
        .collect();
    let ctx = Context::new(
        config.layers(),
        config.limits.clone(),
        config.population.reference_date().unwrap(),
        peers,
    );
    let error = ctx.edge_channel(&BARE, None).unwrap_err();
    assert!(
        matches!(
            error,
            StartError::Credentials {
                component: "bare",
                ..
            }
        ),
        "{error}"
    );
    let error = ctx.edge_channel(&CALLER_SPEC, None).unwrap_err();
    assert!(error.to_string().contains("no rule"), "{error}");

    // Running alone, the component is told where the edge is, or told which key to set.
    let apart: Vec<_> = components()
        .iter()
        .map(|c| sandbox06_runtime::component::Peer {
            spec: c.spec(),
            url: None,
        })
        .collect();
    let ctx = Context::new(
        config.layers(),
        config.limits.clone(),
        config.population.reference_date().unwrap(),
        apart,
    )
    .with_client_secrets(sandbox06::client_secrets(&config).unwrap());
    let error = ctx.edge_channel(&CALLER_SPEC, None).unwrap_err();
    assert!(
        matches!(&error, StartError::MissingPeer { key, .. } if key == "edge_caller.gateway_url"),
        "{error}"
    );
    assert!(
        ctx.edge_channel(&CALLER_SPEC, Some("http://gateway:4606"))
            .is_ok()
    );
}
