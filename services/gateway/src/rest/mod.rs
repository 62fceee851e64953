//! REST/JSON at the edge, from the contract: every RPC of a routed service is reachable at the
//! route its `google.api.http` rule declares ([`routes`]). A request is turned into the RPC's
//! protobuf message (path variables, query parameters, the JSON body as the rule says;
//! [`transcode`]) and goes through the same phases as a gRPC call (see [`crate::phases`]): the
//! method's target was resolved when the route table was built, the token is checked once with
//! the method's policy, and the call is forwarded to the backend with the caller it gave, under
//! the same size limit, deadline and trace. The answer is rendered in the canonical proto3 JSON
//! mapping, streams as NDJSON or Server-Sent Events ([`streaming`]). Errors are the
//! `google.rpc.Status` as JSON, with the standard HTTP status of its code.
//!
//! Each REST call is recorded once in the edge's journal, whether transcoded and forwarded or
//! refused before (a body that does not map, a method the route does not take, a path no route
//! or backend prefix claims): the HTTP side (method, route template, status) here, the gRPC side
//! by the phases.

pub(crate) mod routes;
mod streaming;
mod transcode;

use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use futures::future::BoxFuture;
use http::{Request, Response};
use sandbox06_runtime::error::client_status;
use sandbox06_runtime::http::status_response;
use sandbox06_runtime::{ApiError, Reason};
use tower::{Service, ServiceExt};

use self::routes::{Found, RestRoute, not_allowed};
use crate::journal::{self, HttpSide, Protocol, Recording, Side, Tap};
use crate::phases::{Call, Edge};

/// The headers of a REST request that go on with the call.
/// `grpc-timeout` lets a REST client give its call a deadline, as a gRPC client does, and
/// `x-sandbox06-fault` ask for a fault on that call alone, and `x-sandbox06-tenant` name the
/// test job it belongs to.
const PASSED_ON: [&str; 7] = [
    "authorization",
    "traceparent",
    "tracestate",
    "x-request-id",
    "grpc-timeout",
    sandbox06_runtime::faults::FAULT_HEADER,
    sandbox06_runtime::faults::TENANT_HEADER,
];

/// The edge's HTTP side with REST in front: a REST route is transcoded, anything else goes on
/// to `next` (the backends' prefixes, then the JSON 404).
#[derive(Clone)]
pub(crate) struct Rest<S> {
    edge: Arc<Edge>,
    next: S,
    max_bytes: usize,
}

