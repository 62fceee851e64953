//! The gateway in front of an in-process fake citizen backend (which also mounts HTTP routes),
//! exercised with real tonic and HTTP clients through the edge port only.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sandbox06_gateway::{Backend, Caller, Gateway, GatewayError};
use sandbox06_proto::citizen::citizen_service_client::CitizenServiceClient;
use sandbox06_proto::citizen::citizen_service_server::{CitizenService, CitizenServiceServer};
use sandbox06_proto::citizen::{
    Citizen, GetCitizenRequest, GetCitizenResponse, MatchCitizensRequest, MatchCitizensResponse,
    VerifyCardQrRequest, VerifyCardQrResponse, VerifyCitizenRequest, VerifyCitizenResponse,
};
use sandbox06_runtime::config::Limits;
use sandbox06_runtime::error::reason_of;
use sandbox06_runtime::server::ServerBuilder;
use sandbox06_runtime::{ApiError, ErrorReason};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_stream::{Stream, StreamExt};
use tonic::{Code, Request, Response, Status, Streaming};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const CITIZEN_SERVICE: &str = "sandbox06.citizen.v1.CitizenService";
const KNOWN_ID: &str = "058091001234";
const CLIENT_TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN_ID: &str = "00f067aa0ba902b7";
/// Long enough for the gateway's one-second health mirror on a loaded machine.
const WAIT: Duration = Duration::from_secs(20);

/// Spans with real OpenTelemetry ids (no export), so the gateway hop has a context to pass on.
fn init_tracing() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        use opentelemetry::trace::TracerProvider as _;
        use tracing_subscriber::layer::SubscriberExt;
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("edge-test")));
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
}

/// A backend's own reason: the gateway passes it through untouched.
#[derive(Debug)]
struct CitizenNotFound;

impl ErrorReason for CitizenNotFound {
    fn as_str(&self) -> &'static str {
        "CITIZEN_NOT_FOUND"
    }

    fn code(&self) -> Code {
        Code::NotFound
    }

    fn when(&self) -> &'static str {
        "No citizen has this personal ID number."
    }
}

/// What the fake backend saw of the last GetCitizen call.
#[derive(Clone, Default)]
struct Seen {
    traceparent: Arc<Mutex<Option<String>>>,
    caller: Arc<Mutex<Option<Caller>>>,
}

/// A citizen service that knows one citizen and echoes match requests.
#[derive(Default)]
struct FakeCitizens {
    seen: Seen,
}

#[tonic::async_trait]
impl CitizenService for FakeCitizens {
    async fn get_citizen(
        &self,
        request: Request<GetCitizenRequest>,
    ) -> Result<Response<GetCitizenResponse>, Status> {
        let traceparent = request
            .metadata()
            .get("traceparent")
            .map(|value| value.to_str().unwrap().to_owned());
        *self.seen.traceparent.lock().unwrap() = traceparent;
        *self.seen.caller.lock().unwrap() = Some(Caller::from_metadata(request.metadata()));
        let id = request.into_inner().citizen_id;
        if id != KNOWN_ID {
            return Err(ApiError::new(CitizenNotFound, "no such citizen")
                .with_metadata("citizen_id", sandbox06_runtime::mask::citizen_id(&id))
                .into());
        }
        Ok(Response::new(GetCitizenResponse {
            citizen: Some(Citizen {
                citizen_id: id,
                full_name: "Nguyễn Văn An".to_owned(),
                ..Default::default()
            }),
        }))
    }

    async fn verify_citizen(
        &self,
        _request: Request<VerifyCitizenRequest>,
    ) -> Result<Response<VerifyCitizenResponse>, Status> {
        Err(Status::unimplemented("not in the fake"))
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
        let mut index = 0;
        let echoes = request.into_inner().map(move |record| {
            let record = record?;
            let response = MatchCitizensResponse {
                record_key: record.record_key,
                index,
                ..Default::default()
            };
            index += 1;
            Ok(response)
        });
        Ok(Response::new(Box::pin(echoes)))
    }
}

/// A server running in the background until stopped.
struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn channel(&self) -> tonic::transport::Channel {
        sandbox06_runtime::grpc_channel(&self.url()).unwrap()
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.unwrap();
    }
}

