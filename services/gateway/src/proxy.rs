//! The edge's gRPC entry (gRPC-Web arrives here as gRPC): every call the server hands over goes
//! through the phases of [`crate::phases`]; the backend's answer streams back untouched, ending
//! with the suite's status if the backend breaks off.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::{Request, Response};
use sandbox06_runtime::{ApiError, Reason};
use tonic::body::Body;
use tower::Service;

use crate::journal::{self, Protocol};
use crate::phases::{Edge, answered};

/// The gateway's gRPC fallback service: route, authorize, forward.
#[derive(Clone)]
pub(crate) struct Proxy {
    edge: Arc<Edge>,
}

impl Proxy {
    pub(crate) fn new(edge: Arc<Edge>) -> Self {
        Self { edge }
    }
}

impl Service<Request<axum::body::Body>> for Proxy {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<axum::body::Body>) -> Self::Future {
        let edge = Arc::clone(&self.edge);
        Box::pin(async move {
            // Every call is recorded, routed or not.
            let recording = edge
                .journal
                .as_ref()
                .filter(|_| journal::records(request.uri().path()))
                .map(|journal| {
                    let recording = journal.record(Protocol::of_grpc(&request));
                    let traceparent = request.headers().get("traceparent").cloned();
                    // Checked by the server's fault layer before the call got here.
                    let tenant = request
                        .headers()
                        .get(sandbox06_runtime::faults::TENANT_HEADER)
                        .cloned();
                    recording.with(|facts| {
                        facts.traceparent = traceparent;
                        facts.tenant = tenant;
                    });
                    recording
                });
            let call = match edge.route_grpc(request.uri().path()) {
                Ok(call) => call.recorded(recording),
                Err(error) => {
                    if let Some(recording) = &recording {
                        let method = sandbox06_runtime::mask::path(request.uri().path());
                        recording.with(|facts| facts.method = method);
                    }
                    return Ok(answered(recording, grpc_error_response(error)));
                }
            };
            Ok(edge.authorize_and_forward(call, request).await)
        })
    }
}

/// A trailers-only gRPC response carrying `error`.
pub(crate) fn grpc_error_response(error: ApiError) -> Response<Body> {
    tonic::Status::from(error)
        .into_http::<()>()
        .map(|()| Body::empty())
}

pin_project_lite::pin_project! {
    /// A backend's answer passed on; if the connection to the backend breaks during it, the
    /// answer ends with `UPSTREAM_UNAVAILABLE` in its trailers, in the suite's words (the
    /// transport's are logged).
    pub(crate) struct EndsWithStatus {
        #[pin]
        inner: Body,
        backend: Arc<str>,
        ended: bool,
    }
}

impl EndsWithStatus {
    pub(crate) fn new(inner: Body, backend: Arc<str>) -> Self {
        Self {
            inner,
            backend,
            ended: false,
        }
    }
}

impl http_body::Body for EndsWithStatus {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        if *this.ended {
            return Poll::Ready(None);
        }
        match std::task::ready!(this.inner.poll_frame(cx)) {
            Some(Err(status)) => {
                *this.ended = true;
                tracing::warn!(backend = &**this.backend, cause = %status.message(), "a backend's answer broke off");
                let status: tonic::Status = ApiError::new(
                    Reason::UpstreamUnavailable,
                    format!(
                        "the connection to backend {} broke off during the call; retry",
                        this.backend
                    ),
                )
                .with_metadata("backend", &**this.backend)
                .into();
                let trailers = status.into_http::<()>().into_parts().0.headers;
                Poll::Ready(Some(Ok(http_body::Frame::trailers(trailers))))
            }
            other => Poll::Ready(other),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// `error` and every error beneath it, joined with ": ", each said once.
pub(crate) fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(error) = next {
        let text = error.to_string();
        // A wrapper often repeats its source's text; say it once.
        if !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
        next = error.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod cause_tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapped(&'static str, Option<Box<Wrapped>>);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1
                .as_deref()
                .map(|e| e as &(dyn std::error::Error + 'static))
        }
    }

    #[test]
    fn a_failed_forward_says_why() {
        let error = Wrapped(
            "transport error",
            Some(Box::new(Wrapped(
                "connection error",
                Some(Box::new(Wrapped(
                    "connection error received: GOAWAY, ENHANCE_YOUR_CALM, \"too_many_data_frames\"",
                    None,
                ))),
            ))),
        );
        let chain = cause_chain(&error);
        assert!(
            chain.starts_with("transport error: connection error"),
            "{chain}"
        );
        assert!(chain.contains("ENHANCE_YOUR_CALM"), "{chain}");
    }
}
