//! The edge as a whole: health and reflection for the suite, unknown methods, and the HTTP
//! side of the edge port.

use sandbox06_runtime::error::reason_of;
use sandbox06_testkit::start;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

#[tokio::test]
async fn health_answers_for_the_suite_and_each_service() {
    let h = start().await;
    let mut health = HealthClient::new(h.edge.clone());
    for service in ["", "sandbox06.citizen.v1.CitizenService"] {
        let r = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.status, ServingStatus::Serving as i32, "{service:?}");
    }
    let err = health
        .check(HealthCheckRequest {
            service: "no.such.Service".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn reflection_lists_and_describes_the_services() {
    let h = start().await;
    let mut reflection = ServerReflectionClient::new(h.edge.clone());
    let ask = |request: MessageRequest| {
        tokio_stream::iter([ServerReflectionRequest {
            host: String::new(),
            message_request: Some(request),
        }])
    };
    let mut responses = reflection
        .server_reflection_info(ask(MessageRequest::ListServices(String::new())))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) =
        responses.message().await.unwrap().unwrap().message_response
    else {
        panic!("not a list");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "sandbox06.citizen.v1.CitizenService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    let mut responses = reflection
        .server_reflection_info(ask(MessageRequest::FileContainingSymbol(
            "sandbox06.citizen.v1.CitizenService".into(),
        )))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::FileDescriptorResponse(files)) =
        responses.message().await.unwrap().unwrap().message_response
    else {
        panic!("no descriptor");
    };
    assert!(!files.file_descriptor_proto.is_empty());
    // The edge describes what it routes, never the upstream behind the citizen service.
    let mut responses = reflection
        .server_reflection_info(ask(MessageRequest::FileContainingSymbol(
            "sandbox06.upstream.population.v1.PopulationService".into(),
        )))
        .await
        .unwrap()
        .into_inner();
    let answer = responses.message().await;
    assert!(
        matches!(&answer, Err(status) if status.code() == tonic::Code::NotFound),
        "{answer:?}"
    );
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn an_unknown_service_is_unimplemented_with_a_reason() {
    let h = start().await;
    let mut client = tonic::client::Grpc::new(h.edge.clone());
    client.ready().await.unwrap();
    let path = http::uri::PathAndQuery::from_static("/sandbox06.nothing.v1.Nothing/Get");
    let err = client
        .unary::<(), (), _>(
            tonic::Request::new(()),
            path,
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unimplemented);
    assert_eq!(reason_of(&err).as_deref(), Some("METHOD_NOT_FOUND"));
    h.suite.stop().await.unwrap();
}

/// Checks the JSON error an unknown HTTP path gets (`body` as received).
fn assert_json_404(body: &[u8], path: &str) {
    let error: serde_json::Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not json ({e}): {}", String::from_utf8_lossy(body)));
    assert_eq!(error["error"]["code"], 404);
    assert_eq!(error["error"]["status"], "NOT_FOUND");
    let info = &error["error"]["details"][0];
    assert_eq!(info["@type"], "type.googleapis.com/google.rpc.ErrorInfo");
    assert_eq!(info["reason"], "ROUTE_NOT_FOUND");
    assert_eq!(info["domain"], "sandbox06.vn");
    assert_eq!(info["metadata"]["path"], path);
}

#[tokio::test]
async fn an_http1_request_to_an_unknown_path_gets_a_json_404() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let h = start().await;
    let mut stream = tokio::net::TcpStream::connect(h.suite.edge).await.unwrap();
    stream
        .write_all(b"GET /no/such/page HTTP/1.1\r\nhost: sandbox06\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 404 "), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    assert_json_404(body.as_bytes(), "/no/such/page");
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn an_h2c_request_that_is_not_grpc_gets_a_json_404() {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let h = start().await;
    // A JSON body at a gRPC method's path: without the gRPC content type it is plain HTTP.
    let path = "/sandbox06.citizen.v1.CitizenService/GetCitizen";
    let request = http::Request::post(format!("http://{}{path}", h.suite.edge))
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(tonic::body::Body::new(http_body_util::Full::new(
            tonic::codegen::Bytes::from_static(b"\x00\x00\x00\x00\x02{}"),
        )))
        .unwrap();
    let response = h.edge.clone().oneshot(request).await.unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(response.status(), http::StatusCode::NOT_FOUND);
    assert!(response.headers().get("grpc-status").is_none());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_json_404(&body, path);
    h.suite.stop().await.unwrap();
}

/// The value of the sample `name` (with its labels) in Prometheus text.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_on_the_edge_count_get_citizen_by_code() {
    let h = start().await;
    let mut citizens = h.citizens();
    citizens
        .get_citizen(sandbox06_proto::citizen::GetCitizenRequest {
            citizen_id: sandbox06_testkit::personas::HAPPY_PATH.into(),
            read_mask: None,
        })
        .await
        .unwrap();
    citizens
        .get_citizen(sandbox06_proto::citizen::GetCitizenRequest {
            citizen_id: "001090999999".into(),
            read_mask: None,
        })
        .await
        .unwrap_err();
    let (status, text) = sandbox06_testkit::http1(
        h.suite.edge,
        http::Request::get("/metrics").body(String::new()).unwrap(),
    )
    .await;
    assert_eq!(status, http::StatusCode::OK);
    for (component, code) in [
        ("gateway", "OK"),
        ("citizen", "OK"),
        ("citizen", "NOT_FOUND"),
        ("gateway", "NOT_FOUND"),
    ] {
        let name = format!(
            "rpc_server_requests_total{{code=\"{code}\",component=\"{component}\",method=\"GetCitizen\",service=\"sandbox06.citizen.v1.CitizenService\"}}"
        );
        let count = sample(&text, &name).unwrap_or_else(|| panic!("{name} missing:\n{text}"));
        assert!(count >= 1.0, "{name} = {count}");
    }
    // The population database's own calls are counted under its name.
    assert!(
        text.contains("component=\"population-db\""),
        "no population-db series:\n{text}"
    );
    assert!(text.contains("# TYPE rpc_server_duration_seconds histogram"));
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn made_up_paths_leave_no_number_in_errors_or_metrics() {
    let h = start().await;
    let mut client = tonic::client::Grpc::new(h.edge.clone());
    for path in [
        "/sandbox06.nothing.v1.Nothing/058090001234",
        "/sandbox06.citizen.v1.CitizenService/Get058090001234",
    ] {
        client.ready().await.unwrap();
        let err = client
            .unary::<(), (), _>(
                tonic::Request::new(()),
                http::uri::PathAndQuery::from_static(path),
                tonic_prost::ProstCodec::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::Unimplemented, "{path}");
        // A made-up method of a routed service is the edge's answer too, with its reason.
        assert_eq!(
            reason_of(&err).as_deref(),
            Some("METHOD_NOT_FOUND"),
            "{path}"
        );
        assert!(!err.message().contains("058090001234"), "{err:?}");
    }
    let (_, text) = sandbox06_testkit::http1(
        h.suite.edge,
        http::Request::get("/metrics").body(String::new()).unwrap(),
    )
    .await;
    assert!(!text.contains("058090001234"), "{text}");
    assert!(
        text.contains("component=\"gateway\",method=\"other\",service=\"other\""),
        "{text}"
    );
    h.suite.stop().await.unwrap();
}