/// The fake backend's HTTP routes: `/oidc/whoami` answers the caller and forwarding headers it
/// received as JSON, `/oidc/echo` echoes the body and its content type, `/oidc/stream` echoes
/// each chunk of the body as it arrives.
fn backend_http_routes() -> axum::Router {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/oidc/whoami",
            get(|headers: HeaderMap| async move {
                let caller = Caller::from_headers(&headers);
                let header = |name: &str| {
                    headers
                        .get(name)
                        .map(|value| value.to_str().unwrap().to_owned())
                };
                let body = serde_json::json!({
                    "client_id": caller.client_id,
                    "subject": caller.subject,
                    "scopes": caller.scopes,
                    "acr": caller.acr,
                    "claimed_subject": header("x-sandbox06-caller-subject"),
                    "forwarded_for": header("x-forwarded-for"),
                    "forwarded_host": header("x-forwarded-host"),
                    "forwarded_proto": header("x-forwarded-proto"),
                    "traceparent": header("traceparent"),
                });
                (
                    [(http::header::CONTENT_TYPE, "application/json")],
                    body.to_string(),
                )
            }),
        )
        .route(
            "/oidc/stream",
            post(|body: axum::body::Body| async move {
                // Each chunk goes back as soon as it arrives.
                axum::body::Body::from_stream(body.into_data_stream())
            }),
        )
        .route(
            "/oidc/echo",
            post(|headers: HeaderMap, body: Bytes| async move {
                let content_type = headers
                    .get(http::header::CONTENT_TYPE)
                    .cloned()
                    .unwrap_or(http::HeaderValue::from_static("application/octet-stream"));
                ([(http::header::CONTENT_TYPE, content_type)], body)
            }),
        )
}

async fn start_backend(seen: Seen) -> Running {
    let listener = sandbox06_runtime::server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let builder = ServerBuilder::new(&Limits::default())
        .add_service(CitizenServiceServer::new(FakeCitizens { seen }))
        .http_routes(backend_http_routes());
    builder
        .health_reporter()
        .set_serving::<CitizenServiceServer<FakeCitizens>>()
        .await;
    spawn(addr, |stopped| async move {
        builder
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    })
}

/// Runs a server task until its [`Running`] handle stops it.
fn spawn<F: Future<Output = ()> + Send + 'static>(
    addr: std::net::SocketAddr,
    serve: impl FnOnce(oneshot::Receiver<()>) -> F,
) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    Running {
        addr,
        stop: Some(stop),
        task: tokio::spawn(serve(stopped)),
    }
}

async fn start_gateway(backend_url: String, limits: Limits) -> Running {
    start_gateway_with(backend_url, limits, sandbox06_gateway::AllowAll).await
}

/// The gateway in front of the fake backend (gRPC, and HTTP under `/oidc`), with edge-local
/// routes `/edge/ping` and `/edge/caller` (the subject the route was given).
async fn start_gateway_with(
    backend_url: String,
    limits: Limits,
    authorizer: impl sandbox06_gateway::Authorizer,
) -> Running {
    init_tracing();
    let listener = sandbox06_runtime::server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let backends =
        vec![Backend::new("citizen", backend_url, [CITIZEN_SERVICE]).with_http_prefixes(["/oidc"])];
    let local = axum::Router::new()
        .route("/edge/ping", axum::routing::get(|| async { "pong" }))
        .route(
            "/edge/caller",
            axum::routing::get(|headers: HeaderMap| async move {
                Caller::from_headers(&headers)
                    .subject
                    .unwrap_or_else(|| "anonymous".to_owned())
            }),
        );
    spawn(addr, |stopped| async move {
        Gateway::new(backends)
            .with_limits(limits)
            .with_authorizer(authorizer)
            .with_http_routes(local)
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    })
}

async fn citizen_client(gateway: &Running) -> CitizenServiceClient<tonic::transport::Channel> {
    CitizenServiceClient::connect(gateway.url()).await.unwrap()
}

fn get(id: &str) -> GetCitizenRequest {
    GetCitizenRequest {
        citizen_id: id.to_owned(),
        read_mask: None,
    }
}

