//! REST/JSON at the edge, from the contract: every RPC of a routed service is reachable at the
//! route its `google.api.http` rule declares ([`routes`]). A request is turned into the RPC's
//! protobuf message (path variables, query parameters, the JSON body as the rule says;
//! [`transcode`]) and goes through the same phases as a gRPC call (see [`crate::phases`]): the
//! method's target was resolved when the route table was built, the token is checked once with
//! the method's policy, and the call is forwarded to the backend with the caller it gave, under
//! the same size limit, deadline and trace. The answer is rendered in the canonical proto3 JSON
//! mapping, streams as NDJSON or Server-Sent Events ([`streaming`]). Errors are the
//! `google.rpc.Status` as JSON, with the standard HTTP status of its code.

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
use crate::phases::{Call, Edge};

/// The headers of a REST request that go on with the call.
/// `grpc-timeout` lets a REST client give its call a deadline, as a gRPC client does.
const PASSED_ON: [&str; 5] = [
    "authorization",
    "traceparent",
    "tracestate",
    "x-request-id",
    "grpc-timeout",
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
            match edge
                .routes
                .rest()
                .find(request.method(), request.uri().path())
            {
                Found::Route(index, route, vars) => {
                    sandbox06_runtime::http::record_http_route(&route.template);
                    let forward = Forward {
                        edge: Arc::clone(&edge),
                        index,
                    };
                    Ok(
                        transcode::transcode(route, vars, request, forward, max_bytes)
                            .await
                            .unwrap_or_else(|error| status_response(&tonic::Status::from(error))),
                    )
                }
                Found::WrongMethod(allowed) => Ok(not_allowed(request.method(), &allowed)),
                Found::Nothing => next.oneshot(request).await,
            }
        })
    }
}

/// The gRPC side of one REST route as its call reaches it: the route's method, resolved once.
#[derive(Clone)]
pub(crate) struct Forward {
    edge: Arc<Edge>,
    /// The route's index in the REST table.
    index: usize,
}

impl Service<Request<Body>> for Forward {
    type Response = Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let Self { edge, index } = self.clone();
        Box::pin(async move {
            let Some(target) = edge.routes.rest_target(index) else {
                // The table keeps only routes whose method is routed.
                return Ok(crate::proxy::grpc_error_response(ApiError::new(
                    Reason::Internal,
                    "the route has no method",
                )));
            };
            let call = Call::new(Cow::Borrowed(target));
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
    // The same deadline as a gRPC call: the caller's `grpc-timeout`, at most the limit.
    let service = tower::ServiceBuilder::new()
        .layer(sandbox06_runtime::panic::CatchPanicLayer)
        .layer(sandbox06_runtime::deadline::DeadlineLayer::new(
            forward.edge.timeout,
        ))
        .service(forward);
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
