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
            // A list is the parameter repeated (`explode`), one value each.
            "query" if value.is_array() => {
                for item in value.as_array().into_iter().flatten() {
                    query.append_pair(key, item.as_str().unwrap_or(&item.to_string()));
                }
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

/// The body of an answer; of a stream that stays open (a watch of events without
/// `stop_at_latest`), what came in its first seconds: it was taken.
async fn body_of(mut response: openidconnect::reqwest::Response) -> String {
    let mut body = Vec::new();
    let read = async {
        while let Some(chunk) = response.chunk().await.unwrap() {
            body.extend_from_slice(&chunk);
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), read).await;
    String::from_utf8_lossy(&body).into_owned()
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

/// How many methods the edge routes: each is one operation of the document (every routed
/// method has an HTTP rule, which `every_operation_answers_its_examples...` checks).
fn routed_methods() -> usize {
    sandbox06::routed_services(&sandbox06::components())
        .into_iter()
        .map(|service| {
            sandbox06_proto::DESCRIPTOR_POOL
                .get_service_by_name(service)
                .unwrap()
                .methods()
                .len()
        })
        .sum()
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
    for service in sandbox06::routed_services(&sandbox06::components()) {
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
    assert_eq!(operations.len(), routed_methods());
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

// What the document allows, read as a validator reads it, and requests generated from it.

/// `schema` with its `$ref`s followed.
fn deref<'a>(document: &'a Value, mut schema: &'a Value) -> &'a Value {
    while let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        schema = resolve(document, reference);
    }
    schema
}

fn fits_type(kind: &str, value: &Value) -> bool {
    match (kind, value) {
        ("null", Value::Null)
        | ("boolean", Value::Bool(_))
        | ("string", Value::String(_))
        | ("object", Value::Object(_))
        | ("array", Value::Array(_))
        | ("number", Value::Number(_)) => true,
        ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
        _ => false,
    }
}

/// Whether the document allows `value` where `schema` is (JSON Schema 2020-12: `$ref`, `anyOf`,
/// `not`, `enum`, `type`, lengths, `pattern`, bounds, `properties`, `required`,
/// `additionalProperties`, `items`).
fn allows(document: &Value, schema: &Value, value: &Value) -> bool {
    let schema = deref(document, schema);
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array)
        && !options.iter().any(|s| allows(document, s, value))
    {
        return false;
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array)
        && !all.iter().all(|s| allows(document, s, value))
    {
        return false;
    }
    if let Some(not) = schema.get("not")
        && allows(document, not, value)
    {
        return false;
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(value)
    {
        return false;
    }
    match schema.get("type") {
        Some(Value::String(kind)) if !fits_type(kind, value) => return false,
        Some(Value::Array(kinds))
            if !kinds
                .iter()
                .filter_map(Value::as_str)
                .any(|k| fits_type(k, value)) =>
        {
            return false;
        }
        _ => {}
    }
    let number = |key: &str| schema.get(key).and_then(Value::as_f64);
    match value {
        Value::String(text) => {
            let chars = text.chars().count() as f64;
            if number("minLength").is_some_and(|m| chars < m)
                || number("maxLength").is_some_and(|m| chars > m)
            {
                return false;
            }
            if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
                let regex = regex::Regex::new(pattern)
                    .unwrap_or_else(|e| panic!("pattern {pattern:?} does not compile: {e}"));
                if !regex.is_match(text) {
                    return false;
                }
            }
        }
        Value::Number(n) => {
            let n = n.as_f64().unwrap();
            if number("minimum").is_some_and(|m| n < m) || number("maximum").is_some_and(|m| n > m)
            {
                return false;
            }
        }
        Value::Object(object) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            for name in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !object.contains_key(name) {
                    return false;
                }
            }
            for (key, item) in object {
                match (
                    properties.and_then(|p| p.get(key)),
                    schema.get("additionalProperties"),
                ) {
                    (Some(inner), _) => {
                        if !allows(document, inner, item) {
                            return false;
                        }
                    }
                    (None, Some(Value::Bool(false))) => return false,
                    (None, Some(inner @ Value::Object(_))) => {
                        if !allows(document, inner, item) {
                            return false;
                        }
                    }
                    (None, _) => {}
                }
            }
        }
        Value::Array(items) => {
            let count = items.len() as f64;
            if number("minItems").is_some_and(|m| count < m)
                || number("maxItems").is_some_and(|m| count > m)
            {
                return false;
            }
            if let Some(inner) = schema.get("items")
                && !items.iter().all(|item| allows(document, inner, item))
            {
                return false;
            }
        }
        _ => {}
    }
    true
}

