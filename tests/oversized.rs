//! One client's oversized input fails its own call at most, never anyone else's: errors quote
//! input bounded, every answer's headers and trailers stay within what HTTP/2 peers accept, and
//! the edge forwards no header block a backend would refuse — so the connections the edge shares
//! with its backends, and the calls of every other client on them, live on.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use bytes::{BufMut, Bytes, BytesMut};
use http_body_util::BodyExt;
use prost_reflect::{DynamicMessage, Kind, MessageDescriptor, Value};
use sandbox06_proto::citizen::{
    self as api, GetCitizenRequest, MatchCitizensRequest, MatchCitizensResponse,
    VerifyCardQrRequest, VerifyCitizenRequest, citizen_service_client::CitizenServiceClient,
};
use sandbox06_runtime::metadata_limit::{MAX_RESPONSE_METADATA_BYTES, header_list_size};
use sandbox06_testkit::{Bearer, Edge, Harness, http1, personas, start};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use tonic_types::StatusExt;

/// Longer than any header block a peer accepts (16 KiB).
const BIG: usize = 17 * 1024;

fn big(c: char) -> String {
    std::iter::repeat_n(c, BIG).collect()
}

/// A new connection to the edge, calls carrying the admin token.
async fn connection(h: &Harness) -> Edge {
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", h.suite.edge))
        .unwrap()
        .connect()
        .await
        .unwrap();
    tonic::service::interceptor::InterceptedService::new(channel, Bearer::new(&h.token))
}

/// 20 MatchCitizens streams held open through the edge, and a client of its own calling while
/// the oversized calls go on.
struct Bystanders {
    streams: Vec<(
        mpsc::Sender<MatchCitizensRequest>,
        tonic::Streaming<MatchCitizensResponse>,
    )>,
    client: CitizenServiceClient<Edge>,
    stop: Arc<AtomicBool>,
    calls: Arc<AtomicUsize>,
    caller: tokio::task::JoinHandle<Vec<tonic::Status>>,
}

fn happy_get() -> GetCitizenRequest {
    GetCitizenRequest {
        citizen_id: personas::HAPPY_PATH.into(),
        ..Default::default()
    }
}

impl Bystanders {
    async fn start(h: &Harness) -> Self {
        let streams_edge = connection(h).await;
        let mut streams = Vec::new();
        for _ in 0..20 {
            let (tx, rx) = mpsc::channel(4);
            let answers = CitizenServiceClient::new(streams_edge.clone())
                .match_citizens(ReceiverStream::new(rx))
                .await
                .unwrap()
                .into_inner();
            streams.push((tx, answers));
        }
        let client = CitizenServiceClient::new(connection(h).await);
        let stop = Arc::new(AtomicBool::new(false));
        let calls = Arc::new(AtomicUsize::new(0));
        // Calls in flight all along, on a connection of its own; bounded in count.
        let caller = {
            let mut client = client.clone();
            let stop = Arc::clone(&stop);
            let calls = Arc::clone(&calls);
            tokio::spawn(async move {
                let mut failures = Vec::new();
                for _ in 0..100_000 {
                    if stop.load(Ordering::Acquire) {
                        break;
                    }
                    if let Err(status) = client.get_citizen(happy_get()).await {
                        failures.push(status);
                    }
                    calls.fetch_add(1, Ordering::AcqRel);
                }
                failures
            })
        };
        let mut bystanders = Self {
            streams,
            client,
            stop,
            calls,
            caller,
        };
        bystanders.check("before").await;
        bystanders
    }

