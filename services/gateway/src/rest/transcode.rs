//! JSON to protobuf and back for one REST call: the request message from the path variables,
//! the query and the JSON body as the route's rule says (checked against the proto3 JSON
//! mapping first, so errors name the field), and a unary answer as canonical proto3 JSON.

use axum::body::Body;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use prost::Message as _;
use prost_reflect::{
    DeserializeOptions, DynamicMessage, Kind, MessageDescriptor, SerializeOptions,
};
use sandbox06_runtime::error::client_status;
use sandbox06_runtime::http::status_response;
use sandbox06_runtime::{ApiError, Reason};
use serde_json::{Map, Value};

use super::routes::RestRoute;
use super::streaming::{stream_response, transcode_stream};
use super::{Forward, call};
use crate::json_map::{bad_request, check_json, field_of};

/// Sets `value` (text from a path or query) at the dotted field path `path` in `json`, typed
/// by the field it names.
fn set_text(
    json: &mut Map<String, Value>,
    message: &MessageDescriptor,
    path: &str,
    value: &str,
) -> Result<(), ApiError> {
    let (head, rest) = match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    let field =
        field_of(message, head).ok_or_else(|| bad_request(path, format!("no field {head}")))?;
    let key = field.json_name().to_owned();
    match (rest, field.kind()) {
        (Some(rest), Kind::Message(inner)) => {
            let entry = json.entry(key).or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(object) = entry else {
                return Err(bad_request(path, "given twice, as a value and as fields"));
            };
            set_text(object, &inner, rest, value)
        }
        (Some(_), _) => Err(bad_request(path, format!("{head} has no fields"))),
        (None, kind) => {
            let typed = match kind {
                Kind::Bool => match value {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => return Err(bad_request(path, "must be true or false")),
                },
                // An enum by its number, as the JSON body may give it (`protocol=3`).
                Kind::Enum(_) => match value.parse::<i32>() {
                    Ok(number) => Value::from(number),
                    Err(_) => Value::String(value.to_owned()),
                },
                // Numbers, enums, strings, bytes and well-known types (a field mask, a
                // timestamp) take their proto3 JSON text form.
                _ => Value::String(value.to_owned()),
            };
            if field.is_list() {
                match json.entry(key).or_insert_with(|| Value::Array(Vec::new())) {
                    Value::Array(items) => items.push(typed),
                    _ => return Err(bad_request(path, "given twice")),
                }
            } else if json.insert(key, typed).is_some() {
                return Err(bad_request(path, "given more than once"));
            }
            Ok(())
        }
    }
}

/// The request message of `route` from the HTTP request.
async fn request_message(
    route: &RestRoute,
    vars: Vec<(String, String)>,
    query: Option<&str>,
    body: Bytes,
) -> Result<DynamicMessage, ApiError> {
    let mut json = Map::new();
    if let Some(body_field) = &route.body {
        let value: Value = if body.is_empty() {
            Value::Object(Map::new())
        } else {
            serde_json::from_slice(&body)
                .map_err(|e| bad_request("body", format!("not JSON: {e}")))?
        };
        // The whole request is checked once, below, with the path and the query.
        if body_field == "*" {
            match value {
                Value::Object(object) => json = object,
                _ => return Err(bad_request("body", "must be a JSON object")),
            }
        } else {
            let field = field_of(&route.input, body_field)
                .ok_or_else(|| bad_request(body_field, "no such field"))?;
            json.insert(field.json_name().to_owned(), value);
        }
    } else if !body.is_empty() {
        return Err(bad_request("body", "this route takes no body"));
    }
    for (path, value) in vars {
        // A path variable wins over the body's field of the same name.
        if let Some(field) = field_of(&route.input, &path) {
            json.remove(field.json_name());
            json.remove(field.name());
        }
        set_text(&mut json, &route.input, &path, &value)?;
    }
    if route.body.as_deref() != Some("*") {
        for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            set_text(&mut json, &route.input, &name, &value)?;
        }
    }
    // Path variables and query parameters are checked as the body was.
    let json = Value::Object(json);
    check_json(&route.input, &json, "")?;
    DynamicMessage::deserialize_with_options(route.input.clone(), json, &DeserializeOptions::new())
        .map_err(|e| bad_request("body", e.to_string()))
}

