//! REST/JSON at the edge port, from the contract's `google.api.http` rules: the same answers,
//! tokens, policies and errors as over gRPC.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use sandbox06_proto::citizen as api;
use sandbox06_testkit::{Harness, client_token, personas, start};
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

#[tokio::test]
async fn get_citizen_over_rest_equals_the_grpc_answer() {
    let h = start().await;
    let (status, rest) = answer(
        http()
            .get(url(&h, &format!("/v1/citizens/{}", personas::HAPPY_PATH)))
            .bearer_auth(&h.token)
            .send()
            .await
            .unwrap(),
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
    let (status, body) = answer(
        http()
            .get(url(&h, &path))
            .bearer_auth(&hotel)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["details"][0]["reason"], "SCOPE_MISSING");
    // A bad ID number: 400 with the field.
    let (status, body) = answer(
        http()
            .get(url(&h, "/v1/citizens/12345"))
            .bearer_auth(&h.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    // Bad JSON, an unknown field, a wrong type: 400.
    let verify = url(&h, &format!("/v1/citizens/{}:verify", personas::HAPPY_PATH));
    for bad in ["{", r#"{"noSuchField": 1}"#, r#"{"fullName": 7}"#] {
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
    }
    // The wrong method: 405 with Allow; an unknown route: 404.
    let response = http().delete(url(&h, &path)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "GET");
    let (status, body) = answer(http().get(url(&h, "/v1/nothing")).send().await.unwrap()).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["details"][0]["reason"], "ROUTE_NOT_FOUND");
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
