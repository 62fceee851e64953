//! The tower layer that applies a component's faults to the gRPC calls it serves.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Request, Response};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt as _;
use prost_reflect::{DynamicMessage, Value};
use tower::{Layer, Service};

use super::action::Ending;
use super::header::plan_for;
use super::tenant::{self, TENANT_HEADER_NAME};
use super::{FAULT_HEADER, FAULT_RULE_HEADER, FAULT_RULE_METADATA, FaultRegistry};
use crate::error::ApiError;

/// Boxed error of a faulted response body.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// [`FAULT_HEADER`], parsed once.
static FAULT_HEADER_NAME: http::HeaderName = http::HeaderName::from_static(FAULT_HEADER);

tokio::task_local! {
    /// The `x-sandbox06-fault` header of the call being served, passed on to the calls its
    /// handler makes.
    static CALL_FAULT: HeaderValue;
}

/// The `x-sandbox06-fault` header of the call being served, when it carries one and this is
/// called from its handler: what outgoing calls pass on.
pub fn call_fault_header() -> Option<HeaderValue> {
    CALL_FAULT.try_with(HeaderValue::clone).ok()
}

/// Applies `registry`'s rules, and the `x-sandbox06-fault` header, to every gRPC call; checks
/// the `x-sandbox06-tenant` header and passes it on as the fault header is.
///
/// Served calls of health (but for down faults and rules naming it), reflection and the
/// sandbox's controls (`sandbox06.admin.v1`) are never faulted. Without rules and without the
/// two headers, a call costs one atomic load and two header lookups.
#[derive(Clone, Debug)]
pub struct FaultLayer {
    registry: FaultRegistry,
    max_message_bytes: usize,
    default_timeout: Duration,
}

impl FaultLayer {
    /// The layer over `registry`; a call's message is read (for rules matching a citizen ID)
    /// up to `max_message_bytes`, and an injected delay ends, as the deadline layer would end
    /// the call, at the call's `grpc-timeout` or `default_timeout`, whichever is shorter.
    pub fn new(
        registry: FaultRegistry,
        max_message_bytes: usize,
        default_timeout: Duration,
    ) -> Self {
        Self {
            registry,
            max_message_bytes,
            default_timeout,
        }
    }
}

impl<S> Layer<S> for FaultLayer {
    type Service = Faults<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Faults {
            inner,
            shared: Arc::new(self.clone()),
        }
    }
}

/// The service of [`FaultLayer`].
#[derive(Clone, Debug)]
pub struct Faults<S> {
    inner: S,
    shared: Arc<FaultLayer>,
}

/// Whether a path is never faulted (reflection, the sandbox's controls).
fn exempt(path: &str) -> bool {
    path.starts_with("/grpc.reflection.")
        || path
            .strip_prefix('/')
            .is_some_and(|rest| rest.starts_with(super::CONTROLS_PACKAGE))
}

/// Whether a path is health's.
fn is_health(path: &str) -> bool {
    path.strip_prefix('/')
        .and_then(|rest| rest.strip_prefix(crate::server::HEALTH_SERVICE))
        .is_some_and(|rest| rest.starts_with('/'))
}