    /// Every stream answers one more record, and the bystander's own call succeeds.
    async fn check(&mut self, after: &str) {
        for (i, (tx, answers)) in self.streams.iter_mut().enumerate() {
            tx.send(MatchCitizensRequest {
                record_key: format!("{after}-{i}"),
                citizen_id: personas::HAPPY_PATH.into(),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|_| panic!("stream {i} closed after {after}"));
            let answer = answers.message().await;
            assert!(
                matches!(&answer, Ok(Some(a)) if a.record_key == format!("{after}-{i}")),
                "stream {i} after {after}: {answer:?}"
            );
        }
        let answer = self.client.get_citizen(happy_get()).await;
        assert!(answer.is_ok(), "bystander after {after}: {answer:?}");
    }

    /// Ends the streams cleanly and the calling task; no bystander call failed.
    async fn finish(self) {
        self.stop.store(true, Ordering::Release);
        let failures = self.caller.await.unwrap();
        assert!(
            failures.is_empty(),
            "{} of {} bystander calls failed: {:?}",
            failures.len(),
            self.calls.load(Ordering::Acquire),
            failures.first()
        );
        for (i, (tx, mut answers)) in self.streams.into_iter().enumerate() {
            drop(tx);
            let end = answers.message().await;
            assert!(matches!(end, Ok(None)), "stream {i} ended with {end:?}");
        }
    }
}

/// An error answer stays small and says what went wrong.
fn assert_bounded(what: &str, status: &tonic::Status) {
    assert!(
        status.message().len() <= 1024,
        "{what}: a message of {} bytes",
        status.message().len()
    );
    assert!(
        status.details().len() <= 8 * 1024,
        "{what}: details of {} bytes",
        status.details().len()
    );
    assert!(
        status.get_details_error_info().is_some(),
        "{what}: no ErrorInfo in {status:?}"
    );
}

/// The oversized gRPC calls: each fails alone with a bounded error.
async fn grpc_attacks(h: &Harness, bystanders: &mut Bystanders) {
    let mut citizens = h.citizens();
    let mask = |path: String| prost_types::FieldMask { paths: vec![path] };
    let cases: Vec<(&str, GetCitizenRequest)> = vec![
        (
            "a read_mask path of 17 KB",
            GetCitizenRequest {
                read_mask: Some(mask(big('a'))),
                ..happy_get()
            },
        ),
        (
            "a nested read_mask path of 17 KB",
            GetCitizenRequest {
                read_mask: Some(mask(format!("card.{}", big('ễ')))),
                ..happy_get()
            },
        ),
        (
            "a citizen_id of 17 KB digits",
            GetCitizenRequest {
                citizen_id: big('1'),
                ..Default::default()
            },
        ),
        (
            "a citizen_id of 17 KB letters",
            GetCitizenRequest {
                citizen_id: big('ễ'),
                ..Default::default()
            },
        ),
    ];
    for (what, request) in cases {
        let status = citizens.get_citizen(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{what}: {status:?}");
        assert_bounded(what, &status);
        bystanders.check(what).await;
    }
    let status = citizens
        .verify_citizen(VerifyCitizenRequest {
            citizen_id: personas::HAPPY_PATH.into(),
            full_name: big('ễ'),
            address: big('a'),
            old_id_number: big('9'),
            ..Default::default()
        })
        .await;
    if let Err(status) = &status {
        assert_bounded("verify with names of 17 KB", status);
    }
    bystanders.check("verify with names of 17 KB").await;
    let status = citizens
        .verify_card_qr(VerifyCardQrRequest {
            payload: format!("{}|{}", big('1'), big('ễ')),
        })
        .await
        .unwrap_err();
    assert_bounded("a QR payload of 34 KB", &status);
    bystanders.check("a QR payload of 34 KB").await;
    // A record of oversized fields in a stream: answered in the stream's body.
    let (tx, rx) = mpsc::channel(1);
    tx.send(MatchCitizensRequest {
        record_key: big('k'),
        citizen_id: big('1'),
        full_name: big('ễ'),
        ..Default::default()
    })
    .await
    .unwrap();
    drop(tx);
    let mut answers = citizens
        .match_citizens(ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    while let Some(answer) = answers.message().await.unwrap() {
        assert!(answer.record_key.len() <= BIG);
    }
    bystanders.check("a match record of 17 KB fields").await;
    // A token of claims no one signed, as large as a header may be.
    let mut forged =
        CitizenServiceClient::new(tonic::service::interceptor::InterceptedService::new(
            h.channel.clone(),
            Bearer::new(&format!(
                "eyJ{}.eyJ{}.x",
                "A".repeat(7_000),
                "B".repeat(7_000)
            )),
        ));
    let status = forged.get_citizen(happy_get()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_bounded("a forged token of 14 KB", &status);
    bystanders.check("a forged token of 14 KB").await;
    // A method name of 10 KB.
    let mut raw = tonic::client::Grpc::new(h.edge.clone());
    raw.ready().await.unwrap();
    let path: http::uri::PathAndQuery = format!(
        "/sandbox06.citizen.v1.CitizenService/{}",
        "M".repeat(10_000)
    )
    .parse()
    .unwrap();
    let status = raw
        .unary::<(), (), _>(
            tonic::Request::new(()),
            path,
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
    assert_bounded("a method name of 10 KB", &status);
    bystanders.check("a method name of 10 KB").await;
    // An unknown client of the single sign-on.
    let mut sso = sandbox06_proto::sso::sso_service_client::SsoServiceClient::new(h.edge.clone());
    let status = sso
        .get_client(sandbox06_proto::sso::GetClientRequest {
            client_id: big('c'),
        })
        .await
        .unwrap_err();
    assert_bounded("a client_id of 17 KB", &status);
    bystanders.check("a client_id of 17 KB").await;
}

/// Metadata as large as the edge takes, on connections of their own (a header block above the
/// edge's own limit is refused on the caller's connection, which is the caller's to lose).
async fn metadata_attacks(h: &Harness, bystanders: &mut Bystanders) {
    for size in [8_000, 15_000, 15_800, 16_400] {
        let mut client = CitizenServiceClient::new(connection(h).await);
        let mut request = tonic::Request::new(happy_get());
        request
            .metadata_mut()
            .insert("x-big", "v".repeat(size).parse().unwrap());
        match client.get_citizen(request).await {
            Ok(_) => {}
            Err(status) if status.get_details_error_info().is_some() => {
                assert_eq!(status.code(), Code::ResourceExhausted, "{size}: {status:?}");
                assert_eq!(
                    status.get_details_error_info().unwrap().reason,
                    "METADATA_TOO_LARGE"
                );
            }
            // Refused by the edge's own HTTP/2 limit, on this caller's connection.
            Err(status) => assert!(size >= 15_000, "{size}: {status:?}"),
        }
        bystanders.check(&format!("metadata of {size} bytes")).await;
    }
}

/// The same over REST and gRPC-Web (HTTP/1.1, where headers are not bounded by HTTP/2).
async fn http_attacks(h: &Harness, bystanders: &mut Bystanders) {
    let edge = h.suite.edge;
    let bearer = format!("Bearer {}", h.token);
    let get = |path: String| {
        http::Request::get(path)
            .header("authorization", &bearer)
            .body(String::new())
            .unwrap()
    };
    let post = |path: &str, body: serde_json::Value| {
        http::Request::post(path)
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .body(body.to_string())
            .unwrap()
    };
    let cases = [
        (
            "REST read_mask of 17 KB",
            get(format!(
                "/v1/citizens/{}?read_mask={}",
                personas::HAPPY_PATH,
                big('a')
            )),
        ),
        (
            "REST citizen_id of 17 KB",
            get(format!("/v1/citizens/{}", big('1'))),
        ),
        (
            "REST verify with names of 17 KB",
            post(
                &format!("/v1/citizens/{}:verify", personas::HAPPY_PATH),
                serde_json::json!({"fullName": big('ễ'), "address": big('a'), "oldIdNumber": big('x')}),
            ),
        ),
        (
            "REST QR payload of 17 KB",
            post(
                "/v1/cards:verifyQr",
                serde_json::json!({"payload": big('ễ')}),
            ),
        ),
        (
            "REST unknown field of 17 KB",
            post(
                "/v1/cards:verifyQr",
                serde_json::json!({ big('f'): "x", "payload": "x" }),
            ),
        ),
        (
            "REST x-request-id of 40 KB",
            http::Request::get(format!("/v1/citizens/{}", personas::HAPPY_PATH))
                .header("authorization", &bearer)
                .header("x-request-id", "r".repeat(40_000))
                .body(String::new())
                .unwrap(),
        ),
        (
            "token endpoint with a client_id of 17 KB",
            http::Request::post("/oidc/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!(
                    "grant_type=client_credentials&client_id={}&client_secret=x",
                    big('c')
                ))
                .unwrap(),
        ),
    ];
    for (what, request) in cases {
        let (status, body) = http1(edge, request).await;
        assert!(
            status.is_client_error() || status.is_success(),
            "{what}: {status} {body:.300}"
        );
        assert!(body.len() < 8 * 1024, "{what}: {} bytes", body.len());
        bystanders.check(what).await;
    }
    // What REST quotes of a field or a value: its start and its length.
    for body in [
        serde_json::json!({ big('f'): "x" }),
        serde_json::json!({ "payload": 1, "x": 2 }),
        serde_json::json!({ "payload": [big('v')] }),
    ] {
        let (status, text) = http1(edge, post("/v1/cards:verifyQr", body)).await;
        assert_eq!(status, http::StatusCode::BAD_REQUEST, "{text:.300}");
        assert!(text.len() < 2048, "{} bytes: {text:.300}", text.len());
    }
    let (_, text) = http1(
        edge,
        post("/v1/cards:verifyQr", serde_json::json!({ big('f'): "x" })),
    )
    .await;
    assert!(text.contains("(17408 characters)"), "{text:.600}");
    bystanders.check("REST quotes").await;
    // gRPC-Web with metadata of 40 KB, which HTTP/1.1 lets through to the edge.
    let request = http::Request::post("/sandbox06.citizen.v1.CitizenService/GetCitizen")
        .header("content-type", "application/grpc-web-text")
        .header("authorization", &bearer)
        .header("x-big", "v".repeat(40_000))
        .body(base64_frame(&happy_get()))
        .unwrap();
    let (status, headers, body) = http1_whole(edge, request).await;
    assert_eq!(status, http::StatusCode::OK);
    // Trailers-only: the status in the headers, or in the body's trailer frame.
    let answer =
        String::from_utf8_lossy(&base64_decode(&String::from_utf8_lossy(&body))).into_owned();
    assert!(
        headers.get("grpc-status").is_some_and(|code| code == "8")
            || answer.contains("grpc-status:8"),
        "{headers:?} {answer:.300}"
    );
    bystanders.check("gRPC-Web metadata of 40 KB").await;
}

/// An HTTP/1.1 request: the answer's status, headers and body.
async fn http1_whole(
    addr: std::net::SocketAddr,
    request: http::Request<String>,
) -> (http::StatusCode, http::HeaderMap, Bytes) {
    let (parts, body) = request.into_parts();
    let mut request =
        http::Request::from_parts(parts, http_body_util::Full::new(Bytes::from(body)));
    *request.uri_mut() = format!("http://{addr}{}", request.uri()).parse().unwrap();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<Bytes>>();
    let response = client.request(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, body)
}

fn grpc_frame(message: &[u8]) -> Bytes {
    let mut framed = BytesMut::with_capacity(message.len() + 5);
    framed.put_u8(0);
    framed.put_u32(u32::try_from(message.len()).unwrap());
    framed.put_slice(message);
    framed.freeze()
}

fn base64_frame(message: &impl prost::Message) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(grpc_frame(&message.encode_to_vec()))
}

/// A gRPC-Web text answer decoded: its base64 chunks one after the other.
fn base64_decode(body: &str) -> Vec<u8> {
    use base64::Engine as _;
    let mut out = Vec::new();
    let mut rest = body.trim();
    while !rest.is_empty() {
        // Each chunk ends with its padding, if any.
        let end = rest.find('=').map_or(rest.len(), |i| {
            i + rest[i..].chars().take_while(|c| *c == '=').count()
        });
        out.extend(
            base64::engine::general_purpose::STANDARD
                .decode(&rest[..end])
                .unwrap(),
        );
        rest = &rest[end..];
    }
    out
}

#[tokio::test]
async fn oversized_input_of_every_kind_fails_its_own_call_and_no_other() {
    let h = start().await;
    let mut bystanders = Bystanders::start(&h).await;
    grpc_attacks(&h, &mut bystanders).await;
    metadata_attacks(&h, &mut bystanders).await;
    http_attacks(&h, &mut bystanders).await;
    bystanders.check("every attack").await;
    bystanders.finish().await;
    h.suite.stop().await.unwrap();
}

/// `message` with every string field (nested ones too, and one element of each repeated one)
/// set to `text`.
fn filled(descriptor: &MessageDescriptor, text: &str, depth: usize) -> DynamicMessage {
    let mut message = DynamicMessage::new(descriptor.clone());
    for field in descriptor.fields() {
        let value = match field.kind() {
            Kind::String => Value::String(text.to_owned()),
            Kind::Bytes => Value::Bytes(Bytes::from(text.to_owned())),
            Kind::Message(inner) if depth < 3 && !field.is_map() => {
                Value::Message(filled(&inner, text, depth + 1))
            }
            _ => continue,
        };
        if field.is_list() {
            message.set_field(&field, Value::List(vec![value]));
        } else if !field.is_map() {
            message.set_field(&field, value);
        }
    }
    message
}

#[tokio::test]
async fn every_method_answers_oversized_input_within_the_metadata_limit() {
    let h = start().await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        // Whatever the edge sends is read, to be measured.
        .http2_max_header_list_size(1 << 20)
        .build_http::<http_body_util::Full<Bytes>>();
    let pool = &*sandbox06_proto::DESCRIPTOR_POOL;
    let mut walked = 0;
    for service in pool.services() {
        let name = service.full_name();
        if !(name.starts_with("sandbox06.citizen.") || name.starts_with("sandbox06.sso.")) {
            continue;
        }
        for method in service.methods() {
            // Through the edge, and to the component serving it.
            let component = if name.starts_with("sandbox06.citizen.") {
                "citizen"
            } else {
                "sso"
            };
            let targets = [h.suite.edge, h.suite.addr(component).unwrap()];
            for (text, target) in [big('a'), big('1'), big('ễ')]
                .into_iter()
                .flat_map(|text| targets.map(|target| (text.clone(), target)))
            {
                let request = filled(&method.input(), &text, 0);
                let body = grpc_frame(&prost::Message::encode_to_vec(&request));
                let call =
                    http::Request::post(format!("http://{}/{}/{}", target, name, method.name()))
                        .header("content-type", "application/grpc")
                        .header("te", "trailers")
                        .header("authorization", format!("Bearer {}", h.token))
                        .body(http_body_util::Full::new(body))
                        .unwrap();
                let response = client.request(call).await.unwrap();
                let headers = header_list_size(response.headers());
                let mut code = response.headers().get("grpc-status").cloned();
                let collected = response.into_body().collect().await.unwrap();
                let trailers = collected.trailers().map_or(0, header_list_size);
                if let Some(status) = collected.trailers().and_then(|t| t.get("grpc-status")) {
                    code = Some(status.clone());
                }
                assert!(
                    headers + trailers <= MAX_RESPONSE_METADATA_BYTES,
                    "{name}/{} at {target}: {headers} + {trailers} bytes of metadata",
                    method.name()
                );
                // The method's own answer, not a connection lost on the way.
                assert!(
                    code.as_ref().is_some_and(|code| code != "14"),
                    "{name}/{} at {target}: grpc-status {code:?}",
                    method.name()
                );
                walked += 1;
            }
        }
    }
    assert!(walked >= 48, "{walked} calls");
    // The suite still answers on the connections those calls used.
    let answer = api::citizen_service_client::CitizenServiceClient::new(h.edge.clone())
        .get_citizen(happy_get())
        .await;
    assert!(answer.is_ok(), "{answer:?}");
    h.suite.stop().await.unwrap();
}

/// A backend that breaks the rule every server of the suite keeps: its answer to a call with
/// `x-oversized` is a status of 40 KB in the headers; MatchCitizens answers one record, then a
/// second and OK when `more` is notified; anything else, OK with an empty answer.
async fn misbehaving_backend(
    more: Arc<tokio::sync::Notify>,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use http_body_util::{BodyExt as _, StreamBody, combinators::BoxBody};
    type Answer = http::Response<BoxBody<Bytes, std::convert::Infallible>>;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let record = |key: &str| {
        grpc_frame(&prost::Message::encode_to_vec(&MatchCitizensResponse {
            record_key: key.into(),
            ..Default::default()
        }))
    };
    let ok_trailers = || {
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", "0".parse().unwrap());
        trailers
    };
    let task = tokio::spawn(async move {
        // A bounded number of connections: the edge opens one, or a few on reconnects.
        for _ in 0..16 {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let more = Arc::clone(&more);
            let service =
                tower::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let more = Arc::clone(&more);
                    async move {
                        let answer: Answer = if request.headers().contains_key("x-oversized") {
                            http::Response::builder()
                                .header("content-type", "application/grpc")
                                .header("grpc-status", "3")
                                .header("grpc-message", "m".repeat(40_000))
                                .body(http_body_util::Empty::new().boxed())
                                .unwrap()
                        } else if request.uri().path().ends_with("/MatchCitizens") {
                            let (tx, rx) = mpsc::channel(4);
                            tx.send(Ok(http_body::Frame::data(record("first"))))
                                .await
                                .unwrap();
                            tokio::spawn(async move {
                                more.notified().await;
                                let _ = tx.send(Ok(http_body::Frame::data(record("second")))).await;
                                let _ =
                                    tx.send(Ok(http_body::Frame::trailers(ok_trailers()))).await;
                            });
                            http::Response::builder()
                                .header("content-type", "application/grpc")
                                .body(StreamBody::new(ReceiverStream::new(rx)).boxed())
                                .unwrap()
                        } else {
                            let (tx, rx) = mpsc::channel(2);
                            tx.send(Ok(http_body::Frame::data(grpc_frame(&[]))))
                                .await
                                .unwrap();
                            tx.send(Ok(http_body::Frame::trailers(ok_trailers())))
                                .await
                                .unwrap();
                            http::Response::builder()
                                .header("content-type", "application/grpc")
                                .body(StreamBody::new(ReceiverStream::new(rx)).boxed())
                                .unwrap()
                        };
                        Ok::<_, std::convert::Infallible>(answer)
                    }
                });
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(
                    hyper_util::rt::TokioIo::new(stream),
                    hyper_util::service::TowerToHyperService::new(service),
                )
                .await;
            });
        }
    });
    (addr, task)
}