/// The rules the document states in words, where a schema cannot: a date is a day that exists,
/// a date of birth is not after the sandbox's reference date, and a life event's date is not
/// before the citizen's latest change.
fn documented(value: &Value, key: &str) -> bool {
    match value {
        Value::Object(object) => {
            if let (Some(y), Some(m), Some(d)) = (
                object.get("year").and_then(Value::as_i64),
                object.get("month").and_then(Value::as_i64),
                object.get("day").and_then(Value::as_i64),
            ) {
                let Ok(month) = time::Month::try_from(m as u8) else {
                    return false;
                };
                let Ok(day) = time::Date::from_calendar_date(y as i32, month, d as u8) else {
                    return false;
                };
                let reference = time::Date::parse(
                    sandbox06_testkit::REFERENCE_DATE,
                    &time::format_description::well_known::Iso8601::DATE,
                )
                .unwrap();
                if key == "dateOfBirth" && day > reference {
                    return false;
                }
                // A life event's date lies between the citizen's latest recorded change and
                // the reference date: only the reference date is taken whatever was recorded.
                if key == "effectiveDate" && day != reference {
                    return false;
                }
            }
            object.iter().all(|(k, v)| documented(v, k))
        }
        Value::Array(items) => items.iter().all(|v| documented(v, key)),
        _ => true,
    }
}

/// The alternatives of a read mask's pattern (`^((a|b\.c|…)(,(…))*)?$`), as paths.
fn mask_paths(pattern: &str) -> Vec<String> {
    pattern
        .strip_prefix("^((")
        .and_then(|rest| rest.split_once(")(,(").map(|(one, _)| one))
        .map(|one| one.split('|').map(|p| p.replace("\\.", ".")).collect())
        .unwrap_or_default()
}