impl<S, ResBody> Service<Request<tonic::body::Body>> for Faults<S>
where
    S: Service<Request<tonic::body::Body>, Response = Response<ResBody>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<FaultBody<ResBody>>;
    type Error = Infallible;
    type Future = FaultFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<tonic::body::Body>) -> Self::Future {
        // The path with no rule and no header: one load, two lookups.
        let tenant = request.headers().get(&TENANT_HEADER_NAME);
        if tenant.is_none()
            && !self.shared.registry.is_active()
            && !request.headers().contains_key(&FAULT_HEADER_NAME)
        {
            return FaultFuture::Direct {
                inner: self.inner.call(request),
            };
        }
        // A malformed tenant is refused by the first server that reads it, controls included.
        let tenant = match tenant {
            Some(value) if tenant::is_tenant(value.as_bytes()) => Some(value.clone()),
            Some(_) => {
                return FaultFuture::Faulted {
                    inner: Box::pin(std::future::ready(Ok(refused(tenant::malformed())))),
                };
            }
            None => None,
        };
        let path = request.uri().path();
        let exempt = exempt(path);
        if exempt && tenant.is_none() {
            return FaultFuture::Direct {
                inner: self.inner.call(request),
            };
        }
        // The clone that was made ready serves this call; the one left waits for the next.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        if exempt {
            // A control call: never faulted, but its handler knows the caller's tenant and
            // passes it on.
            let served = async move { inner.call(request).await.map(|r| r.map(FaultBody::inner)) };
            return FaultFuture::Faulted {
                inner: match tenant {
                    Some(tenant) => Box::pin(tenant::scope(tenant, served)),
                    None => Box::pin(served),
                },
            };
        }
        let shared = Arc::clone(&self.shared);
        let header = request.headers().get(FAULT_HEADER).cloned();
        let served = serve_faulted(inner, shared, request, tenant.clone());
        FaultFuture::Faulted {
            inner: match (header, tenant) {
                (Some(header), Some(tenant)) => {
                    Box::pin(tenant::scope(tenant, CALL_FAULT.scope(header, served)))
                }
                (Some(header), None) => Box::pin(CALL_FAULT.scope(header, served)),
                (None, Some(tenant)) => Box::pin(tenant::scope(tenant, served)),
                (None, None) => Box::pin(served),
            },
        }
    }
}

/// The answer of a faulted call, with the fault's marker.
fn ended<B>(ending: Ending, marker: &str, component: &str) -> Response<FaultBody<B>> {
    let mut response = match ending {
        Ending::Status(error) => {
            tonic::Status::from(error.with_metadata(FAULT_RULE_METADATA, marker)).into_http()
        }
        Ending::Down => tonic::Status::unavailable(format!(
            "{component} cannot be reached (a down fault of the sandbox)"
        ))
        .into_http(),
        Ending::Drop => {
            let mut response = Response::new(FaultBody::Reset);
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/grpc"),
            );
            response
        }
    };
    if let Ok(value) = HeaderValue::from_str(marker) {
        response.headers_mut().insert(FAULT_RULE_HEADER, value);
    }
    response
}