pub(super) async fn transcode(
    route: &RestRoute,
    vars: Vec<(String, String)>,
    request: Request<Body>,
    forward: Forward,
    max_bytes: usize,
) -> Result<Response<Body>, ApiError> {
    if route.descriptor.is_client_streaming() {
        return transcode_stream(route, request, forward, max_bytes).await;
    }
    let (parts, body) = request.into_parts();
    let body = http_body_util::Limited::new(body, max_bytes)
        .collect()
        .await
        .map_err(|_| {
            ApiError::new(
                Reason::RequestTooLarge,
                format!("request body is above the limit of {max_bytes} bytes"),
            )
            .with_metadata("limit_bytes", max_bytes.to_string())
        })?
        .to_bytes();
    let message = request_message(route, vars, parts.uri.query(), body).await?;
    if route.descriptor.is_server_streaming() {
        // One request, a stream of answers.
        let answers =
            match call(route, &parts.headers, Body::from(frame(&message)), forward).await? {
                Ok(body) => body,
                Err(refused) => return Ok(refused),
            };
        return Ok(stream_response(
            route,
            &parts.headers,
            answers,
            Default::default(),
        ));
    }
    let body = match call(route, &parts.headers, Body::from(frame(&message)), forward).await? {
        Ok(body) => body,
        Err(refused) => return Ok(refused),
    };
    let collected = match body.collect().await {
        Ok(collected) => collected,
        // The transport's words stay in the log.
        Err(status) => return Ok(status_response(&client_status(status))),
    };
    let trailers = collected.trailers().cloned().unwrap_or_default();
    if let Some(status) = tonic::Status::from_header_map(&trailers)
        && status.code() != tonic::Code::Ok
    {
        return Ok(status_response(&client_status(status)));
    }
    let mut data = collected.to_bytes();
    if data.len() < 5 {
        return Err(ApiError::new(
            Reason::UpstreamFailed,
            "the backend answered without a message",
        ));
    }
    data.advance(5);
    let answer = DynamicMessage::decode(route.output.clone(), data)
        .map_err(|e| undecodable_answer(&route.output, &e))?;
    let json = answer
        .serialize_with_options(serde_json::value::Serializer, &SerializeOptions::new())
        .map_err(|e| unwritable_answer(&route.output, &e))?;
    let mut response = Response::new(Body::from(json.to_string()));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(id) = parts.headers.get("x-request-id") {
        response.headers_mut().insert("x-request-id", id.clone());
    }
    *response.status_mut() = StatusCode::OK;
    Ok(response)
}

/// An answer does not decode as `output` as its type: the backend's fault, in the suite's words
/// (the library's in the log).
pub(super) fn undecodable_answer(
    output: &MessageDescriptor,
    error: &dyn std::fmt::Display,
) -> ApiError {
    tracing::warn!(%error, "a backend's answer does not decode");
    ApiError::new(
        Reason::UpstreamFailed,
        format!(
            "the backend's answer does not decode as {}",
            output.full_name()
        ),
    )
}

/// An answer of type `output` cannot be written as JSON: a bug, in the suite's words.
pub(super) fn unwritable_answer(
    output: &MessageDescriptor,
    error: &dyn std::fmt::Display,
) -> ApiError {
    tracing::warn!(%error, "an answer cannot be written as JSON");
    ApiError::new(
        Reason::Internal,
        format!(
            "the answer cannot be written as JSON ({})",
            output.full_name()
        ),
    )
}

/// `message` as one gRPC frame.
pub(super) fn frame(message: &DynamicMessage) -> Bytes {
    let encoded = message.encode_to_vec();
    let mut framed = BytesMut::with_capacity(encoded.len() + 5);
    framed.put_u8(0);
    framed.put_u32(u32::try_from(encoded.len()).unwrap_or(u32::MAX));
    framed.put_slice(&encoded);
    framed.freeze()
}
