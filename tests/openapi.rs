//! The API document the edge serves at `/openapi.json`, read as a client generator or Postman
//! reads it: every operation in it is called over REST with its own examples, and answers the
//! same JSON as the same request over gRPC, in the shape its schema documents. The browsable
//! page at `/docs` and its bundled viewer are served from the binary.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::collections::HashSet;

use bytes::{Buf, BufMut};
use futures::StreamExt;
use prost::Message as _;
use prost_reflect::{DeserializeOptions, DynamicMessage, SerializeOptions};
use sandbox06_gateway::openapi::{Example, examples};
use sandbox06_testkit::{Harness, start};
use serde_json::{Map, Value};

fn http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::Client::new()
}

/// Bytes in, bytes out: the gRPC side of a call whose messages are built from JSON.
#[derive(Clone, Copy, Debug, Default)]
struct Raw;

impl tonic::codec::Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl tonic::codec::Encoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

fn method_of(example: &Example) -> prost_reflect::MethodDescriptor {
    sandbox06_proto::DESCRIPTOR_POOL
        .get_service_by_name(&example.service)
        .unwrap()
        .methods()
        .find(|m| m.name() == example.method)
        .unwrap()
}

fn encode(descriptor: &prost_reflect::MessageDescriptor, json: &Value) -> Vec<u8> {
    DynamicMessage::deserialize_with_options(descriptor.clone(), json, &DeserializeOptions::new())
        .unwrap()
        .encode_to_vec()
}

fn decode(descriptor: &prost_reflect::MessageDescriptor, bytes: &[u8]) -> Value {
    DynamicMessage::decode(descriptor.clone(), bytes)
        .unwrap()
        .serialize_with_options(serde_json::value::Serializer, &SerializeOptions::new())
        .unwrap()
}

/// The example's answers over gRPC through the edge, as JSON: one per answer message.
async fn over_grpc(h: &Harness, example: &Example) -> Vec<Value> {
    let method = method_of(example);
    let path: http::uri::PathAndQuery =
        format!("/{}/{}", method.parent_service().full_name(), method.name())
            .parse()
            .unwrap();
    let mut grpc = tonic::client::Grpc::new(h.edge.clone());
    grpc.ready().await.unwrap();
    let requests: Vec<Vec<u8>> = example
        .requests
        .iter()
        .map(|r| encode(&method.input(), r))
        .collect();
    if method.is_client_streaming() || method.is_server_streaming() {
        let answers = grpc
            .streaming(
                tonic::Request::new(futures::stream::iter(requests)),
                path,
                Raw,
            )
            .await
            .unwrap()
            .into_inner();
        answers
            .map(|a| decode(&method.output(), &a.unwrap()))
            .collect()
            .await
    } else {
        let answer = grpc
            .unary(
                tonic::Request::new(requests.into_iter().next().unwrap()),
                path,
                Raw,
            )
            .await
            .unwrap_or_else(|e| panic!("{} {}: {e:?}", example.method, example.name))
            .into_inner();
        vec![decode(&method.output(), &answer)]
    }
}

/// The value of `reference` (`#/components/...`) in `document`.
fn resolve<'a>(document: &'a Value, reference: &str) -> &'a Value {
    document
        .pointer(reference.trim_start_matches('#'))
        .unwrap_or_else(|| panic!("{reference} does not resolve"))
}

/// Checks `value` against `schema` as far as the document's schemas go: types, properties that
/// exist, enum names. The reason when it does not conform.
fn conforms(document: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return conforms(document, resolve(document, reference), value, at);
    }
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array) {
        let reasons: Vec<String> = options
            .iter()
            .filter_map(|option| conforms(document, option, value, at).err())
            .collect();
        return if reasons.len() < options.len() {
            Ok(())
        } else {
            Err(reasons.join("; "))
        };
    }
    if let Some(names) = schema.get("enum").and_then(Value::as_array)
        && !names.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {names:?}"));
    }
    // `["string", "null"]`: answers never carry null, so the first type is the one to check.
    let kind = match schema.get("type") {
        Some(Value::Array(kinds)) => kinds.first().and_then(Value::as_str),
        other => other.and_then(Value::as_str),
    };
    let fits = match (kind, value) {
        (None, _) => true,
        (Some("object"), Value::Object(_))
        | (Some("array"), Value::Array(_))
        | (Some("string"), Value::String(_))
        | (Some("boolean"), Value::Bool(_))
        | (Some("number"), Value::Number(_)) => true,
        (Some("integer"), Value::Number(n)) => n.is_i64() || n.is_u64(),
        _ => false,
    };
    if !fits {
        return Err(format!("{at}: {value} is not of type {kind:?}"));
    }
    match value {
        Value::Object(object) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema
                .get("additionalProperties")
                .filter(|a| **a != Value::Bool(false));
            for (key, item) in object {
                match (properties.and_then(|p| p.get(key)), additional) {
                    (Some(inner), _) | (None, Some(inner)) => {
                        conforms(document, inner, item, &format!("{at}.{key}"))?;
                    }
                    (None, None) if properties.is_some() => {
                        return Err(format!("{at}: {key} is not a documented property"));
                    }
                    (None, None) => {}
                }
            }
            Ok(())
        }
        Value::Array(items) => match schema.get("items") {
            Some(inner) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, item)| conforms(document, inner, item, &format!("{at}[{i}]"))),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// The answer without the fields that differ from call to call.