#[tokio::test]
async fn unary_call_is_forwarded_with_trace_context() {
    let seen = Seen::default();
    let backend = start_backend(seen.clone()).await;
    let gateway = start_gateway(backend.url(), Limits::default()).await;

    let mut request = Request::new(get(KNOWN_ID));
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{CLIENT_TRACE_ID}-{CLIENT_SPAN_ID}-01")
            .parse()
            .unwrap(),
    );
    let response = citizen_client(&gateway)
        .await
        .get_citizen(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.citizen.unwrap().full_name, "Nguyễn Văn An");

    let traceparent = seen.traceparent.lock().unwrap().clone().unwrap();
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts[1], CLIENT_TRACE_ID, "same trace: {traceparent}");
    assert_ne!(
        parts[2], CLIENT_SPAN_ID,
        "the gateway hop is a span of its own"
    );

    gateway.stop().await;
    backend.stop().await;
}

#[tokio::test]
async fn backend_status_details_arrive_intact() {
    let backend = start_backend(Seen::default()).await;
    let gateway = start_gateway(backend.url(), Limits::default()).await;

    let status = citizen_client(&gateway)
        .await
        .get_citizen(get("001001001001"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(status.message(), "no such citizen");
    assert_eq!(reason_of(&status).as_deref(), Some("CITIZEN_NOT_FOUND"));
    use tonic_types::StatusExt;
    let info = status.get_details_error_info().unwrap();
    assert_eq!(info.metadata["citizen_id"], "001*******01");

    gateway.stop().await;
    backend.stop().await;
}

#[tokio::test]
async fn bidi_stream_flows_both_ways() {
    let backend = start_backend(Seen::default()).await;
    let gateway = start_gateway(backend.url(), Limits::default()).await;

    let (records, outgoing) = tokio::sync::mpsc::channel(4);
    let mut results = citizen_client(&gateway)
        .await
        .match_citizens(tokio_stream::wrappers::ReceiverStream::new(outgoing))
        .await
        .unwrap()
        .into_inner();
    // Interleaved: each answer arrives before the next record is sent, so nothing is buffered.
    for key in ["a", "b", "c"] {
        records
            .send(MatchCitizensRequest {
                record_key: key.to_owned(),
                ..Default::default()
            })
            .await
            .unwrap();
        let result = results.message().await.unwrap().unwrap();
        assert_eq!(result.record_key, key);
    }
    drop(records);
    assert!(results.message().await.unwrap().is_none());

    gateway.stop().await;
    backend.stop().await;
}

#[tokio::test]
async fn unknown_service_is_unimplemented_with_method_not_found() {
    let backend = start_backend(Seen::default()).await;
    let gateway = start_gateway(backend.url(), Limits::default()).await;

    let mut client =
        sandbox06_proto::population::population_service_client::PopulationServiceClient::connect(
            gateway.url(),
        )
        .await
        .unwrap();
    let status = client
        .get_country_info(sandbox06_proto::population::GetCountryInfoRequest {})
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
    assert_eq!(reason_of(&status).as_deref(), Some("METHOD_NOT_FOUND"));
    assert!(
        status
            .message()
            .contains("/sandbox06.upstream.population.v1.PopulationService/GetCountryInfo"),
        "{}",
        status.message()
    );

    gateway.stop().await;
    backend.stop().await;
}

/// A privileged port nothing listens on. (A port freed a moment ago may be taken by another
/// test's server by the time the edge connects.)
const UNREACHABLE: &str = "127.0.0.1:1";

#[tokio::test]
async fn unreachable_backend_is_unavailable() {
    let closed = UNREACHABLE;
    let gateway = start_gateway(format!("http://{closed}"), Limits::default()).await;

    let status = citizen_client(&gateway)
        .await
        .get_citizen(get(KNOWN_ID))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason_of(&status).as_deref(), Some("UPSTREAM_UNAVAILABLE"));
    assert!(status.message().contains("citizen"), "{}", status.message());

    gateway.stop().await;
}

#[tokio::test]
async fn oversized_messages_are_refused() {
    let backend = start_backend(Seen::default()).await;
    let limits = Limits {
        max_request_bytes: 1024,
        ..Limits::default()
    };
    let gateway = start_gateway(backend.url(), limits).await;
    let mut client = citizen_client(&gateway).await;

    let status = client
        .get_citizen(get(&"9".repeat(2000)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(reason_of(&status).as_deref(), Some("REQUEST_TOO_LARGE"));

    // Mid-stream: the call ends with the refusal after earlier messages went through.
    let (records, outgoing) = tokio::sync::mpsc::channel(4);
    let mut results = client
        .match_citizens(tokio_stream::wrappers::ReceiverStream::new(outgoing))
        .await
        .unwrap()
        .into_inner();
    let small = MatchCitizensRequest {
        record_key: "small".to_owned(),
        ..Default::default()
    };
    records.send(small).await.unwrap();
    assert_eq!(
        results.message().await.unwrap().unwrap().record_key,
        "small"
    );
    let large = MatchCitizensRequest {
        record_key: "x".repeat(2000),
        ..Default::default()
    };
    records.send(large).await.unwrap();
    let status = results.message().await.unwrap_err();
    assert_eq!(reason_of(&status).as_deref(), Some("REQUEST_TOO_LARGE"));

    // The connection still serves normal calls.
    client.get_citizen(get(KNOWN_ID)).await.unwrap();

    gateway.stop().await;
    backend.stop().await;
}

/// Waits until the edge reports `status` for `service`, through Watch (no polling).
async fn wait_for_status(gateway: &Running, service: &str, status: ServingStatus) {
    let mut health = HealthClient::new(gateway.channel());
    let mut updates = health
        .watch(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    tokio::time::timeout(WAIT, async {
        while let Some(update) = updates.message().await.unwrap() {
            if update.status() == status {
                return;
            }
        }
        panic!("health stream ended before {status:?}");
    })
    .await
    .unwrap_or_else(|_| panic!("{service} did not become {status:?}"));
}

#[tokio::test]
async fn edge_health_mirrors_the_backend() {
    let backend = start_backend(Seen::default()).await;
    let gateway = start_gateway(backend.url(), Limits::default()).await;

    wait_for_status(&gateway, "", ServingStatus::Serving).await;
    wait_for_status(&gateway, CITIZEN_SERVICE, ServingStatus::Serving).await;
    backend.stop().await;
    wait_for_status(&gateway, CITIZEN_SERVICE, ServingStatus::NotServing).await;

    gateway.stop().await;
}

#[tokio::test]
async fn edge_reflection_lists_and_describes_the_suite() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let backend = start_backend(Seen::default()).await;
    let gateway = start_gateway(backend.url(), Limits::default()).await;

    let mut client = ServerReflectionClient::new(gateway.channel());
    let requests = tokio_stream::iter([
        ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        },
        ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::FileContainingSymbol(
                CITIZEN_SERVICE.to_owned(),
            )),
        },
    ]);
    let mut responses = client
        .server_reflection_info(requests)
        .await
        .unwrap()
        .into_inner();

    let listed = match responses.message().await.unwrap().unwrap().message_response {
        Some(MessageResponse::ListServicesResponse(list)) => list
            .service
            .into_iter()
            .map(|service| service.name)
            .collect::<Vec<_>>(),
        other => panic!("unexpected {other:?}"),
    };
    for expected in [
        CITIZEN_SERVICE,
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(
            listed.iter().any(|name| name == expected),
            "{expected} not in {listed:?}"
        );
    }
    assert!(
        !listed.iter().any(|name| name.contains("PopulationService")),
        "only routed services are listed: {listed:?}"
    );

    match responses.message().await.unwrap().unwrap().message_response {
        Some(MessageResponse::FileDescriptorResponse(files)) => {
            assert!(!files.file_descriptor_proto.is_empty());
        }
        other => panic!("unexpected {other:?}"),
    }

    gateway.stop().await;
    backend.stop().await;
}