impl<S> Rest<S> {
    pub(crate) fn new(edge: Arc<Edge>, next: S, max_bytes: usize) -> Self {
        Self {
            edge,
            next,
            max_bytes,
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
        let edge = Arc::clone(&self.edge);
        let next = self.next.clone();
        let max_bytes = self.max_bytes;
        Box::pin(async move {
            let path = request.uri().path();
            let found = edge.routes.rest().find(request.method(), path);
            // A path under a backend's prefix is that backend's HTTP, not a REST call.
            let recorded = match &found {
                Found::Nothing => !edge.routes.http_prefixes().any(|prefix| {
                    path.strip_prefix(prefix)
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
                }),
                Found::Route(_, route, _) => journal::records(&route.grpc_path),
                Found::WrongMethod(_) => true,
            };
            let recording = match &edge.journal {
                Some(journal) if recorded => {
                    let recording = journal.record(Protocol::Rest);
                    let (method, template) = match &found {
                        Found::Route(_, route, _) => {
                            (route.grpc_path.clone(), route.template.clone())
                        }
                        _ => (String::new(), sandbox06_runtime::mask::path(path)),
                    };
                    let traceparent = request.headers().get("traceparent").cloned();
                    // A malformed tenant is refused below, and recorded without one.
                    let tenant = sandbox06_runtime::faults::tenant_of(request.headers())
                        .ok()
                        .flatten()
                        .and_then(|_| {
                            request
                                .headers()
                                .get(sandbox06_runtime::faults::TENANT_HEADER)
                                .cloned()
                        });
                    recording.with(|facts| {
                        facts.method = method;
                        facts.traceparent = traceparent;
                        facts.tenant = tenant;
                        facts.http = Some(HttpSide {
                            method: request.method().clone(),
                            template,
                            status: 0,
                        });
                    });
                    Some(recording)
                }
                _ => None,
            };
            // A REST call's tenant is checked here, the first server reading it (a backend's
            // own HTTP routes take the header as they will).
            let malformed = sandbox06_runtime::faults::tenant_of(request.headers())
                .err()
                .filter(|_| recorded || !matches!(found, Found::Nothing));
            let response = match (malformed, found) {
                (Some(error), _) => {
                    refused(recording.as_ref(), &error);
                    status_response(&tonic::Status::from(error))
                }
                (None, Found::Route(index, route, vars)) => {
                    sandbox06_runtime::http::record_http_route(&route.template);
                    let forward = Forward {
                        edge: Arc::clone(&edge),
                        index,
                        recording: recording.clone(),
                    };
                    transcode::transcode(route, vars, request, forward, max_bytes)
                        .await
                        .unwrap_or_else(|error| {
                            refused(recording.as_ref(), &error);
                            status_response(&tonic::Status::from(error))
                        })
                }
                (None, Found::WrongMethod(allowed)) => {
                    refused(
                        recording.as_ref(),
                        &ApiError::new(Reason::HttpMethodNotAllowed, ""),
                    );
                    not_allowed(request.method(), &allowed)
                }
                (None, Found::Nothing) => {
                    refused(
                        recording.as_ref(),
                        &ApiError::new(Reason::RouteNotFound, ""),
                    );
                    next.oneshot(request).await?
                }
            };
            Ok(match recording {
                Some(recording) => {
                    let status = response.status().as_u16();
                    recording.with(|facts| {
                        if let Some(http) = &mut facts.http {
                            http.status = status;
                        }
                    });
                    // Recorded when the answer has been read to its end, or dropped.
                    response.map(|body| Body::new(Tap::new(body, recording, Side::Outer)))
                }
                None => response,
            })
        })
    }
}

/// Records `error`, the REST side's refusal of a call that never reached the phases.
fn refused(recording: Option<&Recording>, error: &ApiError) {
    if let Some(recording) = recording {
        let (code, reason) = (error.code() as i32, error.reason.as_str().to_owned());
        let message = (!error.message.is_empty())
            .then(|| http::HeaderValue::from_str(&error.message).ok())
            .flatten();
        recording.with(|facts| {
            facts.code = Some(code);
            facts.reason = Some(reason);
            facts.message = message;
        });
    }
}

/// The gRPC side of one REST route as its call reaches it: the route's method, resolved once.
#[derive(Clone)]
pub(crate) struct Forward {
    edge: Arc<Edge>,
    /// The route's index in the REST table.
    index: usize,
    /// The call's entry in the journal.
    recording: Option<Recording>,
}

impl Service<Request<Body>> for Forward {
    type Response = Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let Self {
            edge,
            index,
            recording,
        } = self.clone();
        Box::pin(async move {
            let Some(target) = edge.routes.rest_target(index) else {
                // The table keeps only routes whose method is routed.
                return Ok(crate::phases::answered(
                    recording,
                    crate::proxy::grpc_error_response(ApiError::new(
                        Reason::Internal,
                        "the route has no method",
                    )),
                ));
            };
            let call = Call::new(Cow::Borrowed(target)).recorded(recording);
            Ok(edge.authorize_and_forward(call, request).await)
        })
    }
}

/// Calls `route`'s RPC with `body` (gRPC frames) and the REST request's token and trace
/// headers, authorized once and forwarded through the phases, under the call's deadline: the
/// answer's body, or the refusal as a Status response.
pub(super) async fn call(
    route: &RestRoute,
    headers: &http::HeaderMap,
    body: Body,
    forward: Forward,
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
    let recording = forward.recording.clone();
    // The same deadline as a gRPC call: the caller's `grpc-timeout`, at most the limit.
    let service = tower::ServiceBuilder::new()
        .layer(sandbox06_runtime::panic::CatchPanicLayer)
        .layer(sandbox06_runtime::deadline::DeadlineLayer::new(
            forward.edge.timeout,
        ))
        .service(forward);
    let Ok(response) = service.oneshot(call).await;
    let (head, body) = response.into_parts();
    // The deadline's answer is made around the phases: its status is the call's.
    if let Some(recording) = recording {
        recording.with(|facts| facts.status_from(&head.headers));
    }
    let body = tonic::body::Body::new(body);
    if let Some(status) = tonic::Status::from_header_map(&head.headers)
        && status.code() != tonic::Code::Ok
    {
        return Ok(Err(status_response(&client_status(status))));
    }
    Ok(Ok(body))
}