fn steady(mut answer: Value, varies: &[String]) -> Value {
    if let Value::Object(object) = &mut answer {
        for key in varies {
            object.remove(key);
        }
    }
    answer
}

/// An example of an operation, as a client reads it from the document: the URL with its path
/// and query parameters, and the body.
fn request_of(
    document: &Value,
    path: &str,
    operation: &Value,
    name: &str,
) -> (String, Option<(String, String)>) {
    let mut url = path.to_owned();
    let mut query = form_urlencoded::Serializer::new(String::new());
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        let Some(value) = parameter["examples"][name].get("value") else {
            continue;
        };
        let text = match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let key = parameter["name"].as_str().unwrap();
        match parameter["in"].as_str().unwrap() {
            "path" => {
                url = url.replace(
                    &format!("{{{key}}}"),
                    &form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>(),
                );
            }
            "query" => {
                query.append_pair(key, &text);
            }
            other => panic!("parameter in {other}"),
        }
    }
    let query = query.finish();
    if !query.is_empty() {
        url = format!("{url}?{query}");
    }
    let body = operation["requestBody"]["content"]
        .as_object()
        .and_then(|content| content.iter().next())
        .map(|(media, content)| {
            let value = &content["examples"][name]["value"];
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (media.clone(), text)
        });
    let _ = document;
    (url, body)
}