/// Values for `schema`, near `example` when given: each enum value, each bound, lengths at their
/// limits, the schema's own examples and default, absent and present optional properties (one
/// at a time), null where it is allowed. Only values the document allows are kept.
fn candidates(
    document: &Value,
    schema: &Value,
    example: Option<&Value>,
    depth: usize,
) -> Vec<Value> {
    let schema = deref(document, schema);
    let mut out: Vec<Value> = Vec::new();
    out.extend(example.cloned());
    out.extend(schema.get("default").cloned());
    out.extend(
        schema
            .get("examples")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .cloned(),
    );
    out.extend(
        schema
            .get("enum")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .cloned(),
    );
    if schema.get("properties").is_none()
        && let Some(options) = schema.get("anyOf").and_then(Value::as_array)
    {
        for option in options {
            out.extend(candidates(document, option, example, depth));
        }
    }
    let kinds: Vec<&str> = match schema.get("type") {
        Some(Value::String(kind)) => vec![kind.as_str()],
        Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).collect(),
        _ if schema.get("properties").is_some() => vec!["object"],
        _ => Vec::new(),
    };
    for kind in kinds {
        match kind {
            "null" => out.push(Value::Null),
            "boolean" => out.extend([Value::Bool(true), Value::Bool(false)]),
            "integer" | "number" => {
                for key in ["minimum", "maximum"] {
                    out.extend(schema.get(key).cloned());
                }
                out.extend([serde_json::json!(0), serde_json::json!(1)]);
            }
            "string" => {
                out.extend(["", "x"].map(|t| Value::String(t.to_owned())));
                for key in ["minLength", "maxLength"] {
                    if let Some(n) = schema.get(key).and_then(Value::as_u64) {
                        out.push(Value::String("a".repeat(n as usize)));
                    }
                }
                let paths = mask_paths(schema.get("pattern").and_then(Value::as_str).unwrap_or(""));
                if let (Some(first), Some(last)) = (paths.first(), paths.last()) {
                    out.push(Value::String(first.clone()));
                    out.push(Value::String(format!("{last},{first}")));
                    out.push(Value::String(paths[paths.len() / 2].clone()));
                }
            }
            "array" => {
                out.push(Value::Array(Vec::new()));
                if let Some(items) = schema.get("items")
                    && let Some(first) = candidates(document, items, None, depth + 1)
                        .into_iter()
                        .next()
                {
                    out.push(Value::Array(vec![first]));
                }
            }
            "object" if depth < 3 => {
                let properties = schema.get("properties").and_then(Value::as_object);
                let required: Vec<&str> = schema
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let mut base = example
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                for (name, inner) in properties.into_iter().flatten() {
                    if required.contains(&name.as_str()) && !base.contains_key(name) {
                        let first = candidates(document, inner, None, depth + 1)
                            .into_iter()
                            .find(|v| !v.is_null());
                        base.extend(first.map(|v| (name.clone(), v)));
                    }
                }
                out.push(Value::Object(base.clone()));
                for (name, inner) in properties.into_iter().flatten() {
                    let mut without = base.clone();
                    without.remove(name);
                    out.push(Value::Object(without));
                    for value in candidates(document, inner, base.get(name), depth + 1) {
                        let mut with = base.clone();
                        with.insert(name.clone(), value);
                        out.push(Value::Object(with));
                    }
                }
            }
            _ => {}
        }
    }
    let mut kept: Vec<Value> = Vec::new();
    for value in out {
        if allows(document, schema, &value) && documented(&value, "") && !kept.contains(&value) {
            kept.push(value);
        }
    }
    kept
}

/// The first example value of a parameter or body, as the document gives it.
fn first_example(target: &Value) -> Option<Value> {
    target["examples"]
        .as_object()
        .and_then(|all| all.values().next())
        .map(|example| example["value"].clone())
}

/// Why the server refused a request for what it is rather than for what it names: a 400, or a
/// streamed record's INVALID_ARGUMENT.
fn refusal(status: u16, text: &str) -> Option<String> {
    if status == 400 {
        return Some(text.to_owned());
    }
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line["error"]["code"] == 3)
        .map(|line| line.to_string())
}