/// What came back from an HTTP request.
struct Answer {
    status: StatusCode,
    version: http::Version,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("not json ({error}): {:?}", self.body))
    }
}

/// Sends `request` over HTTP/1.1, or over HTTP/2 with prior knowledge (h2c) when `h2c`.
async fn send(h2c: bool, request: http::Request<Full<Bytes>>) -> Answer {
    let mut builder = Client::builder(TokioExecutor::new());
    builder.http2_only(h2c);
    let client = builder.build_http::<Full<Bytes>>();
    let response = client.request(request).await.unwrap();
    let (parts, body) = response.into_parts();
    Answer {
        status: parts.status,
        version: parts.version,
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes(),
    }
}

fn get_http(server: &Running, path: &str) -> http::Request<Full<Bytes>> {
    http::Request::get(format!("{}{path}", server.url()))
        .body(Full::default())
        .unwrap()
}

fn post_http(server: &Running, path: &str, body: Vec<u8>) -> http::Request<Full<Bytes>> {
    http::Request::post(format!("{}{path}", server.url()))
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

/// Checks the Google API JSON error shape of a 404 for `path`.
fn assert_json_404(answer: &Answer, path: &str) {
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        answer.headers[http::header::CONTENT_TYPE],
        "application/json"
    );
    assert!(answer.headers.get("grpc-status").is_none());
    assert_eq!(
        answer.json(),
        serde_json::json!({"error": {
            "code": 404,
            "status": "NOT_FOUND",
            "message": format!("no route at {path}"),
            "details": [{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "ROUTE_NOT_FOUND",
                "domain": "sandbox06.vn",
                "metadata": {"path": path},
            }],
        }})
    );
}

