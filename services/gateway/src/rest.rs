//! REST/JSON at the edge, from the contract: every unary RPC of a routed service is reachable
//! at the route its `google.api.http` rule declares. A request is turned into the RPC's
//! protobuf message (path variables, query parameters, the JSON body as the rule says), sent
//! through the gRPC side of the edge (so the token, the policy, the size limit and the trace are
//! those of a gRPC call), and the answer is rendered in the canonical proto3 JSON mapping.
//! Errors are the `google.rpc.Status` as JSON, with the standard HTTP status of its code.

use std::collections::HashSet;
use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures::future::BoxFuture;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use prost::Message as _;
use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor,
    MethodDescriptor, SerializeOptions,
};
use sandbox06_runtime::error::{client_status, quote};
use sandbox06_runtime::http::status_response;
use sandbox06_runtime::{ApiError, Reason};
use serde_json::{Map, Value};
use tower::{Service, ServiceExt};

use crate::proxy::Proxy;

/// Full name of the HTTP rule option.
const HTTP_OPTION: &str = "google.api.http";

/// The headers of a REST request that go on with the call.
/// `grpc-timeout` lets a REST client give its call a deadline, as a gRPC client does.
const PASSED_ON: [&str; 5] = [
    "authorization",
    "traceparent",
    "tracestate",
    "x-request-id",
    "grpc-timeout",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    Literal(String),
    /// `{field}` or `{field=*}`: one segment.
    Variable(String),
    /// `{field=**}`: the rest of the path.
    Rest(String),
}

/// One REST route of one RPC.
#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub(crate) method: Method,
    /// The path template as written in the rule, e.g. `/v1/citizens/{citizen_id}:verify`: the
    /// `http.route` of its spans (never the path, which may carry personal data).
    pub(crate) template: String,
    pub(crate) segments: Vec<Segment>,
    pub(crate) verb: Option<String>,
    /// `*` for the whole message, a field name for one field, `None` for no body.
    pub(crate) body: Option<String>,
    /// `/package.Service/Method`.
    pub(crate) grpc_path: String,
    pub(crate) input: MessageDescriptor,
    pub(crate) output: MessageDescriptor,
    pub(crate) descriptor: MethodDescriptor,
}

/// What a path is to the table.
enum Found<'a> {
    Route(&'a Route, Vec<(String, String)>),
    WrongMethod(Vec<Method>),
    Nothing,
}

/// Every REST route of the routed services.
#[derive(Clone, Debug, Default)]
pub(crate) struct RestTable {
    routes: Vec<Route>,
}

fn parse_template(template: &str) -> Option<(Vec<Segment>, Option<String>)> {
    let path = template.strip_prefix('/')?;
    // The verb follows the last ':' that is not inside a variable.
    let mut depth = 0;
    let mut verb_at = None;
    for (i, c) in path.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ':' if depth == 0 => verb_at = Some(i),
            _ => {}
        }
    }
    let (path, verb) = match verb_at {
        Some(i) => (&path[..i], Some(path[i + 1..].to_owned())),
        None => (path, None),
    };
    let mut segments = Vec::new();
    for part in path.split('/') {
        if let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            match inner.split_once('=') {
                None | Some((_, "*")) => {
                    segments.push(Segment::Variable(inner.split('=').next()?.to_owned()));
                }
                Some((field, "**")) => segments.push(Segment::Rest(field.to_owned())),
                // Multi-segment patterns are not in the contract.
                Some(_) => return None,
            }
        } else if part.contains(['{', '}']) {
            return None;
        } else {
            segments.push(Segment::Literal(part.to_owned()));
        }
    }
    Some((segments, verb))
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl Route {
    /// The path variables when `path` is this route's.
    fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        let mut path = path.strip_prefix('/')?;
        match &self.verb {
            Some(verb) => path = path.strip_suffix(verb.as_str())?.strip_suffix(':')?,
            // A custom verb (`:verify`) at the end is another route's.
            None if path
                .rsplit('/')
                .next()
                .is_some_and(|last| last.contains(':')) =>
            {
                return None;
            }
            None => {}
        }
        let parts: Vec<&str> = path.split('/').collect();
        let mut vars = Vec::new();
        let mut i = 0;
        for segment in &self.segments {
            match segment {
                Segment::Literal(literal) => {
                    if parts.get(i) != Some(&literal.as_str()) {
                        return None;
                    }
                    i += 1;
                }
                Segment::Variable(field) => {
                    let value = parts.get(i).filter(|v| !v.is_empty())?;
                    vars.push((field.clone(), percent_decode(value)?));
                    i += 1;
                }
                Segment::Rest(field) => {
                    let rest = parts.get(i..)?.join("/");
                    vars.push((field.clone(), percent_decode(&rest)?));
                    i = parts.len();
                }
            }
        }
        (i == parts.len()).then_some(vars)
    }
}

