//! REST/JSON at the edge port, from the contract's `google.api.http` rules: the same answers,
//! tokens, policies and errors as over gRPC.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use figment::{Figment, providers::Serialized};
use sandbox06_proto::citizen as api;
use sandbox06_testkit::{
    Answer, FakeUpstream, Harness, citizen_in_front_of, client_token, edge_in_front_of, personas,
    start,
};
use serde_json::{Value, json};

fn http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::Client::new()
}

fn url(h: &Harness, path: &str) -> String {
    format!("http://{}{path}", h.suite.edge)
}

async fn answer(response: openidconnect::reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON: {text}")),
    )
}

/// The field the BadRequest of an error body names first.
fn violated(body: &Value) -> &Value {
    &body["error"]["details"][1]["fieldViolations"][0]["field"]
}

/// GET of `path` over REST with `token`: status and JSON.
async fn get_as(h: &Harness, path: &str, token: &str) -> (u16, Value) {
    answer(
        http()
            .get(url(h, path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn get_citizen_over_rest_equals_the_grpc_answer() {
    let h = start().await;
    let (status, rest) = get_as(
        &h,
        &format!("/v1/citizens/{}", personas::HAPPY_PATH),
        &h.token,
    )
    .await;
    assert_eq!(status, 200, "{rest}");
    let grpc = h
        .citizens()
        .get_citizen(api::GetCitizenRequest {
            citizen_id: personas::HAPPY_PATH.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let expected =
        sandbox06_proto::to_json(&grpc, "sandbox06.citizen.v1.GetCitizenResponse").unwrap();
    assert_eq!(rest, expected);
    // A field mask as a query parameter.
    let (status, masked) = answer(
        http()
            .get(url(
                &h,
                &format!(
                    "/v1/citizens/{}?read_mask=fullName,card.expiryDate",
                    personas::HAPPY_PATH
                ),
            ))
            .bearer_auth(&h.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{masked}");
    let citizen = masked["citizen"].as_object().unwrap();
    assert!(citizen.contains_key("fullName"), "{masked}");
    assert!(!citizen.contains_key("dateOfBirth"), "{masked}");
}

/// Every field of a citizen can be selected over REST by the JSON form of its path, including
/// fields whose name does not survive the lowerCamelCase round trip (`pre_2025` is `pre2025`).
#[tokio::test]
async fn every_citizen_field_is_selected_by_its_json_path() {
    use prost_reflect::MessageDescriptor;
    fn json_paths(message: &MessageDescriptor, prefix: &str, depth: usize, out: &mut Vec<String>) {
        for field in message.fields() {
            let path = format!("{prefix}{}", field.json_name());
            if depth < 2
                && !field.is_list()
                && let Some(child) = field.kind().as_message()
                && !child.full_name().starts_with("google.")
            {
                json_paths(child, &format!("{path}."), depth + 1, out);
            }
            out.push(path);
        }
    }
    let h = start().await;
    let citizen = sandbox06_proto::DESCRIPTOR_POOL
        .get_message_by_name("sandbox06.citizen.v1.Citizen")
        .unwrap();
    let mut paths = Vec::new();
    json_paths(&citizen, "", 0, &mut paths);
    assert!(paths.iter().any(|p| p.ends_with(".pre2025")), "{paths:?}");
    for path in &paths {
        let (status, masked) = answer(
            http()
                .get(url(
                    &h,
                    &format!("/v1/citizens/{}?read_mask={path}", personas::HAPPY_PATH),
                ))
                .bearer_auth(&h.token)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{path}: {masked}");
    }
    // The selected field is there, and only it.
    let (status, masked) = answer(
        http()
            .get(url(
                &h,
                &format!(
                    "/v1/citizens/{}?read_mask=permanentAddress.pre2025",
                    personas::HAPPY_PATH
                ),
            ))
            .bearer_auth(&h.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{masked}");
    let address = masked["citizen"]["permanentAddress"].as_object().unwrap();
    assert!(address.contains_key("pre2025"), "{masked}");
    assert!(!address.contains_key("current"), "{masked}");
}

#[tokio::test]
async fn verify_over_rest_takes_the_body_and_the_path() {
    let h = start().await;
    let body = json!({"fullName": "Nguyễn Văn Hùng", "dateOfBirth": {"year": 1991, "month": 3, "day": 15}, "sex": "SEX_MALE"});
    let (status, rest) = answer(
        http()
            .post(url(
                &h,
                &format!("/v1/citizens/{}:verify", personas::HAPPY_PATH),
            ))
            .bearer_auth(&h.token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{rest}");
    assert!(rest["verdict"].is_string(), "{rest}");
}

#[tokio::test]
async fn errors_over_rest_are_the_status_with_its_http_code() {
    let h = start().await;
    let path = format!("/v1/citizens/{}", personas::HAPPY_PATH);
    // No token: 401, the same reason as over gRPC.
    let (status, body) = answer(http().get(url(&h, &path)).send().await.unwrap()).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["details"][0]["reason"], "TOKEN_MISSING");
    // A token without the scope: 403.
    let hotel = client_token(h.suite.edge, "demo-hotel", "demo-hotel-secret", None).await;
    let (status, body) = get_as(&h, &path, &hotel).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["details"][0]["reason"], "SCOPE_MISSING");
    // A bad ID number: 400 with the field.
    let (status, body) = get_as(&h, "/v1/citizens/12345", &h.token).await;
    assert_eq!(status, 400, "{body}");
    // Bad JSON, an unknown field, a wrong type, an enum name that does not exist: 400, naming
    // the field.
    let verify = url(&h, &format!("/v1/citizens/{}:verify", personas::HAPPY_PATH));
    for (bad, field) in [
        ("{", "body"),
        ("[1]", "body"),
        (r#"{"noSuchField": 1}"#, "noSuchField"),
        (r#"{"fullName": 7}"#, "fullName"),
        (
            r#"{"dateOfBirth": {"year": 1991, "month": "March"}}"#,
            "dateOfBirth.month",
        ),
        (r#"{"dateOfBirth": "1991-03-15"}"#, "dateOfBirth"),
        (r#"{"sex": "SEX_NOPE"}"#, "sex"),
    ] {
        let (status, body) = answer(
            http()
                .post(&verify)
                .bearer_auth(&h.token)
                .body(bad)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"]["status"], "INVALID_ARGUMENT", "{bad}: {body}");
        let violations = body["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|d| d.get("fieldViolations"))
            .unwrap_or_else(|| panic!("{bad}: no BadRequest in {body}"));
        assert_eq!(violations[0]["field"], field, "{bad}: {body}");
    }
    // A query parameter is checked as a body field is: a field mask in the JSON form.
    let (status, body) = get_as(
        &h,
        &format!("/v1/citizens/{}?read_mask=Full_Name", personas::HAPPY_PATH),
        &h.token,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(violated(&body), "readMask", "{body}");
    // An integer out of its type's range is refused at the edge, naming the field; an enum by
    // number is taken, as the proto3 JSON mapping allows.
    let (status, body) = post_json(
        &h,
        "/v1/sso/tokens:issue",
        &json!({"lifetimeSeconds": "-9223372036854775809"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(violated(&body), "lifetimeSeconds", "{body}");
    let (status, body) = post_json(
        &h,
        &format!("/v1/citizens/{}:verify", personas::HAPPY_PATH),
        &json!({"fullName": "Nguyễn Văn Hùng", "sex": 1}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Nobody has this well-formed number: 404.
    let (status, body) = get_as(&h, "/v1/citizens/001090999999", &h.token).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["details"][0]["reason"], "CITIZEN_NOT_FOUND");
    // A body above the size limit: 413, not a rate limit to retry.
    let huge = format!(r#"{{"payload": "{}"}}"#, "x".repeat(5 * 1024 * 1024));
    let (status, body) = answer(
        http()
            .post(url(&h, "/v1/cards:verifyQr"))
            .bearer_auth(&h.token)
            .body(huge)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["details"][0]["reason"], "REQUEST_TOO_LARGE");
    // The wrong method: 405 with Allow; an unknown route: 404.
    let response = http().delete(url(&h, &path)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "GET");
    let (status, body) = answer(http().get(url(&h, "/v1/nothing")).send().await.unwrap()).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["details"][0]["reason"], "ROUTE_NOT_FOUND");
}

/// GET of the happy-path citizen from the edge at `edge`, without a token (the edges in front of
/// a single service enforce none).
async fn happy_path_from(edge: &str) -> (u16, Value) {
    let path = format!("{edge}/v1/citizens/{}", personas::HAPPY_PATH);
    answer(http().get(path).send().await.unwrap()).await
}

#[tokio::test]
async fn an_unavailable_service_and_a_passed_deadline_have_their_http_status() {
    // The edge in front of a citizen service that is not there: 503, as UNAVAILABLE over gRPC.
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let edge = edge_in_front_of(&dead_url, Figment::new()).await;
    let (status, body) = happy_path_from(&edge.url()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["status"], "UNAVAILABLE", "{body}");
    assert_eq!(
        body["error"]["details"][0]["reason"],
        "UPSTREAM_UNAVAILABLE"
    );
    // A citizen service whose population database never answers, behind an edge with a
    // one-second deadline: 504.
    let stalled = FakeUpstream::start(Answer::Stall).await;
    let citizen = citizen_in_front_of(&stalled.url()).await;
    let edge = edge_in_front_of(
        &citizen.url(),
        Figment::new().merge(Serialized::default("limits.request_timeout_seconds", 1)),
    )
    .await;
    let (status, body) = happy_path_from(&edge.url()).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["error"]["status"], "DEADLINE_EXCEEDED", "{body}");
}

#[tokio::test]
async fn match_citizens_streams_over_ndjson_in_order() {
    let h = start().await;
    let country = &h.suite.country;
    let step = country.population() / 10_500;
    let mut body = String::new();
    let mut sent = 0;
    for i in 0.. {
        if sent == 10_000 {
            break;
        }
        let Some(id) = country.citizen_at(i * step) else {
            break;
        };
        let Some(person) = country.person(id, sandbox06_world::View::Basic) else {
            continue;
        };
        body.push_str(
            &json!({"recordKey": format!("r{sent}"), "citizenId": id.to_string(), "fullName": person.full_name})
                .to_string(),
        );
        body.push('\n');
        sent += 1;
    }
    assert_eq!(sent, 10_000);
    let response = http()
        .post(url(&h, "/v1/citizens:match"))
        .bearer_auth(&h.token)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let text = response.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        10_000,
        "{}",
        &text[text.len().saturating_sub(500)..]
    );
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["recordKey"], format!("r{i}"), "{line}");
        assert!(
            line.get("match").is_some() || line.get("error").is_some(),
            "{line}"
        );
    }
    // A line that is not a record ends the stream with an error line after the answers.
    let response = http()
        .post(url(&h, "/v1/citizens:match"))
        .bearer_auth(&h.token)
        .body(format!(
            "{}\n{{\"noSuchField\":1}}\n",
            json!({"recordKey": "a", "citizenId": personas::HAPPY_PATH, "fullName": "Nguyễn Văn Hùng"})
        ))
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["recordKey"], "a");
    assert_eq!(lines[1]["error"]["status"], "INVALID_ARGUMENT", "{text}");
}

#[tokio::test]
async fn a_match_whose_first_line_is_no_record_or_whose_body_is_too_large_fails_plainly() {
    // A small size limit, so that the records before it are few.
    let h = sandbox06_testkit::start_with(&sandbox06_testkit::test_config_with(
        Figment::new().merge(Serialized::default("limits.max_request_bytes", 64 * 1024)),
    ))
    .await;
    // The first record decides the status: no record, a 400 naming the line and the field.
    let (status, body) = answer(
        http()
            .post(url(&h, "/v1/citizens:match"))
            .bearer_auth(&h.token)
            .body("\n{\"noSuchField\":1}\n")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(violated(&body), "line 2: noSuchField", "{body}");
    // A body streamed past the size limit (no length given) does not end as if the records so
    // far were the whole batch: the last line says why.
    let line = format!(
        "{}\n",
        json!({"recordKey": "k", "citizenId": personas::HAPPY_PATH, "fullName": "Nguyễn Văn Hùng"})
    );
    let chunk = bytes::Bytes::from(line.repeat(100));
    let chunks = (256 * 1024) / chunk.len() + 1;
    let stream = futures::stream::iter(
        (0..chunks).map(move |_| Ok::<_, std::io::Error>(http_body::Frame::data(chunk.clone()))),
    );
    let request = http::Request::post(url(&h, "/v1/citizens:match"))
        .header("authorization", format!("Bearer {}", h.token))
        .header("content-type", "application/x-ndjson")
        .body(http_body_util::StreamBody::new(stream))
        .unwrap();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let response = client.request(request).await.unwrap();
    let text = {
        use http_body_util::BodyExt as _;
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    };
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(
        last["error"]["details"][0]["reason"],
        "REQUEST_TOO_LARGE",
        "{}",
        &text[text.len().saturating_sub(400)..]
    );
}

#[tokio::test]
async fn match_results_come_as_server_sent_events_when_asked() {
    let h = start().await;
    let records = [
        json!({"recordKey": "a", "citizenId": personas::HAPPY_PATH, "fullName": "Nguyễn Văn Hùng"}),
        json!({"recordKey": "b", "citizenId": "12345"}),
        json!({"recordKey": "c", "citizenId": personas::MARRIED_WIFE, "fullName": "Trần Thị Mai"}),
    ];
    let body: String = records.iter().map(|r| format!("{r}\n")).collect();
    let response = http()
        .post(url(&h, "/v1/citizens:match"))
        .bearer_auth(&h.token)
        .header("content-type", "application/x-ndjson")
        .header("accept", "text/event-stream")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = response.text().await.unwrap();
    // One event per result, in order, each with its position as its id.
    let events: Vec<(String, Value)> = text
        .split("\n\n")
        .filter(|event| !event.trim().is_empty())
        .map(|event| {
            let id = event
                .lines()
                .find_map(|l| l.strip_prefix("id: "))
                .unwrap_or_default()
                .to_owned();
            let data = event
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap_or_else(|| panic!("no data in {event:?}"));
            (id, serde_json::from_str(data).unwrap())
        })
        .collect();
    assert_eq!(events.len(), 3, "{text}");
    for (i, (id, event)) in events.iter().enumerate() {
        assert_eq!(id, &i.to_string());
        assert_eq!(event["recordKey"], records[i]["recordKey"], "{text}");
    }
    assert_eq!(
        events[1].1["error"]["reason"], "INVALID_CITIZEN_ID",
        "{text}"
    );
    // The same results as NDJSON.
    let ndjson = http()
        .post(url(&h, "/v1/citizens:match"))
        .bearer_auth(&h.token)
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        events.into_iter().map(|(_, e)| e).collect::<Vec<_>>()
    );
    // A stream that fails after its first answer ends with a status event.
    let broken = http()
        .post(url(&h, "/v1/citizens:match"))
        .bearer_auth(&h.token)
        .header("accept", "text/event-stream")
        .body(format!("{}\n{{\"noSuchField\":1}}\n", records[0]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let last = broken
        .split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .last()
        .unwrap();
    assert!(last.starts_with("event: status\n"), "{broken}");
    let data: Value =
        serde_json::from_str(last.lines().nth(1).unwrap().strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(data["error"]["status"], "INVALID_ARGUMENT", "{broken}");
    let field = &data["error"]["details"][1]["fieldViolations"][0]["field"];
    assert_eq!(field, "line 2: noSuchField", "{broken}");
}

/// POSTs `body` to `path` over REST with the harness's token: status and JSON.
async fn post_json(h: &Harness, path: &str, body: &Value) -> (u16, Value) {
    answer(
        http()
            .post(url(h, path))
            .bearer_auth(&h.token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn every_persona_gets_the_same_record_and_verdicts_over_rest_as_over_grpc() {
    let h = start().await;
    let mut client = h.citizens();
    let country = &h.suite.country;
    for persona in country.personas().all() {
        // The record.
        let (status, rest) = get_as(&h, &format!("/v1/citizens/{}", persona.id), &h.token).await;
        assert_eq!(status, 200, "{}: {rest}", persona.key);
        let grpc = client
            .get_citizen(api::GetCitizenRequest {
                citizen_id: persona.id.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let expected =
            sandbox06_proto::to_json(&grpc, "sandbox06.citizen.v1.GetCitizenResponse").unwrap();
        assert_eq!(rest, expected, "{}", persona.key);
        // The verdict on what the persona's documents say.
        let (year, month, day) = persona.birth;
        let claim = api::VerifyCitizenRequest {
            citizen_id: persona.id.into(),
            full_name: persona.name.into(),
            date_of_birth: Some(sandbox06_proto::types::Date {
                year,
                month: month.into(),
                day: day.into(),
            }),
            ..Default::default()
        };
        let (status, rest) = post_json(
            &h,
            &format!("/v1/citizens/{}:verify", persona.id),
            &json!({"fullName": persona.name, "dateOfBirth": {"year": year, "month": month, "day": day}}),
        )
        .await;
        assert_eq!(status, 200, "{}: {rest}", persona.key);
        let grpc = client.verify_citizen(claim).await.unwrap().into_inner();
        let expected =
            sandbox06_proto::to_json(&grpc, "sandbox06.citizen.v1.VerifyCitizenResponse").unwrap();
        assert_eq!(rest, expected, "{}", persona.key);
        match persona.key {
            "happy-path" => assert_eq!(rest["verdict"], "VERDICT_MATCH", "{rest}"),
            "deceased" => assert_eq!(rest["verdict"], "VERDICT_DECEASED", "{rest}"),
            _ => {}
        }
        // The verdict on the QR code of the card, for those whose card has one.
        let person = country
            .person(
                sandbox06_vn::CitizenId::parse_field(persona.id, "id").unwrap(),
                sandbox06_world::View::Full,
            )
            .unwrap();
        if let Some(qr) = sandbox06_world::card_qr(country, &person) {
            let payload = qr.to_payload();
            let (status, rest) =
                post_json(&h, "/v1/cards:verifyQr", &json!({"payload": payload})).await;
            assert_eq!(status, 200, "{}: {rest}", persona.key);
            let grpc = client
                .verify_card_qr(api::VerifyCardQrRequest { payload })
                .await
                .unwrap()
                .into_inner();
            let expected =
                sandbox06_proto::to_json(&grpc, "sandbox06.citizen.v1.VerifyCardQrResponse")
                    .unwrap();
            assert_eq!(rest, expected, "{}", persona.key);
        }
    }
}