#[tokio::test]
async fn http1_request_to_an_unknown_path_is_a_json_404() {
    let backend = start_backend(Seen::default()).await;
    let gateway = start_gateway(backend.url(), Limits::default()).await;

    let answer = send(false, get_http(&gateway, "/no/such/page")).await;
    assert_eq!(answer.version, http::Version::HTTP_11);
    assert_json_404(&answer, "/no/such/page");
    // A prefix claims whole path segments only.
    assert_json_404(&send(false, get_http(&gateway, "/oidcx")).await, "/oidcx");

    gateway.stop().await;
    backend.stop().await;
}

#[tokio::test]
async fn h2c_request_without_grpc_content_type_is_a_json_404() {
    let backend = start_backend(Seen::default()).await;
    let gateway = start_gateway(backend.url(), Limits::default()).await;

    // A gRPC path, but not a gRPC call: the HTTP side answers.
    let path = "/sandbox06.citizen.v1.CitizenService/GetCitizen";
    let answer = send(true, get_http(&gateway, path)).await;
    assert_eq!(answer.version, http::Version::HTTP_2);
    assert_json_404(&answer, path);

    gateway.stop().await;
    backend.stop().await;
}

#[tokio::test]
async fn json_bodies_are_never_taken_for_grpc_frames() {
    let backend = start_backend(Seen::default()).await;
    let limits = Limits {
        max_request_bytes: 1024,
        ..Limits::default()
    };
    let gateway = start_gateway(backend.url(), limits).await;

    // As a gRPC frame, the second body would announce a message of 4 GiB.
    for body in [
        br#"{"citizen_id": "058091001234"}"#.to_vec(),
        b"\x00\xff\xff\xff\xff{}".to_vec(),
    ] {
        for h2c in [false, true] {
            let answer = send(h2c, post_http(&gateway, "/oidc/echo", body.clone())).await;
            assert_eq!(
                answer.status,
                StatusCode::OK,
                "h2c {h2c}: {:?}",
                answer.body
            );
            assert_eq!(
                answer.headers[http::header::CONTENT_TYPE],
                "application/json"
            );
            assert_eq!(answer.body, body);
        }
    }

    gateway.stop().await;
    backend.stop().await;
}

/// Lets every call through as one known client acting for one persona.
struct FixedCaller;

fn fixed_caller() -> Caller {
    Caller {
        client_id: Some("lodging-app".to_owned()),
        subject: Some("persona-an".to_owned()),
        scopes: vec!["citizen.read".to_owned(), "openid".to_owned()],
        acr: Some("vneid.level2".to_owned()),
    }
}

impl sandbox06_gateway::Authorizer for FixedCaller {
    fn authorize<'a>(
        &'a self,
        _method: &'a sandbox06_gateway::MethodInfo,
        _headers: &'a HeaderMap,
    ) -> futures::future::BoxFuture<'a, Result<Caller, ApiError>> {
        Box::pin(async { Ok(fixed_caller()) })
    }

    fn identify<'a>(
        &'a self,
        _headers: &'a HeaderMap,
    ) -> futures::future::BoxFuture<'a, Result<Caller, ApiError>> {
        Box::pin(async { Ok(fixed_caller()) })
    }
}

