//! gRPC-Web on the edge port, as browsers and their libraries speak it: binary and base64 text,
//! over HTTP/1.1, with the same tokens, policies and errors as gRPC; and the CORS policy that
//! lets pages on other origins call (by default only pages on localhost).

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use base64::Engine as _;
use figment::{Figment, providers::Serialized};
use sandbox06_proto::citizen as api;
use sandbox06_testkit::{Bearer, Harness, personas, start, start_with, test_config_with};
use tonic::Code;

type WebChannel = tonic_web::GrpcWebClientService<
    hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        tonic_web::GrpcWebCall<tonic::body::Body>,
    >,
>;

/// A citizen client speaking gRPC-Web over HTTP/1.1 to the edge, with `token` when given.
fn web_client(
    h: &Harness,
    token: Option<&str>,
) -> api::citizen_service_client::CitizenServiceClient<
    tonic::service::interceptor::InterceptedService<WebChannel, Bearer>,
> {
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let web = tonic_web::GrpcWebClientLayer::new();
    let service = tower::Layer::layer(&web, http);
    let bearer = token.map_or_else(Bearer::none, Bearer::new);
    api::citizen_service_client::CitizenServiceClient::with_origin(
        tonic::service::interceptor::InterceptedService::new(service, bearer),
        format!("http://{}", h.suite.edge).parse().unwrap(),
    )
}

fn reason_of(status: &tonic::Status) -> Option<String> {
    use tonic_types::StatusExt;
    status.get_details_error_info().map(|info| info.reason)
}

#[tokio::test]
async fn a_grpc_web_client_gets_the_grpc_answer_and_the_grpc_errors() {
    let h = start().await;
    let request = api::GetCitizenRequest {
        citizen_id: personas::HAPPY_PATH.into(),
        ..Default::default()
    };
    let over_web = web_client(&h, Some(&h.token))
        .get_citizen(request.clone())
        .await
        .unwrap()
        .into_inner();
    let over_grpc = h
        .citizens()
        .get_citizen(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(over_web, over_grpc);
    // The same refusals, with their details.
    let refused = web_client(&h, None).get_citizen(request).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(reason_of(&refused).as_deref(), Some("TOKEN_MISSING"));
    let bad = web_client(&h, Some(&h.token))
        .get_citizen(api::GetCitizenRequest {
            citizen_id: "12345".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(reason_of(&bad).as_deref(), Some("INVALID_CITIZEN_ID"));
}

/// One gRPC-Web frame of `message`.
fn frame(message: &impl prost::Message) -> Vec<u8> {
    let body = message.encode_to_vec();
    let mut framed = vec![0];
    framed.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes());
    framed.extend_from_slice(&body);
    framed
}

/// The frames of a gRPC-Web body: the messages, and the trailers as text.
fn frames(mut body: &[u8]) -> (Vec<Vec<u8>>, String) {
    let mut messages = Vec::new();
    let mut trailers = String::new();
    while body.len() >= 5 {
        let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        let content = &body[5..5 + len];
        if body[0] & 0x80 != 0 {
            trailers.push_str(&String::from_utf8_lossy(content));
        } else {
            messages.push(content.to_vec());
        }
        body = &body[5 + len..];
    }
    (messages, trailers)
}

#[tokio::test]
async fn text_mode_from_a_page_on_localhost_crosses_origins() {
    let h = start().await;
    let page = "http://localhost:5173";
    let payload =
        base64::engine::general_purpose::STANDARD.encode(frame(&api::GetCitizenRequest {
            citizen_id: personas::HAPPY_PATH.into(),
            ..Default::default()
        }));
    let client = openidconnect::reqwest::Client::new();
    let url = format!(
        "http://{}/sandbox06.citizen.v1.CitizenService/GetCitizen",
        h.suite.edge
    );
    // The browser's preflight.
    let preflight = client
        .request(http::Method::OPTIONS, &url)
        .header("origin", page)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type,x-grpc-web,x-user-agent",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status().as_u16(), 204);
    assert_eq!(preflight.headers()["access-control-allow-origin"], page);
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(allowed.contains("x-grpc-web"), "{allowed}");
    // The call.
    let response = client
        .post(&url)
        .header("origin", page)
        .header("content-type", "application/grpc-web-text")
        .header("accept", "application/grpc-web-text")
        .header("x-grpc-web", "1")
        .bearer_auth(&h.token)
        .body(payload)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], page);
    let exposed = response.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(exposed.contains("grpc-status"), "{exposed}");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/grpc-web-text")
    );
    let text = response.text().await.unwrap();
    let body = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .or_else(|_| {
            // Each frame may be its own base64 chunk.
            text.split_inclusive('=')
                .map(|chunk| base64::engine::general_purpose::STANDARD.decode(chunk))
                .collect::<Result<Vec<_>, _>>()
                .map(|chunks| chunks.concat())
        })
        .unwrap();
    let (messages, trailers) = frames(&body);
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
    let answer: api::GetCitizenResponse = prost::Message::decode(messages[0].as_slice()).unwrap();
    assert_eq!(answer.citizen.unwrap().full_name, "Nguyễn Văn Hùng");
}

#[tokio::test]
async fn only_configured_origins_may_call_from_a_page() {
    let h = start_with(&test_config_with(Figment::new().merge(
        Serialized::default(
            "gateway.cors.allowed_origins",
            vec!["https://portal.example"],
        ),
    )))
    .await;
    let client = openidconnect::reqwest::Client::new();
    let url = format!(
        "http://{}/v1/citizens/{}",
        h.suite.edge,
        personas::HAPPY_PATH
    );
    let preflight = |origin: &'static str| {
        client
            .request(http::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let ok = preflight("https://portal.example").await.unwrap();
    assert_eq!(ok.status().as_u16(), 204);
    // Localhost is no longer listed.
    let refused = preflight("http://localhost:5173").await.unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let body: serde_json::Value = serde_json::from_str(&refused.text().await.unwrap()).unwrap();
    assert_eq!(body["error"]["details"][0]["reason"], "ORIGIN_NOT_ALLOWED");
    assert_eq!(
        body["error"]["details"][0]["metadata"]["origin"],
        "http://localhost:5173"
    );
    // A page of a refused origin may not make the call at all, even one a browser sends without
    // a preflight (a form's POST); a page of an allowed one gets its answer with CORS headers.
    let forged = client
        .post(format!("http://{}/v1/sso/keys:rotate", h.suite.edge))
        .header("origin", "https://evil.example")
        .header("content-type", "text/plain")
        .bearer_auth(&h.token)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert!(
        forged
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let listed = client
        .get(&url)
        .header("origin", "https://portal.example")
        .bearer_auth(&h.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.headers()["access-control-allow-origin"],
        "https://portal.example"
    );
    // A bad origin in the configuration stops the start with the key to fix.
    let mut suite = sandbox06::Suite::start(&test_config_with(Figment::new().merge(
        Serialized::default("gateway.cors.allowed_origins", vec!["portal.example"]),
    )))
    .await
    .unwrap();
    let error = suite
        .wait_ready(std::time::Duration::from_secs(10))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("gateway.cors.allowed_origins"), "{error}");
}