impl RestTable {
    /// The routes of every method of `services` in `pool` with an HTTP rule.
    pub(crate) fn from_pool(pool: &DescriptorPool, services: &HashSet<String>) -> Self {
        let Some(extension) = pool.get_extension_by_name(HTTP_OPTION) else {
            return Self::default();
        };
        let mut routes = Vec::new();
        for service in pool.services() {
            if !services.contains(service.full_name()) {
                continue;
            }
            for method in service.methods() {
                let options = method.options();
                if !options.has_extension(&extension) {
                    continue;
                }
                let value = options.get_extension(&extension);
                let Some(rule) = value.as_message() else {
                    continue;
                };
                let text = |name: &str| {
                    rule.get_field_by_name(name)
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .filter(|v| !v.is_empty())
                };
                let verbs = [
                    ("get", Method::GET),
                    ("post", Method::POST),
                    ("put", Method::PUT),
                    ("delete", Method::DELETE),
                    ("patch", Method::PATCH),
                ];
                let Some((http_method, template)) = verbs
                    .iter()
                    .find_map(|(name, m)| text(name).map(|t| (m.clone(), t)))
                else {
                    continue;
                };
                let Some((segments, verb)) = parse_template(&template) else {
                    tracing::warn!(template, "HTTP rule not understood; no REST route");
                    continue;
                };
                routes.push(Route {
                    method: http_method,
                    template: template.clone(),
                    segments,
                    verb,
                    body: text("body"),
                    grpc_path: format!("/{}/{}", service.full_name(), method.name()),
                    input: method.input(),
                    output: method.output(),
                    descriptor: method.clone(),
                });
            }
        }
        Self { routes }
    }

    /// Number of routes.
    pub(crate) fn len(&self) -> usize {
        self.routes.len()
    }

    /// The routes, in the contract's order.
    pub(crate) fn routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }

    fn find(&self, method: &Method, path: &str) -> Found<'_> {
        let mut allowed = Vec::new();
        for route in &self.routes {
            if let Some(vars) = route.matches(path) {
                if route.method == *method {
                    return Found::Route(route, vars);
                }
                allowed.push(route.method.clone());
            }
        }
        if allowed.is_empty() {
            Found::Nothing
        } else {
            Found::WrongMethod(allowed)
        }
    }
}

/// The edge's HTTP side with REST in front: a REST route is transcoded, anything else goes on
/// to `next` (the backends' prefixes, then the JSON 404).
#[derive(Clone)]
pub(crate) struct Rest<S> {
    table: std::sync::Arc<RestTable>,
    proxy: Caller,
    next: S,
    max_bytes: usize,
}

/// The edge's gRPC side as a REST call reaches it: the proxy, under the same deadline as a
/// gRPC call (the caller's `grpc-timeout`, at most `limits.request_timeout_seconds`).
#[derive(Clone)]
pub(crate) struct Caller {
    proxy: Proxy,
    timeout: std::time::Duration,
}