async fn serve_faulted<S, ResBody>(
    mut inner: S,
    shared: Arc<FaultLayer>,
    request: Request<tonic::body::Body>,
    tenant: Option<HeaderValue>,
) -> Result<Response<FaultBody<ResBody>>, Infallible>
where
    S: Service<Request<tonic::body::Body>, Response = Response<ResBody>, Error = Infallible>,
{
    let registry = &shared.registry;
    let component = registry.component();
    let path = request.uri().path().to_owned();
    let health = is_health(&path);
    // The header's part for this component first: a malformed header is refused.
    let asked = match request.headers().get(FAULT_HEADER) {
        Some(value) => match plan_for(value, registry) {
            Ok(plan) => plan,
            Err(error) => return Ok(refused(error)),
        },
        None => Default::default(),
    };
    let mut request = request;
    let mut markers: Vec<String> = Vec::new();
    let mut delay = Duration::ZERO;
    let mut ending = None;
    // Health is faulted by the header only when it asks for down.
    let header_applies = !health || matches!(asked.ending, Some(Ending::Down));
    if header_applies && (asked.delay.is_some() || asked.ending.is_some()) {
        markers.push("header".to_owned());
        delay += asked.delay.map(|d| d.draw()).unwrap_or_default();
        ending = asked.ending.map(|e| (e, "header".to_owned()));
    }
    if registry.is_active() {
        let client = crate::caller::Caller::from_headers(request.headers()).client_id;
        // Checked when the call came in.
        let tenant = tenant.as_ref().and_then(|value| value.to_str().ok());
        let (candidates, needs_message) =
            registry.candidates(&path, client.as_deref(), tenant, health);
        if !candidates.is_empty() {
            // The message is read only for a method that takes one: a client stream's first
            // message may wait for an answer, and the call would wait on it.
            let single = needs_message.then(|| single_message_input(&path)).flatten();
            let citizen_ids = match single {
                Some(input) => {
                    let (message, rebuilt) = read_message(request, shared.max_message_bytes).await;
                    request = rebuilt;
                    message
                        .map(|message| citizen_ids_of(input, &message))
                        .unwrap_or_default()
                }
                None => Vec::new(),
            };
            let plan = registry.plan(&candidates, |wanted| {
                citizen_ids.iter().any(|found| found == wanted)
            });
            delay += plan.delay;
            if ending.is_none() {
                ending = plan.ending;
            }
            markers.extend(plan.applied);
        }
    }
    if markers.is_empty() {
        return inner.call(request).await.map(|r| r.map(FaultBody::inner));
    }
    let marker = markers.join(",");
    tracing::info!(component, method = %path, faults = %marker, "fault injected");
    // A malformed `grpc-timeout` is refused as the deadline layer behind refuses it, before any
    // fault: a delay would otherwise set the header anew.
    let limit = match crate::deadline::call_limit(request.headers(), shared.default_timeout) {
        Ok(limit) => limit,
        Err(error) => return Ok(refused(error)),
    };
    if !delay.is_zero() {
        if delay >= limit {
            tokio::time::sleep(limit).await;
            return Ok(ended(
                Ending::Status(crate::deadline::deadline_exceeded(limit)),
                &marker,
                component,
            ));
        }
        tokio::time::sleep(delay).await;
        // What is left of the deadline goes on with the call.
        set_timeout(&mut request, limit - delay);
    }
    if let Some((ending, _)) = ending {
        return Ok(ended(ending, &marker, component));
    }
    let mut response = inner.call(request).await?.map(FaultBody::inner);
    if let Ok(value) = HeaderValue::from_str(&marker) {
        response.headers_mut().insert(FAULT_RULE_HEADER, value);
    }
    Ok(response)
}

/// The refusal of a malformed header.
fn refused<B>(error: ApiError) -> Response<FaultBody<B>> {
    tonic::Status::from(error).into_http()
}

/// Sets `grpc-timeout` so that the deadline layer, which keeps back a twentieth of what is
/// asked, gives the call `left`.
fn set_timeout(request: &mut Request<tonic::body::Body>, left: Duration) {
    let micros = (left.as_micros().saturating_mul(20) / 19).max(1);
    let value = if micros < 100_000_000 {
        format!("{micros}u")
    } else {
        format!("{}m", (micros / 1000).min(99_999_999))
    };
    if let Ok(value) = HeaderValue::from_str(&value) {
        request.headers_mut().insert("grpc-timeout", value);
    }
}

/// Reads the call's request message (up to `max_bytes`), for matching; the request with its
/// body whole again.
async fn read_message(
    request: Request<tonic::body::Body>,
    max_bytes: usize,
) -> (Option<Bytes>, Request<tonic::body::Body>) {
    let (parts, mut body) = request.into_parts();
    let cap = max_bytes.saturating_add(5);
    let mut read = BytesMut::new();
    let mut ended = false;
    let mut failed = None;
    while read.len() <= cap {
        match body.frame().await {
            None => {
                ended = true;
                break;
            }
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    read.extend_from_slice(&data);
                }
            }
            Some(Err(error)) => {
                failed = Some(error);
                break;
            }
        }
    }
    let read = read.freeze();
    let message = ended.then(|| read.clone());
    let body = tonic::body::Body::new(Replay {
        read: (!read.is_empty()).then_some(read),
        failed,
        rest: (!ended).then_some(body),
    });
    (message, Request::from_parts(parts, body))
}

/// The request message of the method at `path`, when it takes exactly one (not a client
/// stream); none for a method the contract does not know.
fn single_message_input(path: &str) -> Option<prost_reflect::MessageDescriptor> {
    crate::rpc::contract_method(path)
        .filter(|method| !method.is_client_streaming())
        .map(|method| method.input())
}

