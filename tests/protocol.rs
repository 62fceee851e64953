//! The edges of the protocols at the edge port: deadlines of every unit, content types and
//! methods that are not served, message framing (compressed flag, missing and cut messages) over
//! gRPC, gRPC-Web and REST's NDJSON, a second message where one is taken, gRPC-Web text that is not base64, and a stream cut by a
//! lost backend — each answered with the status the gRPC documents give, a reason and a clear
//! message, never a transport library's words.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use base64::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};
use figment::Figment;
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;
use sandbox06_proto::citizen::{GetCitizenRequest, GetCitizenResponse};
use sandbox06_testkit::{Fault, FaultProxy, Harness, edge_in_front_of, personas, start};
use tonic::Code;
use tonic_types::StatusExt;

const GET_CITIZEN: &str = "/sandbox06.citizen.v1.CitizenService/GetCitizen";

fn happy_get() -> GetCitizenRequest {
    GetCitizenRequest {
        citizen_id: personas::HAPPY_PATH.into(),
        ..Default::default()
    }
}

/// `message` framed with `flag` as its compressed flag.
fn framed(flag: u8, message: &[u8]) -> Bytes {
    let mut framed = BytesMut::with_capacity(message.len() + 5);
    framed.put_u8(flag);
    framed.put_u32(u32::try_from(message.len()).unwrap());
    framed.put_slice(message);
    framed.freeze()
}

fn happy_frame() -> Bytes {
    framed(0, &prost::Message::encode_to_vec(&happy_get()))
}

/// An answer: its HTTP status, headers, body and trailers.
struct Answer {
    http: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    trailers: HeaderMap,
}

impl Answer {
    /// The gRPC status: in the trailers, the headers (trailers-only), or the trailer frame of a
    /// gRPC-Web body.
    fn status(&self) -> tonic::Status {
        if let Some(status) = tonic::Status::from_header_map(&self.trailers) {
            return status;
        }
        if let Some(status) = tonic::Status::from_header_map(&self.headers) {
            return status;
        }
        let body = if self
            .headers
            .get("content-type")
            .is_some_and(|t| t.to_str().unwrap().starts_with("application/grpc-web-text"))
        {
            decode_text(&self.body)
        } else {
            self.body.to_vec()
        };
        let mut at = 0;
        while at + 5 <= body.len() {
            let len = u32::from_be_bytes([body[at + 1], body[at + 2], body[at + 3], body[at + 4]])
                as usize;
            if body[at] & 0x80 != 0 {
                let mut trailers = HeaderMap::new();
                for line in String::from_utf8_lossy(&body[at + 5..at + 5 + len]).split("\r\n") {
                    if let Some((name, value)) = line.split_once(':') {
                        trailers.insert(
                            http::HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
                            value.trim().parse().unwrap(),
                        );
                    }
                }
                return tonic::Status::from_header_map(&trailers).unwrap();
            }
            at += 5 + len;
        }
        panic!("no status in {:?} {:?}", self.headers, self.body);
    }
}

/// A gRPC-Web text body decoded, chunk after padded chunk.
fn decode_text(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    text.split_inclusive('=')
        .filter(|chunk| !chunk.is_empty() && *chunk != "=")
        .flat_map(|chunk| {
            base64::engine::general_purpose::STANDARD
                .decode(chunk)
                .unwrap_or_default()
        })
        .collect()
}

/// A request to the edge over HTTP/2 (`h2`) or HTTP/1.1.
async fn send(h: &Harness, h2: bool, request: http::Request<Bytes>) -> Answer {
    send_to(h, h.suite.edge, h2, request).await
}

/// A request to the server at `addr` (the edge, or a component called directly).
async fn send_to(
    h: &Harness,
    addr: std::net::SocketAddr,
    h2: bool,
    request: http::Request<Bytes>,
) -> Answer {
    let (mut parts, body) = request.into_parts();
    parts.uri = format!("http://{addr}{}", parts.uri).parse().unwrap();
    if !parts.headers.contains_key("authorization") {
        parts.headers.insert(
            "authorization",
            format!("Bearer {}", h.token).parse().unwrap(),
        );
    }
    let request = http::Request::from_parts(parts, http_body_util::Full::new(body));
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(h2)
        .build_http::<http_body_util::Full<Bytes>>();
    let response = client.request(request).await.unwrap();
    let http = response.status();
    let headers = response.headers().clone();
    let collected = response.into_body().collect().await.unwrap();
    let trailers = collected.trailers().cloned().unwrap_or_default();
    Answer {
        http,
        headers,
        body: collected.to_bytes(),
        trailers,
    }
}