impl<S> Rest<S> {
    pub(crate) fn new(
        table: RestTable,
        proxy: Proxy,
        next: S,
        limits: &sandbox06_runtime::config::Limits,
    ) -> Self {
        Self {
            table: std::sync::Arc::new(table),
            proxy: Caller {
                proxy,
                timeout: limits.request_timeout(),
            },
            next,
            max_bytes: limits.max_request_bytes,
        }
    }
}

impl<S> Service<Request<Body>> for Rest<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let table = std::sync::Arc::clone(&self.table);
        let proxy = self.proxy.clone();
        let next = self.next.clone();
        let max_bytes = self.max_bytes;
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            match table.find(request.method(), &path) {
                Found::Route(route, vars) => {
                    let route = route.clone();
                    sandbox06_runtime::http::record_http_route(&route.template);
                    Ok(transcode(&route, vars, request, proxy, max_bytes)
                        .await
                        .unwrap_or_else(|error| status_response(&tonic::Status::from(error))))
                }
                Found::WrongMethod(allowed) => {
                    let allow = allowed
                        .iter()
                        .map(Method::as_str)
                        .collect::<Vec<_>>()
                        .join(", ");
                    let mut response = status_response(&tonic::Status::from(
                        ApiError::new(
                            Reason::HttpMethodNotAllowed,
                            format!("{} is not allowed here; allowed: {allow}", request.method()),
                        )
                        .with_metadata("allowed", allow.clone()),
                    ));
                    if let Ok(value) = HeaderValue::from_str(&allow) {
                        response.headers_mut().insert(http::header::ALLOW, value);
                    }
                    Ok(response)
                }
                Found::Nothing => next.oneshot(request).await,
            }
        })
    }
}

/// A JSON value as an error quotes it: a string as [`quote`] shows it, anything else as its
/// JSON, cut as long strings are.
fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => quote(text).to_string(),
        other => {
            let text = other.to_string();
            if text.len() <= sandbox06_runtime::error::MAX_QUOTE_CHARS {
                text
            } else {
                quote(&text).to_string()
            }
        }
    }
}

fn bad_request(field: &str, description: impl Into<String>) -> ApiError {
    ApiError::invalid_field(Reason::InvalidArgument, field, description)
}

/// The field named `name` (proto or JSON name) of `message`.
fn field_of(message: &MessageDescriptor, name: &str) -> Option<FieldDescriptor> {
    message
        .get_field_by_name(name)
        .or_else(|| message.get_field_by_json_name(name))
}

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

/// What is wrong with `value` as the proto3 JSON of `message`, naming the field (`a.b[2].c`):
/// an unknown field, a value of the wrong type, an enum name that does not exist.
fn check_json(message: &MessageDescriptor, value: &Value, at: &str) -> Result<(), ApiError> {
    let Value::Object(object) = value else {
        return Err(bad_request(
            if at.is_empty() { "body" } else { at },
            "must be a JSON object",
        ));
    };
    for (key, item) in object {
        let path = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        let Some(field) = field_of(message, key) else {
            return Err(bad_request(
                &path,
                format!("{} has no field {}", message.name(), quote(key)),
            ));
        };
        if item.is_null() {
            continue;
        }
        if field.is_map() {
            let Value::Object(entries) = item else {
                return Err(bad_request(&path, "must be a JSON object (a map)"));
            };
            if let Kind::Message(entry) = field.kind() {
                let value_field = entry.map_entry_value_field();
                for (name, entry_value) in entries {
                    check_value(&value_field.kind(), entry_value, &format!("{path}.{name}"))?;
                }
            }
        } else if field.is_list() {
            let Value::Array(items) = item else {
                return Err(bad_request(&path, "must be a JSON array"));
            };
            for (i, entry) in items.iter().enumerate() {
                check_value(&field.kind(), entry, &format!("{path}[{i}]"))?;
            }
        } else {
            check_value(&field.kind(), item, &path)?;
        }
    }
    Ok(())
}

/// The integer a JSON number or string of digits stands for, if it is one.
fn integer_of(value: &Value) -> Option<i128> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| {
                // 1e3 is an integer too; beyond 2^63 a float is not exact, and out of range.
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                    .map(|f| f as i128)
            }),
        Value::String(text) => {
            let digits = text.strip_prefix('-').unwrap_or(text);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            text.parse::<i128>().ok()
        }
        _ => None,
    }
}