/// The document the edge serves, asked for under `host` when given.
async fn document_of(h: &Harness, host: Option<&str>) -> Value {
    let mut request = http().get(format!("http://{}/openapi.json", h.suite.edge));
    if let Some(host) = host {
        request = request.header("host", host);
    }
    let text = request.send().await.unwrap().text().await.unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn every_operation_answers_its_examples_as_grpc_does_in_the_documented_shape() {
    // Two suites, each called in the same order: one over REST, one over gRPC, so that calls
    // that change state (new keys) leave both in the same state.
    let rest = start().await;
    let grpc = start().await;
    let document = document_of(&rest, None).await;
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(
        document["servers"][0]["url"],
        format!("http://{}", rest.suite.edge)
    );
    let examples = examples().unwrap();
    let mut called = HashSet::new();
    let paths = document["paths"].as_object().unwrap();
    for (path, operations) in paths {
        for (verb, operation) in operations.as_object().unwrap() {
            let grpc_method = operation["x-grpc-method"].as_str().unwrap();
            let mine: Vec<&Example> = examples
                .iter()
                .filter(|e| format!("/{}/{}", e.service, e.method) == grpc_method)
                .collect();
            assert!(!mine.is_empty(), "{grpc_method} has no request example");
            for example in mine {
                let (url, body) = request_of(&document, path, operation, &example.name);
                let mut request = http()
                    .request(
                        verb.to_uppercase().parse().unwrap(),
                        format!("http://{}{url}", rest.suite.edge),
                    )
                    .bearer_auth(&rest.token);
                if let Some((media, text)) = body {
                    request = request.header("content-type", media).body(text);
                }
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                let text = response.text().await.unwrap();
                assert_eq!(status, 200, "{verb} {url} ({}): {text}", example.name);
                let answers: Vec<Value> = text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
                let expected = over_grpc(&grpc, example).await;
                assert_eq!(
                    answers
                        .iter()
                        .map(|a| steady(a.clone(), &example.varies))
                        .collect::<Vec<_>>(),
                    expected
                        .into_iter()
                        .map(|a| steady(a, &example.varies))
                        .collect::<Vec<_>>(),
                    "{grpc_method} {}: REST and gRPC differ",
                    example.name
                );
                let content = operation["responses"]["200"]["content"]
                    .as_object()
                    .unwrap();
                let (_, media) = content.iter().next().unwrap();
                let schema = media.get("x-line-schema").unwrap_or(&media["schema"]);
                for answer in &answers {
                    conforms(&document, schema, answer, "answer").unwrap_or_else(|reason| {
                        panic!("{grpc_method} {}: {reason}", example.name)
                    });
                }
                called.insert(grpc_method.to_owned());
            }
        }
    }
    // Every RPC the edge routes is in the document, and was called.
    for service in sandbox06_proto::PUBLIC_SERVICES {
        let service = sandbox06_proto::DESCRIPTOR_POOL
            .get_service_by_name(service)
            .unwrap();
        for method in service.methods() {
            let path = format!("/{}/{}", service.full_name(), method.name());
            assert!(called.contains(&path), "{path} was not called over REST");
        }
    }
}

#[tokio::test]
async fn an_openapi_3_1_parser_reads_every_operation_and_resolves_every_reference() {
    let h = start().await;
    let raw = document_of(&h, None).await;
    let text = raw.to_string();
    let spec =
        oas3::from_json(&text).unwrap_or_else(|e| panic!("not an OpenAPI 3.1 document: {e}"));
    let version = spec.validate_version().unwrap();
    assert_eq!((version.major, version.minor), (3, 1));
    let operations: Vec<_> = spec.operations().collect();
    assert_eq!(operations.len(), 8);
    let mut ids = HashSet::new();
    for (path, method, operation) in operations {
        let at = format!("{method} {path}");
        let id = operation
            .operation_id
            .clone()
            .unwrap_or_else(|| panic!("{at}: no operationId"));
        assert!(ids.insert(id), "{at}: operationId used twice");
        let raw_op = &raw["paths"][&path][method.as_str().to_ascii_lowercase()];
        // Every parameter, body, answer and schema resolves.
        let parameters = operation.parameters(&spec).unwrap();
        assert_eq!(
            parameters.len(),
            raw_op["parameters"].as_array().map_or(0, Vec::len),
            "{at}"
        );
        for parameter in &parameters {
            if parameter.location == oas3::spec::ParameterIn::Path {
                assert!(
                    path.contains(&format!("{{{}}}", parameter.name)),
                    "{at}: {}",
                    parameter.name
                );
            }
        }
        if let Some(body) = operation.request_body(&spec).unwrap() {
            for (media, content) in &body.content {
                content
                    .schema(&spec)
                    .unwrap_or_else(|e| panic!("{at} {media}: {e}"));
            }
        }
        let responses = operation.responses(&spec);
        assert_eq!(
            responses.len(),
            raw_op["responses"].as_object().unwrap().len(),
            "{at}: a response does not resolve"
        );
        for (code, response) in &responses {
            for (media, content) in &response.content {
                let schema = content
                    .schema(&spec)
                    .unwrap_or_else(|e| panic!("{at} {code} {media}: {e}"));
                assert!(schema.is_some(), "{at} {code} {media}: no schema");
            }
        }
    }
}

#[tokio::test]
async fn the_document_describes_errors_scopes_and_the_sign_on() {
    let h = start().await;
    let document = document_of(&h, Some("sandbox.example:8080")).await;
    // The server and the discovery follow the address the caller used.
    assert_eq!(document["servers"][0]["url"], "http://sandbox.example:8080");
    let sso = &document["components"]["securitySchemes"]["sso"];
    assert_eq!(sso["type"], "openIdConnect");
    assert_eq!(
        sso["openIdConnectUrl"],
        "http://sandbox.example:8080/.well-known/openid-configuration"
    );
    let get = &document["paths"]["/v1/citizens/{citizen_id}"]["get"];
    assert_eq!(get["x-sandbox06-scope"], "citizen.read");
    let error = resolve(&document, get["responses"]["404"]["$ref"].as_str().unwrap());
    // The documented error shape is the one the edge answers with.
    let response = http()
        .get(format!("http://{}/v1/citizens/000000000000", h.suite.edge))
        .bearer_auth(&h.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    let schema = &error["content"]["application/json"]["schema"];
    conforms(&document, schema, &body, "error").unwrap();
    // Each scope is described by the operations that need it.
    let scopes: &Map<String, Value> = document["components"]["x-scopes"].as_object().unwrap();
    assert!(
        scopes["citizen.verify"]
            .as_str()
            .unwrap()
            .contains("VerifyCardQr")
    );
}

#[tokio::test]
async fn the_api_page_and_its_viewer_are_served_from_the_binary() {
    let h = start().await;
    let base = format!("http://{}", h.suite.edge);
    let page = http().get(format!("{base}/docs")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("/docs/swagger-ui-bundle.js"), "{html}");
    assert!(
        !html.contains("https://"),
        "no script or style from elsewhere: {html}"
    );
    for (asset, media) in [
        ("/docs/swagger-ui-bundle.js", "text/javascript"),
        ("/docs/swagger-ui.css", "text/css"),
        ("/docs/sandbox06.js", "text/javascript"),
        ("/docs/oauth2-redirect.html", "text/html"),
    ] {
        let response = http().get(format!("{base}{asset}")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{asset}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.starts_with(media), "{asset}: {content_type}");
        assert!(!response.bytes().await.unwrap().is_empty(), "{asset}");
    }
    let missing = http()
        .get(format!("{base}/docs/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let body: Value = serde_json::from_str(&missing.text().await.unwrap()).unwrap();
    assert_eq!(body["error"]["details"][0]["reason"], "ROUTE_NOT_FOUND");
}