/// The `citizen_id` values of the one message `frame` (a gRPC frame) of type `input`, at any
/// depth; none when the frame does not decode.
fn citizen_ids_of(input: prost_reflect::MessageDescriptor, frame: &Bytes) -> Vec<String> {
    // One uncompressed message: flag 0, then its length.
    let [0, a, b, c, d, ..] = frame[..] else {
        return Vec::new();
    };
    let len = u32::from_be_bytes([a, b, c, d]) as usize;
    let Some(bytes) = frame.get(5..5 + len) else {
        return Vec::new();
    };
    let Ok(message) = DynamicMessage::decode(input, bytes) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    collect_citizen_ids(&message, &mut found, 0);
    found
}

/// Pushes the `citizen_id` strings of `message` and of the messages within it.
fn collect_citizen_ids(message: &DynamicMessage, found: &mut Vec<String>, depth: usize) {
    if depth > 32 {
        return;
    }
    for (field, value) in message.fields() {
        let named = field.name() == "citizen_id";
        visit(value, named, found, depth);
    }
    fn visit(value: &Value, named: bool, found: &mut Vec<String>, depth: usize) {
        match value {
            Value::String(text) if named => found.push(text.clone()),
            Value::Message(inner) => collect_citizen_ids(inner, found, depth + 1),
            Value::List(items) => {
                for item in items {
                    visit(item, named, found, depth);
                }
            }
            Value::Map(entries) => {
                for item in entries.values() {
                    visit(item, false, found, depth);
                }
            }
            _ => {}
        }
    }
}

/// A request body read in part (or whole), given again from the start.
struct Replay {
    read: Option<Bytes>,
    failed: Option<tonic::Status>,
    rest: Option<tonic::body::Body>,
}

impl Body for Replay {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(read) = self.read.take() {
            return Poll::Ready(Some(Ok(Frame::data(read))));
        }
        if let Some(error) = self.failed.take() {
            return Poll::Ready(Some(Err(error)));
        }
        match self.rest.as_mut() {
            Some(rest) => Pin::new(rest).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.read.is_none()
            && self.failed.is_none()
            && self.rest.as_ref().is_none_or(Body::is_end_stream)
    }
}

/// The boxed answer of a faulted call.
type Faulted<B> = Pin<Box<dyn Future<Output = Result<Response<FaultBody<B>>, Infallible>> + Send>>;

pin_project_lite::pin_project! {
    /// Response future of [`Faults`].
    #[project = FaultFutureProj]
    pub enum FaultFuture<F, B> {
        /// No fault: the inner call as it is.
        Direct { #[pin] inner: F },
        /// A call the rules or the header concern.
        Faulted { inner: Faulted<B> },
    }
}

impl<F, B> Future for FaultFuture<F, B>
where
    F: Future<Output = Result<Response<B>, Infallible>>,
{
    type Output = Result<Response<FaultBody<B>>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            FaultFutureProj::Direct { inner } => inner
                .poll(cx)
                .map(|answer| answer.map(|response| response.map(FaultBody::inner))),
            FaultFutureProj::Faulted { inner } => inner.as_mut().poll(cx),
        }
    }
}