/// The range of an integer kind.
fn integer_range(kind: &Kind) -> Option<(i128, i128)> {
    Some(match kind {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => (i32::MIN.into(), i32::MAX.into()),
        Kind::Uint32 | Kind::Fixed32 => (0, u32::MAX.into()),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => (i64::MIN.into(), i64::MAX.into()),
        Kind::Uint64 | Kind::Fixed64 => (0, u64::MAX.into()),
        _ => return None,
    })
}

/// Whether `text` is a field mask in the JSON form: lowerCamelCase paths, comma-separated.
fn is_field_mask(text: &str) -> bool {
    text.is_empty()
        || text.split(',').all(|path| {
            path.split('.').all(|name| {
                name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && name.chars().all(|c| c.is_ascii_alphanumeric())
            })
        })
}

/// Whether one JSON value fits a field of `kind` in the proto3 JSON mapping.
fn check_value(kind: &Kind, value: &Value, path: &str) -> Result<(), ApiError> {
    if let Some((low, high)) = integer_range(kind) {
        return match integer_of(value) {
            Some(n) if (low..=high).contains(&n) => Ok(()),
            Some(_) => Err(bad_request(
                path,
                format!("{} is out of range: {low} to {high}", shown(value)),
            )),
            None => Err(bad_request(
                path,
                format!("{} is not a valid {}", shown(value), kind_name(kind)),
            )),
        };
    }
    let fits = match kind {
        Kind::Bool => value.is_boolean(),
        Kind::String | Kind::Bytes => value.is_string(),
        Kind::Double | Kind::Float => {
            value.is_number()
                || value.as_str().is_some_and(|text| {
                    matches!(text, "NaN" | "Infinity" | "-Infinity") || text.parse::<f64>().is_ok()
                })
        }
        Kind::Enum(e) => match value {
            Value::String(name) => {
                if e.get_value_by_name(name).is_none() {
                    let names: Vec<String> = e.values().map(|v| v.name().to_owned()).collect();
                    return Err(bad_request(
                        path,
                        format!(
                            "{} is not a {}: one of {}",
                            quote(name),
                            e.name(),
                            names.join(", ")
                        ),
                    ));
                }
                true
            }
            other => integer_of(other).is_some_and(|n| i32::try_from(n).is_ok()),
        },
        Kind::Message(inner) => match inner.full_name() {
            "google.protobuf.FieldMask" => {
                if let Some(text) = value.as_str()
                    && !is_field_mask(text)
                {
                    return Err(bad_request(
                        path,
                        format!(
                            "{} is not a field mask: comma-separated lowerCamelCase paths such as \"fullName,card.expiryDate\"",
                            quote(text)
                        ),
                    ));
                }
                value.is_string()
            }
            "google.protobuf.Timestamp" | "google.protobuf.Duration" => value.is_string(),
            "google.protobuf.Value" => true,
            "google.protobuf.Struct" | "google.protobuf.Any" | "google.protobuf.Empty" => {
                value.is_object()
            }
            "google.protobuf.ListValue" => value.is_array(),
            name if name.starts_with("google.protobuf.") && name.ends_with("Value") => {
                let inner_kind = inner
                    .get_field_by_name("value")
                    .map(|f| f.kind())
                    .unwrap_or(Kind::String);
                return check_value(&inner_kind, value, path);
            }
            _ => return check_json(inner, value, path),
        },
        _ => true,
    };
    if fits {
        Ok(())
    } else {
        Err(bad_request(
            path,
            format!("{} is not a valid {}", shown(value), kind_name(kind)),
        ))
    }
}