#[tokio::test]
async fn every_request_the_document_allows_is_taken() {
    let h = start().await;
    let document = document_of(&h, None).await;
    let mut sent = 0;
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (verb, operation) in operations.as_object().unwrap() {
            let parameters: Vec<&Value> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .collect();
            // The request all variants start from: each parameter's and the body's example.
            let base_params: Vec<Option<Value>> =
                parameters.iter().map(|p| first_example(p)).collect();
            let content = operation["requestBody"]["content"].as_object();
            let (media, body_schema, body_example) = match content.and_then(|c| c.iter().next()) {
                Some((media, content)) => {
                    let line = content.get("x-line-schema");
                    let example = first_example(content).map(|e| match (line, e) {
                        // NDJSON: the first line of the example.
                        (Some(_), Value::String(text)) => {
                            serde_json::from_str(text.lines().next().unwrap_or("{}")).unwrap()
                        }
                        (_, e) => e,
                    });
                    (
                        Some(media.clone()),
                        Some(line.unwrap_or(&content["schema"]).clone()),
                        example,
                    )
                }
                None => (None, None, None),
            };
            // The document's own examples are requests it allows.
            for (parameter, example) in parameters.iter().zip(&base_params) {
                if let Some(example) = example {
                    assert!(
                        allows(&document, &parameter["schema"], example),
                        "{verb} {path}: the example {example} of {} is not allowed by its schema",
                        parameter["name"]
                    );
                }
            }
            if let (Some(schema), Some(example)) = (&body_schema, &body_example) {
                assert!(
                    allows(&document, schema, example),
                    "{verb} {path}: the example body {example} is not allowed by its schema"
                );
            }
            let mut variants: Vec<(Vec<Option<Value>>, Option<Value>)> =
                vec![(base_params.clone(), body_example.clone())];
            for (i, parameter) in parameters.iter().enumerate() {
                let mut values: Vec<Option<Value>> =
                    candidates(&document, &parameter["schema"], base_params[i].as_ref(), 0)
                        .into_iter()
                        .filter(|v| !v.is_null())
                        .map(Some)
                        .collect();
                if parameter["required"] != true {
                    values.push(None);
                }
                for value in values {
                    let mut params = base_params.clone();
                    params[i] = value;
                    variants.push((params, body_example.clone()));
                }
            }
            if let Some(schema) = &body_schema {
                for body in candidates(&document, schema, body_example.as_ref(), 0) {
                    variants.push((base_params.clone(), Some(body)));
                }
            }
            for (params, body) in variants {
                let mut url = path.clone();
                let mut query = form_urlencoded::Serializer::new(String::new());
                for (parameter, value) in parameters.iter().zip(&params) {
                    let Some(value) = value else { continue };
                    let text = match value {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    let name = parameter["name"].as_str().unwrap();
                    if parameter["in"] == "path" {
                        let encoded: String =
                            form_urlencoded::byte_serialize(text.as_bytes()).collect();
                        url = url.replace(&format!("{{{name}}}"), &encoded);
                    } else if let Value::Array(items) = value {
                        // Repeated, one value each (`explode`).
                        for item in items {
                            query.append_pair(name, item.as_str().unwrap_or(&item.to_string()));
                        }
                    } else {
                        query.append_pair(name, &text);
                    }
                }
                let query = query.finish();
                if !query.is_empty() {
                    url = format!("{url}?{query}");
                }
                let mut request = http()
                    .request(
                        verb.to_uppercase().parse().unwrap(),
                        format!("http://{}{url}", h.suite.edge),
                    )
                    .bearer_auth(&h.token);
                if let (Some(media), Some(body)) = (&media, &body) {
                    request = request
                        .header("content-type", media)
                        .body(body.to_string() + "\n");
                }
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                let text = body_of(response).await;
                if let Some(reason) = refusal(status, &text) {
                    panic!(
                        "{verb} {url} with {} is allowed by the document but refused: {reason}",
                        body.map(|b| b.to_string()).unwrap_or_default()
                    );
                }
                assert!(status < 500, "{verb} {url}: {status} {text}");
                sent += 1;
            }
        }
    }
    assert!(sent > 50, "only {sent} requests");
    // The document follows the suite's reference date (the tests': 2026-11-27), as the services
    // do: a date of birth on it is allowed, the day after is not, nor a day that does not exist.
    let verify = &document["paths"]["/v1/citizens/{citizen_id}:verify"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"];
    for (date, allowed) in [
        ((2026, 11, 27), true),
        ((2026, 11, 28), false),
        ((2024, 2, 29), true),
        ((2023, 2, 29), false),
        ((1991, 4, 31), false),
    ] {
        let body =
            serde_json::json!({"dateOfBirth": {"year": date.0, "month": date.1, "day": date.2}});
        assert_eq!(allows(&document, verify, &body), allowed, "{body}");
        let (status, text) = {
            let response = http()
                .post(format!(
                    "http://{}/v1/citizens/{}:verify",
                    h.suite.edge,
                    sandbox06_testkit::personas::HAPPY_PATH
                ))
                .bearer_auth(&h.token)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        };
        assert_eq!(status == 200, allowed, "{body}: {status} {text}");
    }
}

/// A path as openapi-to-postman (Postman's importer) turns it into a request URL: `{x}` alone in
/// a segment becomes the path variable `:x`; anywhere else (`{citizen_id}:verify`) it becomes the
/// collection variable `{{x}}`.
fn postman_path(path: &str) -> (String, Vec<String>, Vec<String>) {
    let mut path_variables = Vec::new();
    let mut collection_variables = Vec::new();
    let segments: Vec<String> = path
        .split('/')
        .map(|segment| {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
                && !name.contains(['{', '}'])
            {
                path_variables.push(name.to_owned());
                format!(":{name}")
            } else {
                let mut out = segment.to_owned();
                while let Some(start) = out.find('{').filter(|i| !out[*i..].starts_with("{{")) {
                    let end = start + out[start..].find('}').unwrap();
                    let name = out[start + 1..end].to_owned();
                    collection_variables.push(name.clone());
                    out = format!("{}{{{{{name}}}}}{}", &out[..start], &out[end + 1..]);
                }
                out
            }
        })
        .collect();
    (segments.join("/"), path_variables, collection_variables)
}

#[test]
fn postman_paths_are_read_as_its_importer_reads_them() {
    assert_eq!(
        postman_path("/v1/citizens/{citizen_id}:verify"),
        (
            "/v1/citizens/{{citizen_id}}:verify".to_owned(),
            vec![],
            vec!["citizen_id".to_owned()]
        )
    );
    assert_eq!(
        postman_path("/v1/citizens/{citizen_id}"),
        (
            "/v1/citizens/:citizen_id".to_owned(),
            vec!["citizen_id".to_owned()],
            vec![]
        )
    );
}

#[tokio::test]
async fn postman_imports_every_request_ready_to_send_with_a_token_it_gets_itself() {
    let h = start().await;
    let document = document_of(&h, None).await;
    let base = document["servers"][0]["url"].as_str().unwrap().to_owned();
    // The collection's auth: the first scheme of the document's security that Postman takes
    // (http bearer needs a `{{bearerToken}}` nobody defines; openIdConnect is not taken).
    let first = document["security"][0].as_object().unwrap();
    let (name, _) = first.iter().next().unwrap();
    let scheme = &document["components"]["securitySchemes"][name];
    assert_eq!(
        scheme["type"], "oauth2",
        "Postman's collection auth: {scheme}"
    );
    let flow = &scheme["flows"]["clientCredentials"];
    let token_url = flow["tokenUrl"].as_str().unwrap();
    assert!(token_url.starts_with(&format!("{base}/")), "{token_url}");
    // "Get New Access Token": client credentials, every scope of the flow, the client in a
    // Basic header (Postman's default), as the README's import steps say.
    let scope: Vec<&str> = flow["scopes"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let answer: Value = http()
        .post(token_url)
        .basic_auth("sandbox06-admin", Some("sandbox06-admin-secret"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", &scope.join(" ")),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    let token = answer["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token for the flow's scopes: {answer}"))
        .to_owned();
    let mut requests = 0;
    for (path, operations) in document["paths"].as_object().unwrap() {
        let (postman, path_variables, collection_variables) = postman_path(path);
        for (verb, operation) in operations.as_object().unwrap() {
            assert!(
                operation
                    .get("security")
                    .is_none_or(|s| s == &serde_json::json!([])),
                "{verb} {path}: an operation of its own security gets its own auth in Postman"
            );
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            // Every variable has a value: the parameter's default, or its first example.
            let mut url = format!("{base}{postman}");
            for name in path_variables.iter().chain(&collection_variables) {
                let parameter = parameters.iter().find(|p| p["name"] == **name).unwrap();
                let value = parameter["schema"]
                    .get("default")
                    .cloned()
                    .unwrap_or_else(|| panic!("{verb} {path}: {name} has no default"));
                let text = value.as_str().unwrap();
                url = url
                    .replace(&format!(":{name}"), text)
                    .replace(&format!("{{{{{name}}}}}"), text);
            }
            assert!(!url.contains('{') && !url.contains("/:"), "{url}");
            let content = operation["requestBody"]["content"].as_object();
            let mut request = http()
                .request(verb.to_uppercase().parse().unwrap(), &url)
                .bearer_auth(&token);
            // The body as the importer builds it from the schema (its default, here the first
            // example) rather than a value it fakes.
            if let Some((media, content)) = content.and_then(|c| c.iter().next()) {
                let body = match content["schema"].get("default") {
                    Some(Value::String(text)) => text.clone(),
                    Some(other) => other.to_string(),
                    None => panic!("{verb} {path}: the body schema has no default"),
                };
                assert_eq!(
                    content["schema"].get("anyOf"),
                    None,
                    "{verb} {path}: the importer reads the first of a top-level anyOf as the body"
                );
                request = request.header("content-type", media).body(body);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = body_of(response).await;
            // A declaration's own operations name one by id; the collection's create, sent
            // without its optional query parameters, made one under a new id. The request
            // was taken as sent: the declaration is not there.
            let declaration_not_made = status == 404
                && path.contains("/declarations/{declaration_id}")
                && text.contains("\"DECLARATION_NOT_FOUND\"");
            assert!(
                status == 200 || declaration_not_made,
                "{verb} {url}: {status} {text}"
            );
            requests += 1;
        }
    }
    assert_eq!(requests, routed_methods());
}

/// The clients the API page prefills, per flow, as its script declares them.
async fn prefilled_clients(h: &Harness) -> Value {
    let script = http()
        .get(format!("http://{}/docs/sandbox06.js", h.suite.edge))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = script
        .lines()
        .find_map(|l| l.strip_prefix("const PREFILL = "))
        .unwrap_or_else(|| panic!("no PREFILL in {script}"));
    serde_json::from_str(line.trim_end_matches(';')).unwrap()
}

#[tokio::test]
async fn the_api_page_prefills_a_client_that_works_for_each_flow() {
    let h = start().await;
    let base = format!("http://{}", h.suite.edge);
    let prefill = prefilled_clients(&h).await;
    // Client credentials: a token, with the prefilled secret.
    let credentials = &prefill["clientCredentials"];
    let answer: Value = http()
        .post(format!("{base}/oidc/token"))
        .basic_auth(
            credentials["clientId"].as_str().unwrap(),
            credentials["clientSecret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    assert!(answer["access_token"].is_string(), "{answer}");
    // Authorization code: the provider takes the page's own redirect URL for the prefilled
    // client, and shows its login page rather than an error.
    let code = &prefill["authorizationCode"];
    let client = code["clientId"].as_str().unwrap();
    assert_eq!(code["clientSecret"], "", "a public client has no secret");
    let redirect = format!("{base}/docs/oauth2-redirect.html");
    let challenge = sandbox06_jose::s256(b"a-verifier-of-the-api-page-0123456789-abcdef");
    let authorize = format!(
        "{base}/oidc/authorize?response_type=code&client_id={client}&redirect_uri={}&scope=openid%20citizen.read&state=s&code_challenge={challenge}&code_challenge_method=S256",
        form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>()
    );
    let no_redirects = openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = no_redirects.get(&authorize).send().await.unwrap();
    let status = response.status().as_u16();
    let page = response.text().await.unwrap();
    assert_eq!(status, 200, "{authorize}: {page}");
    assert!(
        !page.contains("redirect_uri"),
        "an error about the redirect URI: {page}"
    );
    // And the same flow with the client's headless login ends on the page's redirect URL.
    let headless = format!("{authorize}&login_hint=001091012345&sandbox06_auto_approve=true");
    let response = no_redirects.get(&headless).send().await.unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{redirect}?code=")),
        "{location}"
    );
}

/// The collection Postman's own importer (the openapi-to-postmanv2 package, run by Node) makes
/// of `document`, with its `parametersResolution` (`Schema`, Postman's default, or `Example`).
fn postman_collection(modules: &str, document: &Value, resolution: &str) -> Value {
    let dir = std::env::temp_dir().join(format!("sandbox06-postman-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("openapi.json");
    std::fs::write(&spec, document.to_string()).unwrap();
    let script = format!(
        "const c = require({modules:?} + '/node_modules/openapi-to-postmanv2');\n\
         c.convertV2({{type: 'file', data: {spec:?}}}, {{folderStrategy: 'Tags', parametersResolution: {resolution:?}}}, (e, r) => {{\n\
           if (e || !r.result) {{ console.error(e || r.reason); process.exit(1); }}\n\
           console.log(JSON.stringify(r.output[0].data));\n\
         }});"
    );
    let out = std::process::Command::new("node")
        .arg("-e")
        .arg(script)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
#[cfg_attr(
    not(openapi_to_postman_set),
    ignore = "needs Node and Postman's importer: npm install openapi-to-postmanv2 in a directory, then SANDBOX06_TEST_OPENAPI_TO_POSTMAN=<that directory> (bash .ci/run does)"
)]
async fn postmans_own_importer_makes_a_collection_whose_every_request_answers() {
    let modules = std::env::var("SANDBOX06_TEST_OPENAPI_TO_POSTMAN").unwrap();
    let h = start().await;
    let document = document_of(&h, None).await;
    for resolution in ["Schema", "Example"] {
        let collection = postman_collection(&modules, &document, resolution);
        let variables: Vec<(String, String)> = collection["variable"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["key"].as_str().unwrap().to_owned(),
                    v["value"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        // The collection's auth: OAuth 2.0 client credentials, as "Get New Access Token" runs it.
        let auth: Vec<(String, String)> = collection["auth"]["oauth2"]
            .as_array()
            .unwrap_or_else(|| panic!("no OAuth 2.0 auth: {}", collection["auth"]))
            .iter()
            .map(|a| {
                (
                    a["key"].as_str().unwrap().to_owned(),
                    a["value"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let setting = |key: &str| {
            auth.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no {key} in {auth:?}"))
        };
        assert_eq!(setting("grant_type"), "client_credentials");
        let answer: Value = http()
            .post(setting("accessTokenUrl"))
            .basic_auth("sandbox06-admin", Some("sandbox06-admin-secret"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", &setting("scope")),
            ])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap();
        let token = answer["access_token"].as_str().unwrap().to_owned();
        let mut sent = 0;
        for folder in collection["item"].as_array().unwrap() {
            for item in folder["item"].as_array().unwrap() {
                let request = &item["request"];
                assert!(request["auth"].is_null(), "{resolution}: {request}");
                let url = &request["url"];
                let mut path = url["path"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join("/");
                for variable in url["variable"].as_array().into_iter().flatten() {
                    path = path.replace(
                        &format!(":{}", variable["key"].as_str().unwrap()),
                        variable["value"].as_str().unwrap(),
                    );
                }
                let base = variables
                    .iter()
                    .find(|(k, _)| k == "baseUrl")
                    .map(|(_, v)| v.clone())
                    .unwrap();
                for (key, value) in &variables {
                    path = path.replace(&format!("{{{{{key}}}}}"), value);
                }
                let mut query = form_urlencoded::Serializer::new(String::new());
                for pair in url["query"].as_array().into_iter().flatten() {
                    if pair["disabled"] != true {
                        query.append_pair(
                            pair["key"].as_str().unwrap(),
                            pair["value"].as_str().unwrap_or_default(),
                        );
                    }
                }
                let query = query.finish();
                let target = if query.is_empty() {
                    format!("{base}/{path}")
                } else {
                    format!("{base}/{path}?{query}")
                };
                let method = request["method"].as_str().unwrap();
                let mut call = http()
                    .request(method.parse().unwrap(), &target)
                    .bearer_auth(&token);
                for header in request["header"].as_array().into_iter().flatten() {
                    call = call.header(
                        header["key"].as_str().unwrap(),
                        header["value"].as_str().unwrap(),
                    );
                }
                if let Some(body) = request["body"]["raw"].as_str() {
                    call = call.body(body.to_owned());
                }
                let response = call.send().await.unwrap();
                let status = response.status().as_u16();
                let text = body_of(response).await;
                // As in the collection the document makes (above): a declaration's own
                // operations name one the collection's create may not have made.
                let declaration_not_made = status == 404
                    && path.contains("/declarations/")
                    && text.contains("\"DECLARATION_NOT_FOUND\"");
                assert!(
                    status == 200 || declaration_not_made,
                    "{resolution}: {method} {target}: {status} {text}"
                );
                sent += 1;
            }
        }
        assert_eq!(sent, routed_methods(), "{resolution}");
    }
}
