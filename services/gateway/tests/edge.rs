//! The gateway in front of an in-process fake citizen backend, exercised with real tonic
//! clients through the edge port only.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sandbox06_gateway::Backend;
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
const KNOWN_ID: &str = "058090001234";
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

/// A citizen service that knows one citizen and echoes match requests.
#[derive(Default)]
struct FakeCitizens {
    /// `traceparent` of the last GetCitizen call.
    traceparent: Arc<Mutex<Option<String>>>,
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
        *self.traceparent.lock().unwrap() = traceparent;
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

async fn start_backend(traceparent: Arc<Mutex<Option<String>>>) -> Running {
    let listener = sandbox06_runtime::server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let builder = ServerBuilder::new(&Limits::default())
        .add_service(CitizenServiceServer::new(FakeCitizens { traceparent }));
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
    init_tracing();
    let listener = sandbox06_runtime::server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let backends = vec![Backend::new("citizen", backend_url, [CITIZEN_SERVICE])];
    spawn(addr, |stopped| async move {
        sandbox06_gateway::serve(listener, backends, limits, async {
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
    let seen = Arc::new(Mutex::new(None));
    let backend = start_backend(Arc::clone(&seen)).await;
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

    let traceparent = seen.lock().unwrap().clone().unwrap();
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
    let backend = start_backend(Arc::default()).await;
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
    let backend = start_backend(Arc::default()).await;
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
    let backend = start_backend(Arc::default()).await;
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

#[tokio::test]
async fn unreachable_backend_is_unavailable() {
    // A port that was free a moment ago: nothing listens there.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
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
    let backend = start_backend(Arc::default()).await;
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
    let backend = start_backend(Arc::default()).await;
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

    let backend = start_backend(Arc::default()).await;
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