/// How the proto3 JSON mapping writes a value of `kind`, for error messages.
fn kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Bool => "boolean (true or false)",
        Kind::String => "string",
        Kind::Bytes => "base64 string",
        Kind::Double | Kind::Float => "number",
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 | Kind::Uint64 | Kind::Fixed64 => {
            "integer (a number or a string of digits)"
        }
        Kind::Enum(_) => "enum name",
        Kind::Message(_) => "JSON object",
        _ => "integer",
    }
}

/// The request message of `route` from the HTTP request.
async fn request_message(
    route: &Route,
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

async fn transcode(
    route: &Route,
    vars: Vec<(String, String)>,
    request: Request<Body>,
    proxy: Caller,
    max_bytes: usize,
) -> Result<Response<Body>, ApiError> {
    if route.descriptor.is_client_streaming() {
        return transcode_stream(route, request, proxy, max_bytes).await;
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
        let answers = match call(route, &parts.headers, Body::from(frame(&message)), proxy).await? {
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
    let body = match call(route, &parts.headers, Body::from(frame(&message)), proxy).await? {
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

/// Calls `route`'s RPC through the edge's gRPC side with `body` (gRPC frames) and the caller's
/// token and trace headers: the answer's body, or the refusal as a Status response.
async fn call(
    route: &Route,
    headers: &http::HeaderMap,
    body: Body,
    caller: Caller,
) -> Result<Result<tonic::body::Body, Response<Body>>, ApiError> {
    let mut call = Request::post(route.grpc_path.as_str())
        .header(http::header::CONTENT_TYPE, "application/grpc")
        .header(http::header::TE, "trailers")
        .body(body)
        .map_err(|e| {
            tracing::warn!(error = %e, "a REST call's gRPC request cannot be made");
            ApiError::new(Reason::Internal, "the call cannot be made")
        })?;
    for name in PASSED_ON {
        if let Some(value) = headers.get(name) {
            call.headers_mut().insert(name, value.clone());
        }
    }
    // The call is a child of this request's HTTP span (itself the caller's child).
    sandbox06_runtime::telemetry::inject_span_context(
        &tracing::Span::current(),
        call.headers_mut(),
    );
    let service = tower::ServiceBuilder::new()
        .layer(sandbox06_runtime::panic::CatchPanicLayer)
        .layer(sandbox06_runtime::deadline::DeadlineLayer::new(
            caller.timeout,
        ))
        .service(caller.proxy);
    let Ok(response) = service.oneshot(call).await;
    let (head, body) = response.into_parts();
    let body = tonic::body::Body::new(body);
    if let Some(status) = tonic::Status::from_header_map(&head.headers)
        && status.code() != tonic::Code::Ok
    {
        return Ok(Err(status_response(&client_status(status))));
    }
    Ok(Ok(body))
}

/// An answer does not decode as `output` as its type: the backend's fault, in the suite's words
/// (the library's in the log).
fn undecodable_answer(output: &MessageDescriptor, error: &dyn std::fmt::Display) -> ApiError {
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
fn unwritable_answer(output: &MessageDescriptor, error: &dyn std::fmt::Display) -> ApiError {
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
fn frame(message: &DynamicMessage) -> Bytes {
    let encoded = message.encode_to_vec();
    let mut framed = BytesMut::with_capacity(encoded.len() + 5);
    framed.put_u8(0);
    framed.put_u32(u32::try_from(encoded.len()).unwrap_or(u32::MAX));
    framed.put_slice(&encoded);
    framed.freeze()
}

/// The JSON line of an error in a stream that has begun.
fn error_line(status: &tonic::Status) -> Bytes {
    Bytes::from(format!("{}\n", status_json(status)))
}

/// The Status of a stream that failed, as the JSON body a unary call would have had.
fn status_json(status: &tonic::Status) -> Value {
    let http = sandbox06_runtime::http::http_status(status.code());
    sandbox06_runtime::http::error_body(http, status)
}

/// A streaming RPC over NDJSON (`application/x-ndjson`): each line of the request body is one
/// request message, each answer one line of the response, in order, as they come. A first line
/// that is no record, and a refusal of the call, are the usual Status response; an error after
/// that is the last line.
async fn transcode_stream(
    route: &Route,
    request: Request<Body>,
    proxy: Caller,
    max_bytes: usize,
) -> Result<Response<Body>, ApiError> {
    use futures::StreamExt as _;
    let (parts, body) = request.into_parts();
    let input = route.input.clone();
    // The first record decides the HTTP status: until it is read, nothing is sent, so a body
    // whose first line is no record is refused with 400 (413 above the limit), as a unary body
    // would be.
    let mut data = body.into_data_stream();
    let mut pending = BytesMut::new();
    let mut skipped = 0usize;
    loop {
        if let Some(end) = pending.iter().position(|b| *b == b'\n') {
            if pending[..end].iter().all(u8::is_ascii_whitespace) {
                pending.advance(end + 1);
                skipped += 1;
                continue;
            }
            parse_line(&input, &pending[..end], skipped + 1)?;
            break;
        }
        if pending.len() > max_bytes {
            return Err(ApiError::new(
                Reason::RequestTooLarge,
                format!("a line is above the limit of {max_bytes} bytes"),
            )
            .with_metadata("limit_bytes", max_bytes.to_string()));
        }
        match data.next().await {
            Some(Ok(chunk)) => pending.extend_from_slice(&chunk),
            Some(Err(error)) => {
                drain_later(data);
                return Err(body_broke(error.into_inner(), max_bytes));
            }
            None => {
                if !pending.iter().all(u8::is_ascii_whitespace) {
                    parse_line(&input, &pending, skipped + 1)?;
                }
                break;
            }
        }
    }
    // A later line that does not parse ends the requests; it is reported as the last answer.
    let broken: std::sync::Arc<std::sync::Mutex<Option<ApiError>>> = Default::default();
    let broken_in = std::sync::Arc::clone(&broken);
    let lines = futures::stream::unfold(
        (data, pending, skipped, false),
        move |(mut data, mut pending, mut line_no, done)| {
            let input = input.clone();
            let broken = std::sync::Arc::clone(&broken_in);
            async move {
                if done {
                    return None;
                }
                loop {
                    if let Some(end) = pending.iter().position(|b| *b == b'\n') {
                        let line = pending.split_to(end + 1);
                        line_no += 1;
                        let text = &line[..line.len() - 1];
                        if text.iter().all(u8::is_ascii_whitespace) {
                            continue;
                        }
                        return match parse_line(&input, text, line_no) {
                            Ok(framed) => Some((
                                Ok::<_, std::io::Error>(framed),
                                (data, pending, line_no, false),
                            )),
                            Err(error) => {
                                if let Ok(mut slot) = broken.lock() {
                                    *slot = Some(error);
                                }
                                None
                            }
                        };
                    }
                    if pending.len() > max_bytes {
                        if let Ok(mut slot) = broken.lock() {
                            *slot = Some(ApiError::new(
                                Reason::RequestTooLarge,
                                format!("a line is above the limit of {max_bytes} bytes"),
                            ));
                        }
                        return None;
                    }
                    match data.next().await {
                        Some(Ok(chunk)) => pending.extend_from_slice(&chunk),
                        Some(Err(error)) => {
                            // The body broke off: the records so far are not the whole batch,
                            // and the answer must not end as if they were.
                            if let Ok(mut slot) = broken.lock() {
                                *slot = Some(body_broke(error.into_inner(), max_bytes));
                            }
                            // The records so far are answered; the last line says the batch
                            // was cut.
                            drain_later(data);
                            return None;
                        }
                        None if pending.iter().all(u8::is_ascii_whitespace) => return None,
                        None => pending.put_u8(b'\n'),
                    }
                }
            }
        },
    );
    let body = match call(route, &parts.headers, Body::from_stream(lines), proxy).await? {
        Ok(body) => body,
        Err(refused) => return Ok(refused),
    };
    Ok(stream_response(route, &parts.headers, body, broken))
}

/// Whether the caller asked for Server-Sent Events (`Accept: text/event-stream`).
fn wants_events(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.contains("text/event-stream"))
}

/// One answer of a stream, or the error that ends it.
enum Streamed {
    Answer(Value),
    Error(tonic::Status),
}

impl Streamed {
    /// The NDJSON line.
    fn line(&self) -> Bytes {
        match self {
            Streamed::Answer(json) => {
                let mut text = json.to_string();
                text.push('\n');
                Bytes::from(text)
            }
            Streamed::Error(status) => error_line(status),
        }
    }

    /// The Server-Sent Event: `data:` with the answer (its position as `id:`), or a `status`
    /// event with the Status (not `error`, which an `EventSource` also fires on a lost
    /// connection).
    fn event(&self, index: usize) -> Bytes {
        match self {
            Streamed::Answer(json) => Bytes::from(format!("id: {index}\ndata: {json}\n\n")),
            Streamed::Error(status) => {
                Bytes::from(format!("event: status\ndata: {}\n\n", status_json(status)))
            }
        }
    }
}

/// The answers of a streaming call as they come, in order: NDJSON, one line each, or
/// Server-Sent Events when the caller asks for them. An error after the first answer is the
/// last line (or a `status` event); `broken` holds a request line that did not parse.
fn stream_response(
    route: &Route,
    headers: &http::HeaderMap,
    body: tonic::body::Body,
    broken: std::sync::Arc<std::sync::Mutex<Option<ApiError>>>,
) -> Response<Body> {
    use futures::StreamExt as _;
    let output = route.output.clone();
    let answers = futures::stream::unfold(
        (body, BytesMut::new(), false),
        move |(mut body, mut pending, finished)| {
            let output = output.clone();
            let broken = std::sync::Arc::clone(&broken);
            async move {
                if finished {
                    return None;
                }
                let taken = || broken.lock().ok().and_then(|mut slot| slot.take());
                loop {
                    // A whole message in hand: its answer.
                    if pending.len() >= 5 {
                        let len =
                            u32::from_be_bytes([pending[1], pending[2], pending[3], pending[4]])
                                as usize;
                        if pending.len() >= 5 + len {
                            let mut message = pending.split_to(5 + len);
                            message.advance(5);
                            let item = DynamicMessage::decode(output.clone(), message.freeze())
                                .map_err(|e| tonic::Status::from(undecodable_answer(&output, &e)))
                                .and_then(|answer| {
                                    answer
                                        .serialize_with_options(
                                            serde_json::value::Serializer,
                                            &SerializeOptions::new(),
                                        )
                                        .map_err(|e| {
                                            tonic::Status::from(unwritable_answer(&output, &e))
                                        })
                                })
                                .map_or_else(Streamed::Error, Streamed::Answer);
                            return Some((item, (body, pending, false)));
                        }
                    }
                    match body.frame().await {
                        Some(Ok(frame)) => {
                            if let Some(data) = frame.data_ref() {
                                pending.extend_from_slice(data);
                            } else if let Some(trailers) = frame.trailers_ref() {
                                let status = tonic::Status::from_header_map(trailers);
                                // A request line that broke the stream says why first.
                                let last = match (taken(), status) {
                                    (Some(error), _) => Some(tonic::Status::from(error)),
                                    (None, Some(status)) if status.code() != tonic::Code::Ok => {
                                        Some(client_status(status))
                                    }
                                    _ => None,
                                };
                                return last.map(|status| {
                                    (Streamed::Error(status), (body, pending, true))
                                });
                            }
                        }
                        Some(Err(status)) => {
                            // A request that broke off says why, rather than how the call ended;
                            // a transport's failure in the suite's words, not the library's.
                            let status =
                                taken().map_or_else(|| client_status(status), tonic::Status::from);
                            return Some((Streamed::Error(status), (body, pending, true)));
                        }
                        None => {
                            return taken().map(|error| {
                                (
                                    Streamed::Error(tonic::Status::from(error)),
                                    (body, pending, true),
                                )
                            });
                        }
                    }
                }
            }
        },
    );
    let events = wants_events(headers);
    let encoded = answers.enumerate().map(move |(index, item)| {
        Ok::<_, std::io::Error>(if events {
            item.event(index)
        } else {
            item.line()
        })
    });
    let mut response = Response::new(Body::from_stream(encoded));
    let content_type = if events {
        "text/event-stream"
    } else {
        "application/x-ndjson"
    };
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    headers.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    response
}

/// Reads what is left of a request body the call no longer uses, for a while, so that an
/// HTTP/1.1 client still sending it reads the answer instead of a reset connection.
fn drain_later(mut data: axum::body::BodyDataStream) {
    use futures::StreamExt as _;
    tokio::spawn(async move {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while data.next().await.is_some() {}
        })
        .await;
    });
}

/// Why a request body broke off: above the size limit, or cut by the client.
fn body_broke(error: axum::BoxError, max_bytes: usize) -> ApiError {
    if error
        .downcast_ref::<sandbox06_runtime::http::BodyTooLarge>()
        .is_some()
    {
        ApiError::new(
            Reason::RequestTooLarge,
            format!("the request body is above the limit of {max_bytes} bytes"),
        )
        .with_metadata("limit_bytes", max_bytes.to_string())
    } else {
        // The transport's words (hyper's) stay in the log.
        tracing::info!(%error, "a request body broke off");
        ApiError::new(
            Reason::InvalidArgument,
            "the request body broke off before its end",
        )
    }
}

/// One NDJSON request line as a gRPC frame.
fn parse_line(input: &MessageDescriptor, text: &[u8], line: usize) -> Result<Bytes, ApiError> {
    if let Ok(value) = serde_json::from_slice::<Value>(text) {
        check_json(input, &value, "").map_err(|error| {
            use tonic_types::StatusExt as _;
            let status = tonic::Status::from(error);
            let field = status
                .get_details_bad_request()
                .and_then(|details| details.field_violations.first().map(|v| v.field.clone()))
                .unwrap_or_default();
            bad_request(
                &format!("line {line}: {field}"),
                format!("line {line}: {}", status.message()),
            )
        })?;
    }
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    let message = DynamicMessage::deserialize_with_options(
        input.clone(),
        &mut deserializer,
        &DeserializeOptions::new(),
    )
    .and_then(|m| deserializer.end().map(|()| m))
    .map_err(|e| bad_request("body", format!("line {line}: {e}")))?;
    Ok(frame(&message))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn templates_with_variables_and_verbs_match_paths() {
        let (segments, verb) = parse_template("/v1/citizens/{citizen_id}:verify").unwrap();
        assert_eq!(verb.as_deref(), Some("verify"));
        assert_eq!(
            segments,
            vec![
                Segment::Literal("v1".into()),
                Segment::Literal("citizens".into()),
                Segment::Variable("citizen_id".into())
            ]
        );
        let table = RestTable::from_pool(
            &sandbox06_proto::DESCRIPTOR_POOL,
            &["sandbox06.citizen.v1.CitizenService".to_owned()]
                .into_iter()
                .collect(),
        );
        assert_eq!(table.len(), 4);
        match table.find(&Method::POST, "/v1/citizens/001091012345:verify") {
            Found::Route(route, vars) => {
                assert!(route.grpc_path.ends_with("/VerifyCitizen"));
                assert_eq!(vars, vec![("citizen_id".into(), "001091012345".into())]);
            }
            _ => panic!("the verify route"),
        }
        match table.find(&Method::GET, "/v1/citizens/001091012345") {
            Found::Route(route, _) => assert!(route.grpc_path.ends_with("/GetCitizen")),
            _ => panic!("the get route"),
        }
        assert!(matches!(
            table.find(&Method::DELETE, "/v1/citizens/001091012345"),
            Found::WrongMethod(_)
        ));
        assert!(matches!(
            table.find(&Method::GET, "/v1/nothing"),
            Found::Nothing
        ));
        assert!(matches!(
            table.find(&Method::POST, "/v1/cards:verifyQr"),
            Found::Route(..)
        ));
    }
}