fn whoami_claiming(server: &Running, subject: &str) -> http::Request<Full<Bytes>> {
    http::Request::get(format!("{}/oidc/whoami", server.url()))
        .header("x-sandbox06-caller-subject", subject)
        .header(
            "traceparent",
            format!("00-{CLIENT_TRACE_ID}-{CLIENT_SPAN_ID}-01"),
        )
        .body(Full::default())
        .unwrap()
}

#[tokio::test]
async fn backend_http_route_is_reached_with_the_caller_the_edge_set() {
    let backend = start_backend(Seen::default()).await;
    let gateway = start_gateway(backend.url(), Limits::default()).await;

    // Anonymous: the subject the client claims is stripped, not passed on.
    let answer = send(false, whoami_claiming(&gateway, "mallory")).await;
    assert_eq!(answer.status, StatusCode::OK);
    let seen = answer.json();
    assert_eq!(seen["claimed_subject"], serde_json::Value::Null);
    assert_eq!(seen["client_id"], serde_json::Value::Null);
    assert_eq!(seen["scopes"], serde_json::json!([]));
    assert_eq!(seen["forwarded_for"], "127.0.0.1");
    assert_eq!(seen["forwarded_proto"], "http");
    assert_eq!(seen["forwarded_host"], gateway.addr.to_string());
    let traceparent = seen["traceparent"].as_str().unwrap();
    assert_eq!(
        traceparent.split('-').nth(1),
        Some(CLIENT_TRACE_ID),
        "same trace: {traceparent}"
    );

    // Edge-local routes get the same treatment.
    let mut claiming = whoami_claiming(&gateway, "mallory");
    *claiming.uri_mut() = format!("{}/edge/caller", gateway.url()).parse().unwrap();
    assert_eq!(send(false, claiming).await.body, "anonymous");

    gateway.stop().await;
    backend.stop().await;
}

#[tokio::test]
async fn the_authorized_caller_replaces_a_claimed_one_on_http_and_grpc() {
    let seen = Seen::default();
    let backend = start_backend(seen.clone()).await;
    let gateway = start_gateway_with(backend.url(), Limits::default(), FixedCaller).await;

    let answer = send(true, whoami_claiming(&gateway, "mallory")).await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json();
    assert_eq!(body["client_id"], "lodging-app");
    assert_eq!(body["subject"], "persona-an");
    assert_eq!(body["claimed_subject"], "persona-an");
    assert_eq!(
        body["scopes"],
        serde_json::json!(["citizen.read", "openid"])
    );
    assert_eq!(body["acr"], "vneid.level2");
    let mut claiming = whoami_claiming(&gateway, "mallory");
    *claiming.uri_mut() = format!("{}/edge/caller", gateway.url()).parse().unwrap();
    assert_eq!(send(false, claiming).await.body, "persona-an");

    let mut request = Request::new(get(KNOWN_ID));
    request
        .metadata_mut()
        .insert("x-sandbox06-caller-subject", "mallory".parse().unwrap());
    citizen_client(&gateway)
        .await
        .get_citizen(request)
        .await
        .unwrap();
    assert_eq!(seen.caller.lock().unwrap().clone(), Some(fixed_caller()));

    gateway.stop().await;
    backend.stop().await;
}

#[tokio::test]
async fn edge_local_routes_answer() {
    let backend = start_backend(Seen::default()).await;
    let gateway = start_gateway(backend.url(), Limits::default()).await;

    for h2c in [false, true] {
        let answer = send(h2c, get_http(&gateway, "/edge/ping")).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body, "pong");
    }

    gateway.stop().await;
    backend.stop().await;
}