pin_project_lite::pin_project! {
    /// Response body of [`Faults`]: the handler's, or none (an error ends the call in its
    /// headers), or a reset stream.
    #[project = FaultBodyProj]
    #[derive(Default)]
    pub enum FaultBody<B> {
        /// The handler's answer.
        Inner { #[pin] body: B },
        /// No body: the answer is all in the headers.
        #[default]
        Empty,
        /// A stream reset before any message.
        Reset,
    }
}

impl<B> FaultBody<B> {
    fn inner(body: B) -> Self {
        FaultBody::Inner { body }
    }
}

/// The error that resets a dropped call's stream: over HTTP/2 an `RST_STREAM` with
/// `INTERNAL_ERROR`, which a tonic client reports as `INTERNAL`; a client in the same process
/// reads the same code from it.
fn stream_dropped() -> BoxError {
    Box::new(tonic::Status::internal(
        "h2 protocol error: the stream was reset (a drop fault of the sandbox)",
    ))
}

impl<B> Body for FaultBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.project() {
            FaultBodyProj::Inner { body } => body
                .poll_frame(cx)
                .map(|frame| frame.map(|frame| frame.map_err(Into::into))),
            FaultBodyProj::Empty => Poll::Ready(None),
            FaultBodyProj::Reset => Poll::Ready(Some(Err(stream_dropped()))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            FaultBody::Inner { body } => body.is_end_stream(),
            FaultBody::Empty => true,
            FaultBody::Reset => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            FaultBody::Inner { body } => body.size_hint(),
            FaultBody::Empty | FaultBody::Reset => SizeHint::with_exact(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exempt_paths_are_reflection_and_the_controls() {
        assert!(exempt(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        ));
        assert!(exempt("/sandbox06.admin.v1.FaultControl/ListFaultRules"));
        assert!(exempt("/sandbox06.admin.v1.StateControl/Reset"));
        assert!(exempt("/sandbox06.admin.v1.AdminService/ClearFaultRules"));
        assert!(!exempt("/sandbox06.admin.v1X.FaultControl/ListFaultRules"));
        assert!(!exempt("/grpc.health.v1.Health/Check"));
        assert!(is_health("/grpc.health.v1.Health/Check"));
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn citizen_ids_are_found_at_any_depth() {
        use prost::Message as _;
        use sandbox06_proto::population::{CreateLifeEventRequest, GetCitizenRequest};
        let frame = |bytes: Vec<u8>| {
            let mut framed = vec![0];
            framed.extend((bytes.len() as u32).to_be_bytes());
            framed.extend(bytes);
            Bytes::from(framed)
        };
        // What the layer reads: the one message of a method that takes one.
        let citizen_ids_of = |path: &str, frame: &Bytes| {
            single_message_input(path).map_or_else(Vec::new, |input| citizen_ids_of(input, frame))
        };
        assert!(
            single_message_input("/sandbox06.citizen.v1.CitizenService/MatchCitizens").is_none(),
            "a client stream is not read"
        );
        let get = GetCitizenRequest {
            citizen_id: "001090000001".into(),
            ..Default::default()
        };
        let path = "/sandbox06.upstream.population.v1.PopulationService/GetCitizen";
        assert_eq!(
            citizen_ids_of(path, &frame(get.encode_to_vec())),
            ["001090000001"]
        );
        let event = CreateLifeEventRequest {
            citizen_id: "001090000002".into(),
            ..Default::default()
        };
        let path = "/sandbox06.upstream.population.v1.PopulationService/CreateLifeEvent";
        assert_eq!(
            citizen_ids_of(path, &frame(event.encode_to_vec())),
            ["001090000002"]
        );
        // Nested, and in repeated messages.
        let nested = sandbox06_proto::population::ListCitizensResponse {
            citizens: ["001090000003", "001090000004"]
                .map(|id| sandbox06_proto::population::Citizen {
                    citizen_id: id.into(),
                    ..Default::default()
                })
                .into(),
            ..Default::default()
        };
        let descriptor = sandbox06_proto::DESCRIPTOR_POOL
            .get_message_by_name("sandbox06.upstream.population.v1.ListCitizensResponse")
            .unwrap();
        let message = DynamicMessage::decode(descriptor, &nested.encode_to_vec()[..]).unwrap();
        let mut found = Vec::new();
        collect_citizen_ids(&message, &mut found, 0);
        assert_eq!(found, ["001090000003", "001090000004"]);
        assert!(citizen_ids_of("/no.Such/Method", &frame(Vec::new())).is_empty());
        assert!(citizen_ids_of(path, &Bytes::from_static(&[1, 0, 0, 0, 0])).is_empty());
    }
}