fn grpc_call(content_type: &str, body: Bytes) -> http::request::Builder {
    let _ = body;
    http::Request::post(GET_CITIZEN)
        .header("content-type", content_type)
        .header("te", "trailers")
}

fn reason(status: &tonic::Status) -> String {
    status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_else(|| panic!("no reason in {status:?}"))
}

#[tokio::test]
async fn deadlines_of_every_unit_are_honoured_and_malformed_ones_refused() {
    let h = start().await;
    // Sent as it is (a gRPC library would enforce a deadline itself, before the edge).
    let with_timeout = |timeout: &str| {
        grpc_call("application/grpc", Bytes::new())
            .header("grpc-timeout", timeout)
            .body(happy_frame())
            .unwrap()
    };
    for tiny in ["1n", "999n", "1u", "50u", "0S"] {
        let status = send(&h, true, with_timeout(tiny)).await.status();
        assert_eq!(status.code(), Code::DeadlineExceeded, "{tiny}: {status:?}");
        assert_eq!(reason(&status), "DEADLINE_EXCEEDED");
    }
    // A call the edge answers itself, at once: still too late for a deadline of a nanosecond.
    for tiny in ["1n", "1u"] {
        let check = http::Request::post("/grpc.health.v1.Health/Check")
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .header("grpc-timeout", tiny)
            .body(framed(0, &[]))
            .unwrap();
        let status = send(&h, true, check).await.status();
        assert_eq!(
            status.code(),
            Code::DeadlineExceeded,
            "health {tiny}: {status:?}"
        );
    }
    for ample in ["30S", "1M", "1H", "30000m", "30000000u"] {
        let status = send(&h, true, with_timeout(ample)).await.status();
        assert_eq!(status.code(), Code::Ok, "{ample}: {status:?}");
    }
    for bad in [
        "1.5S",
        "10s",
        "123456789m",
        "S",
        "-1S",
        "1 S",
        "1x",
        "30000000000n",
    ] {
        let status = send(&h, true, with_timeout(bad)).await.status();
        assert_eq!(status.code(), Code::InvalidArgument, "{bad}: {status:?}");
        assert_eq!(reason(&status), "INVALID_ARGUMENT");
        assert!(status.message().contains("grpc-timeout"), "{status:?}");
    }
    // Over REST, the same header.
    for (timeout, http) in [("1n", 504), ("1.5S", 400), ("30S", 200)] {
        let request = http::Request::get(format!("/v1/citizens/{}", personas::HAPPY_PATH))
            .header("grpc-timeout", timeout)
            .body(Bytes::new())
            .unwrap();
        let answer = send(&h, false, request).await;
        assert_eq!(answer.http.as_u16(), http, "{timeout}: {:?}", answer.body);
    }
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn what_is_not_served_as_grpc_is_refused_not_served() {
    let h = start().await;
    // Protobuf under its two names is served.
    for content_type in ["application/grpc", "application/grpc+proto"] {
        let answer = send(
            &h,
            true,
            grpc_call(content_type, Bytes::new())
                .body(happy_frame())
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status().code(), Code::Ok, "{content_type}");
    }
    // Another message encoding is not: 415, and the status a gRPC client reads.
    for content_type in ["application/grpc+json", "application/grpc+thrift"] {
        let answer = send(
            &h,
            true,
            grpc_call(content_type, Bytes::new())
                .body(Bytes::from_static(b"\x00\x00\x00\x00\x02{}"))
                .unwrap(),
        )
        .await;
        assert_eq!(answer.http, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let status = answer.status();
        assert_eq!(status.code(), Code::Unimplemented, "{content_type}");
        assert_eq!(reason(&status), "UNSUPPORTED_ENCODING");
        assert!(
            status.message().contains("application/grpc+proto"),
            "{status:?}"
        );
    }
    // A GET at a method's path, gRPC or gRPC-Web: 405, POST allowed.
    for (content_type, h2) in [
        ("application/grpc", true),
        ("application/grpc-web+proto", false),
        ("application/grpc-web-text", false),
    ] {
        let request = http::Request::get(GET_CITIZEN)
            .header("content-type", content_type)
            .body(Bytes::new())
            .unwrap();
        let answer = send(&h, h2, request).await;
        assert_eq!(
            answer.http,
            StatusCode::METHOD_NOT_ALLOWED,
            "{content_type}"
        );
        assert_eq!(answer.headers["allow"], "POST");
        let status = answer.status();
        assert_eq!(status.code(), Code::Unimplemented);
        assert_eq!(reason(&status), "METHOD_NOT_ALLOWED");
    }
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn framing_errors_get_the_grpc_documents_codes_over_grpc_and_grpc_web() {
    let h = start().await;
    let message = prost::Message::encode_to_vec(&happy_get());
    let cut = {
        let whole = framed(0, &message);
        whole.slice(..whole.len() - 3)
    };
    // (what, body, grpc-encoding, code, reason)
    let cases: [(&str, Bytes, Option<&str>, Code, &str); 5] = [
        (
            "a compressed flag without grpc-encoding",
            framed(1, &message),
            None,
            Code::Internal,
            "COMPRESSED_WITHOUT_ENCODING",
        ),
        (
            "an encoding the server does not read",
            framed(1, &message),
            Some("gzip"),
            Code::Unimplemented,
            "UNSUPPORTED_ENCODING",
        ),
        (
            "no message at all",
            Bytes::new(),
            None,
            Code::Unimplemented,
            "REQUEST_MESSAGE_MISSING",
        ),
        (
            "a message cut short",
            cut,
            None,
            Code::InvalidArgument,
            "INVALID_ARGUMENT",
        ),
        (
            "a frame flag neither 0 nor 1",
            framed(7, &message),
            None,
            Code::InvalidArgument,
            "INVALID_ARGUMENT",
        ),
    ];
    for (what, body, encoding, code, expected) in cases {
        for (content_type, h2) in [
            ("application/grpc", true),
            ("application/grpc-web+proto", false),
        ] {
            let mut request = grpc_call(content_type, Bytes::new());
            if let Some(encoding) = encoding {
                request = request.header("grpc-encoding", encoding);
            }
            let answer = send(&h, h2, request.body(body.clone()).unwrap()).await;
            let status = answer.status();
            assert_eq!(status.code(), code, "{what} as {content_type}: {status:?}");
            assert_eq!(reason(&status), expected, "{what} as {content_type}");
            for library in [
                "protocol error",
                "Missing request",
                "Unexpected EOF",
                "tonic",
            ] {
                assert!(!status.message().contains(library), "{what}: {status:?}");
            }
            if encoding.is_some() {
                let accepted = answer
                    .headers
                    .get("grpc-accept-encoding")
                    .or_else(|| answer.trailers.get("grpc-accept-encoding"));
                assert!(
                    accepted.is_none_or(|a| !a.to_str().unwrap().contains("gzip")),
                    "{accepted:?}"
                );
            }
        }
    }
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_second_request_message_on_a_call_that_takes_one_is_refused_not_ignored() {
    let h = start().await;
    let two = {
        let mut two = BytesMut::new();
        two.put(happy_frame());
        // The second one empty: any message at all is one too many.
        two.put(framed(0, &[]));
        two.freeze()
    };
    let citizen = h.suite.addr("citizen").unwrap();
    let health = "/grpc.health.v1.Health/Check";
    // (where, path, content type, HTTP/2, body)
    let cases = [
        ("the edge", GET_CITIZEN, "application/grpc", true),
        ("the edge", GET_CITIZEN, "application/grpc-web+proto", false),
        ("the edge", GET_CITIZEN, "application/grpc-web-text", false),
        ("the edge", health, "application/grpc", true),
        ("the citizen service", GET_CITIZEN, "application/grpc", true),
        (
            "the citizen service",
            GET_CITIZEN,
            "application/grpc-web+proto",
            false,
        ),
    ];
    for (whom, path, content_type, h2) in cases {
        let body = if content_type.contains("text") {
            Bytes::from(base64::engine::general_purpose::STANDARD.encode(&two))
        } else {
            two.clone()
        };
        let addr = if whom == "the edge" {
            h.suite.edge
        } else {
            citizen
        };
        let request = http::Request::post(path)
            .header("content-type", content_type)
            .header("te", "trailers")
            .body(body)
            .unwrap();
        let answer = send_to(&h, addr, h2, request).await;
        let status = answer.status();
        let what = format!("{path} at {whom} as {content_type}");
        assert_eq!(status.code(), Code::Unimplemented, "{what}: {status:?}");
        assert_eq!(reason(&status), "TOO_MANY_REQUEST_MESSAGES", "{what}");
        assert!(
            status.message().contains("exactly one"),
            "{what}: {status:?}"
        );
        for library in ["tonic", "h2", "hyper", "transport", "protocol error"] {
            assert!(!status.message().contains(library), "{what}: {status:?}");
        }
    }
    // One message, as before, is answered.
    let one = grpc_call("application/grpc", Bytes::new())
        .body(happy_frame())
        .unwrap();
    assert_eq!(send(&h, true, one).await.status().code(), Code::Ok);
    // A bidirectional stream takes any number: two records, two results.
    let records: Vec<u8> = ["a", "b"]
        .iter()
        .flat_map(|key| {
            framed(
                0,
                &prost::Message::encode_to_vec(&sandbox06_proto::citizen::MatchCitizensRequest {
                    record_key: (*key).to_owned(),
                    citizen_id: personas::HAPPY_PATH.into(),
                    ..Default::default()
                }),
            )
        })
        .collect();
    let request = http::Request::post("/sandbox06.citizen.v1.CitizenService/MatchCitizens")
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Bytes::from(records))
        .unwrap();
    let answer = send(&h, true, request).await;
    assert_eq!(answer.status().code(), Code::Ok, "{:?}", answer.status());
    let mut keys = Vec::new();
    let mut at = 0;
    while at + 5 <= answer.body.len() {
        let len = u32::from_be_bytes([
            answer.body[at + 1],
            answer.body[at + 2],
            answer.body[at + 3],
            answer.body[at + 4],
        ]) as usize;
        let result: sandbox06_proto::citizen::MatchCitizensResponse =
            prost::Message::decode(&answer.body[at + 5..at + 5 + len]).unwrap();
        keys.push(result.record_key);
        at += 5 + len;
    }
    assert_eq!(keys, ["a", "b"]);
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn ndjson_input_cut_short_is_the_callers_error() {
    let h = start().await;
    let post = |body: &'static str| {
        http::Request::post("/v1/citizens:match")
            .header("content-type", "application/x-ndjson")
            .body(Bytes::from_static(body.as_bytes()))
            .unwrap()
    };
    // A record cut in the middle, first or later.
    let answer = send(&h, false, post("{\"recordKey\":\"a\",\"citizenId\":\"0580")).await;
    assert_eq!(answer.http, StatusCode::BAD_REQUEST);
    let error: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(error["error"]["status"], "INVALID_ARGUMENT");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 1"),
        "{error}"
    );
    let answer = send(
        &h,
        false,
        post("{\"recordKey\":\"a\",\"citizenId\":\"001091012345\"}\n{\"recordKey\":\"b\",\"citiz"),
    )
    .await;
    assert_eq!(answer.http, StatusCode::OK);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&answer.body)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["recordKey"], "a");
    assert_eq!(lines[1]["error"]["status"], "INVALID_ARGUMENT");
    assert!(
        lines[1]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 2"),
        "{lines:?}"
    );
    // No record at all is an empty batch, answered with no line.
    let answer = send(&h, false, post("")).await;
    assert_eq!(answer.http, StatusCode::OK);
    assert!(answer.body.is_empty());
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn grpc_web_text_that_is_not_base64_is_bad_input_and_text_is_answered_in_text() {
    let h = start().await;
    let text = |body: String, accept: Option<&str>| {
        let mut request = grpc_call("application/grpc-web-text", Bytes::new());
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        request.body(Bytes::from(body)).unwrap()
    };
    for bad in ["!!!!not base64", "AAAAAAE", "AAAA\u{1}AAA"] {
        let answer = send(&h, false, text(bad.to_owned(), None)).await;
        assert_eq!(answer.http, StatusCode::BAD_REQUEST, "{bad:?}");
        let status = answer.status();
        assert_eq!(status.code(), Code::InvalidArgument, "{bad:?}: {status:?}");
        assert_eq!(reason(&status), "INVALID_ARGUMENT");
        assert!(status.message().contains("not base64"), "{status:?}");
        assert!(!status.message().contains("tonic"), "{status:?}");
    }
    let payload = base64::engine::general_purpose::STANDARD.encode(happy_frame());
    // Text in, text out, unless the client asks for binary.
    for (accept, answer_type) in [
        (None, "application/grpc-web-text"),
        (Some("*/*"), "application/grpc-web-text"),
        (
            Some("application/grpc-web-text"),
            "application/grpc-web-text",
        ),
        (
            Some("application/grpc-web+proto"),
            "application/grpc-web+proto",
        ),
    ] {
        let answer = send(&h, false, text(payload.clone(), accept)).await;
        assert_eq!(answer.http, StatusCode::OK);
        let content_type = answer.headers["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with(answer_type),
            "{accept:?}: {content_type}"
        );
        assert_eq!(answer.status().code(), Code::Ok, "{accept:?}");
        let body = if answer_type.contains("text") {
            decode_text(&answer.body)
        } else {
            answer.body.to_vec()
        };
        let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        let citizen: GetCitizenResponse = prost::Message::decode(&body[5..5 + len]).unwrap();
        assert!(citizen.citizen.is_some());
    }
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_stream_cut_by_a_lost_backend_ends_with_the_status_not_the_transports_words() {
    let h = start().await;
    let proxy = FaultProxy::start(h.suite.addr("citizen").unwrap()).await;
    let edge = edge_in_front_of(&format!("http://{}", proxy.addr), Figment::new()).await;
    for events in [false, true] {
        proxy.set(Fault::None);
        let (tx, rx) = tokio::sync::mpsc::channel::<
            Result<http_body::Frame<Bytes>, std::convert::Infallible>,
        >(4);
        let mut request = http::Request::post(format!("{}/v1/citizens:match", edge.url()))
            .header("content-type", "application/x-ndjson")
            .body(http_body_util::StreamBody::new(
                tokio_stream::wrappers::ReceiverStream::new(rx),
            ))
            .unwrap();
        if events {
            request
                .headers_mut()
                .insert("accept", "text/event-stream".parse().unwrap());
        }
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        tx.send(Ok(http_body::Frame::data(Bytes::from(format!(
            "{{\"recordKey\":\"a\",\"citizenId\":\"{}\"}}\n",
            personas::HAPPY_PATH
        )))))
        .await
        .unwrap();
        let response = client.request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mut body = response.into_body();
        let mut text = String::new();
        // The first answer, then the backend is lost.
        while !text.contains("\"recordKey\":\"a\"") {
            let frame = body.frame().await.unwrap().unwrap();
            if let Some(data) = frame.data_ref() {
                text.push_str(&String::from_utf8_lossy(data));
            }
        }
        proxy.set(Fault::Refuse);
        while let Some(frame) = body.frame().await {
            if let Ok(frame) = frame
                && let Some(data) = frame.data_ref()
            {
                text.push_str(&String::from_utf8_lossy(data));
            }
        }
        drop(tx);
        let last = text
            .lines()
            .rev()
            .find(|line| line.contains("\"error\""))
            .unwrap_or_else(|| panic!("no status at the end: {text}"));
        let last = last.strip_prefix("data: ").unwrap_or(last);
        let status: serde_json::Value = serde_json::from_str(last).unwrap();
        assert_eq!(status["error"]["status"], "UNAVAILABLE", "{text}");
        assert_eq!(
            status["error"]["details"][0]["reason"], "UPSTREAM_UNAVAILABLE",
            "{text}"
        );
        for library in ["hyper", "h2", "transport", "Error(", "connection error"] {
            assert!(!text.contains(library), "{library} in {text}");
        }
        if events {
            assert!(text.contains("event: status"), "{text}");
        }
    }
    drop(edge);
    h.suite.stop().await.unwrap();
}
