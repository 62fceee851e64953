//! The gRPC forwarding service: routes `/<package.Service>/<Method>` to the backend serving
//! that service, streaming bodies through untouched in both directions.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::{Request, Response};
use sandbox06_runtime::caller::strip_caller_headers;
use sandbox06_runtime::metadata_limit::request_fits;
use sandbox06_runtime::telemetry::{inject_span_context, split_grpc_path};
use sandbox06_runtime::{ApiError, Reason};
use tonic::body::Body;
use tonic::transport::Channel;
use tower::{Service, ServiceExt};
use tracing::Instrument;

use crate::policy::{Authorizer, MethodInfo, PolicyTable};
use crate::reframe::WholeMessages;

/// Where calls to one service go.
#[derive(Clone, Debug)]
pub(crate) struct Route {
    /// Component name, for spans and errors.
    pub(crate) backend: Arc<str>,
    /// Shared channel of that backend.
    pub(crate) channel: Channel,
}

/// Immutable routing state shared by every call.
pub(crate) struct ProxyState {
    /// Keyed by fully-qualified service name.
    pub(crate) routes: HashMap<String, Route>,
    pub(crate) policies: PolicyTable,
    pub(crate) authorizer: Arc<dyn Authorizer>,
}

/// The gateway's fallback service.
#[derive(Clone)]
pub(crate) struct Proxy {
    state: Arc<ProxyState>,
}

impl Proxy {
    pub(crate) fn new(state: ProxyState) -> Self {
        Self {
            state: Arc::new(state),
        }
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
        let state = Arc::clone(&self.state);
        Box::pin(async move { Ok(forward(&state, request).await) })
    }
}

/// A trailers-only gRPC response carrying `error`.
pub(crate) fn grpc_error_response(error: ApiError) -> Response<Body> {
    tonic::Status::from(error)
        .into_http::<()>()
        .map(|()| Body::empty())
}

fn method_not_found(path: &str) -> ApiError {
    let path = sandbox06_runtime::mask::path(path);
    ApiError::new(
        Reason::MethodNotFound,
        format!("no service or method routed at {path}"),
    )
    .with_metadata("path", path)
}

async fn forward(state: &ProxyState, mut request: Request<axum::body::Body>) -> Response<Body> {
    let path = request.uri().path();
    let Some((service, method)) = split_grpc_path(path) else {
        return grpc_error_response(method_not_found(path));
    };
    let Some(route) = state.routes.get(service) else {
        tracing::debug!(path = %sandbox06_runtime::mask::path(path), "no backend for service");
        return grpc_error_response(method_not_found(path));
    };
    // A method of the contract is named as it is; anything else could carry personal data.
    let method_name: std::borrow::Cow<'_, str> = if state.policies.get(path).is_some() {
        method.into()
    } else {
        sandbox06_runtime::mask::path(method).into()
    };
    let span = tracing::info_span!(
        "gateway",
        otel.kind = "client",
        rpc.system = "grpc",
        rpc.service = service,
        rpc.method = &*method_name,
        backend = &*route.backend,
        auth.scope = tracing::field::Empty,
    );

    let unlisted;
    let info = match state.policies.get(path) {
        Some(info) => info,
        // A method the contract does not have, on a service it does: the edge knows the answer.
        None if state.policies.methods().any(|m| m.service == service) => {
            return grpc_error_response(method_not_found(path));
        }
        None => {
            // A method the contract does not know; the backend answers UNIMPLEMENTED, but the
            // authorizer still decides first.
            unlisted = MethodInfo {
                path: path.to_owned(),
                service: service.to_owned(),
                method: method.to_owned(),
                policy: None,
            };
            &unlisted
        }
    };
    // Only the edge says who the caller is.
    strip_caller_headers(request.headers_mut());
    let decided = span.in_scope(|| state.authorizer.authorize(info, request.headers()));
    let caller = match decided.instrument(span.clone()).await {
        Ok(caller) => caller,
        Err(error) => {
            tracing::info!(parent: &span, reason = %error.reason, "call refused");
            return grpc_error_response(error);
        }
    };
    if let Err(error) = caller.write_headers(request.headers_mut()) {
        tracing::warn!(parent: &span, error = %error, "caller does not fit in headers");
        return grpc_error_response(ApiError::new(
            Reason::Internal,
            "the authorized caller cannot be passed on",
        ));
    }

    // The backend's span becomes a child of this hop.
    inject_span_context(&span, request.headers_mut());
    // A header block above what the backend takes would fail the connection every caller
    // shares with it, not this call.
    if let Err(error) = request_fits(request.uri().path(), request.headers()) {
        tracing::info!(parent: &span, reason = %error.reason, "call refused");
        return grpc_error_response(error);
    }
    // Whole messages only: the connection to the backend is every caller's.
    let request = request.map(|body| Body::new(WholeMessages::new(body)));
    let backend = Arc::clone(&route.backend);
    match route
        .channel
        .clone()
        .oneshot(request)
        .instrument(span)
        .await
    {
        // A backend's answer that breaks off ends with the suite's status, not a reset stream.
        Ok(response) => response.map(|body| {
            Body::new(EndsWithStatus {
                inner: body,
                backend,
                ended: false,
            })
        }),
        Err(error) => {
            // The whole chain: "transport error" alone does not say whether the backend
            // refused the connection, closed it (GOAWAY and its reason) or timed out.
            tracing::warn!(backend = &*backend, cause = %cause_chain(&error), "forward failed");
            grpc_error_response(
                ApiError::new(
                    Reason::UpstreamUnavailable,
                    format!("backend {backend} is unavailable"),
                )
                .with_metadata("backend", &*backend),
            )
        }
    }
}

pin_project_lite::pin_project! {
    /// A backend's answer passed on; if the connection to the backend breaks during it, the
    /// answer ends with `UPSTREAM_UNAVAILABLE` in its trailers, in the suite's words (the
    /// transport's are logged).
    struct EndsWithStatus {
        #[pin]
        inner: Body,
        backend: Arc<str>,
        ended: bool,
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