#[tokio::test]
async fn http_bodies_above_the_limit_are_refused_with_json() {
    let backend = start_backend(Seen::default()).await;
    let limits = Limits {
        max_request_bytes: 1024,
        ..Limits::default()
    };
    let gateway = start_gateway(backend.url(), limits).await;

    let answer = send(false, post_http(&gateway, "/oidc/echo", vec![b'7'; 2000])).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    let error = answer.json();
    assert_eq!(error["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(error["error"]["details"][0]["reason"], "REQUEST_TOO_LARGE");
    assert_eq!(
        error["error"]["details"][0]["metadata"]["limit_bytes"],
        "1024"
    );

    gateway.stop().await;
    backend.stop().await;
}

#[tokio::test]
async fn unreachable_http_backend_is_a_json_503() {
    let closed = UNREACHABLE;
    let gateway = start_gateway(format!("http://{closed}"), Limits::default()).await;

    let answer = send(false, get_http(&gateway, "/oidc/whoami")).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    let error = answer.json();
    assert_eq!(error["error"]["status"], "UNAVAILABLE");
    assert_eq!(
        error["error"]["details"][0]["reason"],
        "UPSTREAM_UNAVAILABLE"
    );
    assert_eq!(
        error["error"]["details"][0]["metadata"]["backend"],
        "citizen"
    );

    gateway.stop().await;
}

#[tokio::test]
async fn a_component_serves_http_routes_next_to_grpc() {
    let backend = start_backend(Seen::default()).await;

    let answer = send(false, post_http(&backend, "/oidc/echo", b"{}".to_vec())).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, "{}");
    assert_json_404(&send(false, get_http(&backend, "/nope")).await, "/nope");
    assert_json_404(&send(true, get_http(&backend, "/nope")).await, "/nope");
    // gRPC on the same port.
    let mut client = CitizenServiceClient::new(backend.channel());
    client.get_citizen(get(KNOWN_ID)).await.unwrap();

    backend.stop().await;
}

#[tokio::test]
async fn a_prefix_claimed_twice_is_refused_at_start() {
    let listener = sandbox06_runtime::server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let backends = vec![
        Backend::new("sso", "http://127.0.0.1:1", ["a.v1.A"]).with_http_prefixes(["/oidc"]),
        Backend::new("other", "http://127.0.0.1:2", ["b.v1.B"]).with_http_prefixes(["/oidc/"]),
    ];
    let error = Gateway::new(backends)
        .serve(listener, async {})
        .await
        .unwrap_err();
    match error {
        GatewayError::DuplicatePrefix {
            prefix,
            first,
            second,
        } => {
            assert_eq!(prefix, "/oidc");
            assert_eq!((first.as_str(), second.as_str()), ("sso", "other"));
        }
        other => panic!("unexpected {other}"),
    }
}

#[tokio::test]
async fn http_bodies_stream_through_the_edge_both_ways() {
    use http_body_util::StreamBody;
    type Chunk = Result<hyper::body::Frame<Bytes>, std::convert::Infallible>;

    let backend = start_backend(Seen::default()).await;
    let gateway = start_gateway(backend.url(), Limits::default()).await;

    for h2c in [false, true] {
        let (chunks, outgoing) = tokio::sync::mpsc::channel::<Chunk>(1);
        let body = StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(outgoing));
        let request = http::Request::post(format!("{}/oidc/stream", gateway.url()))
            .body(body)
            .unwrap();
        let mut builder = Client::builder(TokioExecutor::new());
        builder.http2_only(h2c);
        let client = builder.build_http();
        let mut send = Box::pin(client.request(request));
        // Interleaved: each chunk comes back before the next is sent, so nothing is buffered.
        chunks
            .send(Ok(hyper::body::Frame::data(Bytes::from_static(b"first"))))
            .await
            .unwrap();
        let response = tokio::time::timeout(WAIT, &mut send)
            .await
            .expect("the response starts before the request body ends")
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mut answer = response.into_body();
        let mut echoed = Vec::new();
        for chunk in [&b"first"[..], b"second", b"third"] {
            if chunk != b"first" {
                chunks
                    .send(Ok(hyper::body::Frame::data(Bytes::copy_from_slice(chunk))))
                    .await
                    .unwrap();
            }
            let frame = tokio::time::timeout(WAIT, answer.frame())
                .await
                .expect("each chunk comes back before the next is sent")
                .unwrap()
                .unwrap();
            echoed.push(frame.into_data().unwrap());
        }
        drop(chunks);
        assert_eq!(echoed, [&b"first"[..], b"second", b"third"], "h2c {h2c}");
        assert!(answer.collect().await.unwrap().to_bytes().is_empty());
    }

    gateway.stop().await;
    backend.stop().await;
}