#[tokio::test]
async fn a_backends_oversized_answer_fails_that_call_at_the_edge_and_no_other() {
    let more = Arc::new(tokio::sync::Notify::new());
    let (backend, server) = misbehaving_backend(Arc::clone(&more)).await;
    let edge =
        sandbox06_testkit::edge_in_front_of(&format!("http://{backend}"), figment::Figment::new())
            .await;
    let channel = tonic::transport::Channel::from_shared(edge.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut citizens = CitizenServiceClient::new(channel.clone());
    // A stream in flight on the edge's connection to the backend.
    let (tx, rx) = mpsc::channel(1);
    let mut stream = citizens
        .match_citizens(ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stream.message().await.unwrap().unwrap().record_key, "first");
    // The oversized answer: this call fails, with a reason, and small.
    let mut request = tonic::Request::new(happy_get());
    request
        .metadata_mut()
        .insert("x-oversized", "1".parse().unwrap());
    let status = citizens.get_citizen(request).await.unwrap_err();
    assert_eq!(status.code(), Code::Internal, "{status:?}");
    assert_eq!(
        status.get_details_error_info().unwrap().reason,
        "RESPONSE_METADATA_TOO_LARGE"
    );
    assert!(status.message().len() < 200, "{status:?}");
    // The stream goes on to its end, and other calls are answered.
    more.notify_one();
    assert_eq!(
        stream.message().await.unwrap().unwrap().record_key,
        "second"
    );
    assert!(matches!(stream.message().await, Ok(None)));
    drop(tx);
    assert!(citizens.get_citizen(happy_get()).await.is_ok());
    drop(edge);
    server.abort();
}