/// Counts every decision the edge asks of it, and lets every call through as the fixed caller.
#[derive(Clone, Default)]
struct CountingAuthorizer {
    authorized: Arc<std::sync::atomic::AtomicUsize>,
    identified: Arc<std::sync::atomic::AtomicUsize>,
}

impl sandbox06_gateway::Authorizer for CountingAuthorizer {
    fn authorize<'a>(
        &'a self,
        _method: &'a sandbox06_gateway::MethodInfo,
        _headers: &'a HeaderMap,
    ) -> futures::future::BoxFuture<'a, Result<Caller, ApiError>> {
        self.authorized
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async { Ok(fixed_caller()) })
    }

    fn identify<'a>(
        &'a self,
        _headers: &'a HeaderMap,
    ) -> futures::future::BoxFuture<'a, Result<Caller, ApiError>> {
        self.identified
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async { Ok(fixed_caller()) })
    }
}

#[tokio::test]
async fn a_rest_call_is_authorized_once_and_forwards_the_caller_it_got() {
    use std::sync::atomic::Ordering::SeqCst;
    let seen = Seen::default();
    let backend = start_backend(seen.clone()).await;
    let counting = CountingAuthorizer::default();
    let gateway = start_gateway_with(backend.url(), Limits::default(), counting.clone()).await;

    for h2c in [false, true] {
        let before = (
            counting.authorized.load(SeqCst),
            counting.identified.load(SeqCst),
        );
        let mut request = get_http(&gateway, &format!("/v1/citizens/{KNOWN_ID}"));
        request
            .headers_mut()
            .insert("x-sandbox06-caller-subject", "mallory".parse().unwrap());
        let answer = send(h2c, request).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        assert_eq!(answer.json()["citizen"]["citizenId"], KNOWN_ID);
        let after = (
            counting.authorized.load(SeqCst),
            counting.identified.load(SeqCst),
        );
        // One decision, with the method's policy: the REST route is the RPC's.
        assert_eq!(
            (after.0 - before.0, after.1 - before.1),
            (1, 0),
            "one check per REST call (h2c: {h2c})"
        );
        assert_eq!(seen.caller.lock().unwrap().clone(), Some(fixed_caller()));
    }

    // A gRPC call is decided once too.
    let before = counting.authorized.load(SeqCst) + counting.identified.load(SeqCst);
    citizen_client(&gateway)
        .await
        .get_citizen(get(KNOWN_ID))
        .await
        .unwrap();
    let after = counting.authorized.load(SeqCst) + counting.identified.load(SeqCst);
    assert_eq!(after - before, 1);

    gateway.stop().await;
    backend.stop().await;
}

#[tokio::test]
async fn a_rest_body_is_checked_by_the_mapping_the_document_states() {
    let backend = start_backend(Seen::default()).await;
    let gateway = start_gateway(backend.url(), Limits::default()).await;
    let path = format!("/v1/citizens/{KNOWN_ID}:verify");
    let violation = |answer: &Answer| {
        let body = answer.json();
        let details = body["error"]["details"].as_array().unwrap().clone();
        details
            .iter()
            .find_map(|detail| {
                detail["fieldViolations"][0]["field"]
                    .as_str()
                    .map(str::to_owned)
            })
            .unwrap_or_default()
    };

    // An enum by a number it does not declare is refused at the edge, naming the field, as the
    // document (which lists the numbers) says.
    let answer = send(
        false,
        post_http(&gateway, &path, br#"{"sex": 99}"#.to_vec()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{:?}", answer.body);
    assert_eq!(violation(&answer), "sex");
    let message = answer.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("99"), "{message}");

    // An integer string beyond its range, and a declared number, as before.
    let answer = send(
        false,
        post_http(
            &gateway,
            &path,
            br#"{"dateOfBirth": {"year": "2147483648"}}"#.to_vec(),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{:?}", answer.body);
    assert_eq!(violation(&answer), "dateOfBirth.year");
    let answer = send(false, post_http(&gateway, &path, br#"{"sex": 1}"#.to_vec())).await;
    // Through to the fake, which does not verify (a bare status, in the suite's words).
    assert_eq!(
        answer.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{:?}",
        answer.body
    );
    assert_eq!(
        answer.json()["error"]["details"][0]["reason"],
        "UPSTREAM_FAILED"
    );

    gateway.stop().await;
    backend.stop().await;
}
