//! The server trace layer, one for gRPC and HTTP: a span per call, child of the caller's trace
//! context only, with the call's outcome recorded on it. [`ServerTrace`] does the work; each
//! protocol states its rule ([`TraceRule`]): [`GrpcTraceLayer`] (span fields, `grpc-status` from
//! the headers or the trailers, the call's metrics) and [`HttpTraceLayer`] (span fields, the
//! response status).

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame, SizeHint};
use tower::{Layer, Service};
use tracing::Span;

use super::propagation::{component_context, set_server_parent};
use super::service_name;
use crate::metrics::{RpcCall, ServerMetrics};
use crate::rpc::split_grpc_path;

/// What a server trace layer does for its protocol.
pub trait TraceRule: Clone {
    /// What the layer keeps of a call until its answer (gRPC: the call's metrics).
    type Call;
    /// The answer's body, as the layer passes it on.
    type Body<B>;
    /// The span of `request`, already parented, and what to keep of the call.
    fn open<B>(&self, request: &Request<B>) -> (Span, Self::Call);
    /// The answer came: record it on `span`.
    fn answered<B>(span: &Span, call: Self::Call, response: Response<B>)
    -> Response<Self::Body<B>>;
    /// The service failed without an answer.
    fn failed(span: &Span, call: Self::Call);
}

/// The service of a server trace layer: the call runs inside its span.
#[derive(Clone, Debug)]
pub struct ServerTrace<S, R> {
    inner: S,
    rule: R,
}

impl<S, R, B, ResBody> Service<Request<B>> for ServerTrace<S, R>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    R: TraceRule,
{
    type Response = Response<R::Body<ResBody>>;
    type Error = S::Error;
    type Future = ServerTraceFuture<S::Future, R>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (span, call) = self.rule.open(&request);
        let inner = span.in_scope(|| self.inner.call(request));
        ServerTraceFuture {
            inner,
            span,
            call: Some(call),
            rule: std::marker::PhantomData,
        }
    }
}

pin_project_lite::pin_project! {
    /// Response future of [`ServerTrace`].
    pub struct ServerTraceFuture<F, R: TraceRule> {
        #[pin]
        inner: F,
        span: Span,
        call: Option<R::Call>,
        rule: std::marker::PhantomData<fn() -> R>,
    }
}

impl<F, R, ResBody, E> Future for ServerTraceFuture<F, R>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    R: TraceRule,
{
    type Output = Result<Response<R::Body<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = {
            let _entered = this.span.enter();
            std::task::ready!(this.inner.poll(cx))
        };
        let call = this.call.take();
        match (result, call) {
            (Ok(response), Some(call)) => Poll::Ready(Ok(R::answered(this.span, call, response))),
            (Err(error), call) => {
                if let Some(call) = call {
                    R::failed(this.span, call);
                }
                Poll::Ready(Err(error))
            }
            // Polled again after its answer: a future's contract violation.
            (Ok(_), None) => Poll::Pending,
        }
    }
}

/// Server layer of one component: opens a `grpc` span per request, child of the caller's
/// trace context, recording the final `grpc-status` (from trailers-only headers or from the
/// trailers), and records the call's metrics ([`crate::metrics`]) when its status is known or
/// the caller goes away (streams: at their end).
#[derive(Clone, Debug)]
pub struct GrpcTraceLayer {
    component: &'static str,
    metrics: Arc<ServerMetrics>,
    context: opentelemetry::Context,
    known: Option<Arc<HashSet<String>>>,
}

impl GrpcTraceLayer {
    /// The layer of a server of `component` (`gateway`, `citizen`, `population-db`...): its
    /// spans, and every span beneath them, are exported under that `service.name`, and its
    /// metrics are labelled with it.
    pub fn new(component: &'static str) -> Self {
        Self {
            component,
            metrics: Arc::new(ServerMetrics::new(component)),
            context: component_context(component),
            known: None,
        }
    }

    /// Names in spans and metric labels only these methods (`/package.Service/Method`); any
    /// other path is `other`, so a made-up path can neither grow the metrics nor carry
    /// personal data (an ID number in a path) into spans and labels.
    pub fn with_methods(mut self, methods: impl IntoIterator<Item = String>) -> Self {
        self.known = Some(Arc::new(methods.into_iter().collect()));
        self
    }
}

impl Default for GrpcTraceLayer {
    /// The layer of a server named after the process ([`service_name`]).
    fn default() -> Self {
        Self::new(service_name())
    }
}

impl<S> Layer<S> for GrpcTraceLayer {
    type Service = GrpcTrace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ServerTrace {
            inner,
            rule: self.clone(),
        }
    }
}

/// What spans and metrics call a path the server does not serve.
const OTHER_PATH: &str = "other";

/// The service of [`GrpcTraceLayer`].
pub type GrpcTrace<S> = ServerTrace<S, GrpcTraceLayer>;

/// Response future of [`GrpcTrace`].
pub type TracedFuture<F> = ServerTraceFuture<F, GrpcTraceLayer>;

impl TraceRule for GrpcTraceLayer {
    type Call = RpcCall;
    type Body<B> = TracedBody<B>;

    fn open<B>(&self, request: &Request<B>) -> (Span, RpcCall) {
        let path = request.uri().path();
        let path = if self.known.as_ref().is_none_or(|known| known.contains(path)) {
            path
        } else {
            OTHER_PATH
        };
        let call = self.metrics.start(path);
        let (service, method) = split_grpc_path(path).unwrap_or(("other", "other"));
        // Who the edge says is calling, for audit: the client, and the citizen masked.
        let caller = crate::caller::Caller::from_headers(request.headers());
        let span = tracing::info_span!(
            "grpc",
            otel.name = path,
            caller.client = caller.client_id.as_deref().unwrap_or_default(),
            caller.subject = caller
                .subject
                .as_deref()
                .map(crate::mask::citizen_id)
                .unwrap_or_default(),
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            component = self.component,
            rpc.system = "grpc",
            rpc.service = service,
            rpc.method = method,
            rpc.grpc.status_code = tracing::field::Empty,
            traceparent = request
                .headers()
                .get("traceparent")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default(),
        );
        // A server span is a root of its component: a child of the caller's context only, never
        // of whatever span this task happens to be in. The context carries the component to
        // every span beneath.
        set_server_parent(&span, &self.context, request.headers());
        (span, call)
    }

    fn answered<B>(span: &Span, call: RpcCall, response: Response<B>) -> Response<TracedBody<B>> {
        let mut call = Some(call);
        if let Some(code) = record_grpc_status(span, response.headers())
            && let Some(call) = call.take()
        {
            call.finish(code);
        }
        let span = span.clone();
        response.map(|inner| TracedBody { inner, span, call })
    }

    fn failed(_span: &Span, call: RpcCall) {
        call.finish(tonic::Code::Unknown);
    }
}

pin_project_lite::pin_project! {
    /// Response body of [`GrpcTrace`]: records the status from the trailers and keeps the span
    /// open until the stream ends.
    pub struct TracedBody<B> {
        #[pin]
        inner: B,
        span: Span,
        // The call until its status is known.
        call: Option<RpcCall>,
    }
}

impl<B: Body> Body for TracedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = std::task::ready!(this.inner.poll_frame(cx));
        if this.call.is_some() {
            let code = match &frame {
                Some(Ok(frame)) => frame.trailers_ref().map(|trailers| {
                    record_grpc_status(this.span, trailers).unwrap_or(tonic::Code::Unknown)
                }),
                // A broken stream, or one ending without a status.
                Some(Err(_)) | None => Some(tonic::Code::Unknown),
            };
            if let Some(code) = code
                && let Some(call) = this.call.take()
            {
                call.finish(code);
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Records `grpc-status` from `headers` on `span`; `None` when there is none.
fn record_grpc_status(span: &Span, headers: &HeaderMap) -> Option<tonic::Code> {
    let code = headers
        .get("grpc-status")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<i32>().ok())?;
    span.record("rpc.grpc.status_code", code);
    let code = tonic::Code::from_i32(code);
    // Server-side errors per the OpenTelemetry gRPC conventions; client errors are not the
    // server's fault.
    if matches!(
        code,
        tonic::Code::Unknown
            | tonic::Code::DeadlineExceeded
            | tonic::Code::Unimplemented
            | tonic::Code::Internal
            | tonic::Code::Unavailable
            | tonic::Code::DataLoss
    ) {
        span.record("otel.status_code", "ERROR");
    }
    Some(code)
}

/// Server layer opening an `http` span per request, child of the caller's trace context
/// (`traceparent`), recording the method, the route (see [`crate::http::record_http_route`]) and
/// the status.
#[derive(Clone, Debug)]
pub struct HttpTraceLayer {
    component: &'static str,
    context: opentelemetry::Context,
}

impl HttpTraceLayer {
    /// The layer of a server of `component`: its spans, and every span beneath them, are
    /// exported under that `service.name`, as on the gRPC side.
    pub fn new(component: &'static str) -> Self {
        Self {
            component,
            context: component_context(component),
        }
    }
}

impl<S> Layer<S> for HttpTraceLayer {
    type Service = HttpTrace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ServerTrace {
            inner,
            rule: self.clone(),
        }
    }
}

/// The service of [`HttpTraceLayer`].
pub type HttpTrace<S> = ServerTrace<S, HttpTraceLayer>;

/// Response future of [`HttpTrace`].
pub type HttpTracedFuture<F> = ServerTraceFuture<F, HttpTraceLayer>;

impl TraceRule for HttpTraceLayer {
    type Call = ();
    type Body<B> = B;

    fn open<B>(&self, request: &Request<B>) -> (Span, ()) {
        let span = tracing::info_span!(
            "http",
            otel.name = request.method().as_str(),
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            component = self.component,
            http.request.method = request.method().as_str(),
            http.route = tracing::field::Empty,
            http.response.status_code = tracing::field::Empty,
            traceparent = request
                .headers()
                .get("traceparent")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default(),
        );
        set_server_parent(&span, &self.context, request.headers());
        (span, ())
    }

    fn answered<B>(span: &Span, (): (), response: Response<B>) -> Response<B> {
        let status = response.status();
        span.record("http.response.status_code", status.as_u16());
        // Server errors only, per the OpenTelemetry HTTP conventions.
        if status.is_server_error() {
            span.record("otel.status_code", "ERROR");
        }
        response
    }

    fn failed(_span: &Span, (): ()) {}
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::{SpanData, SpanExporter};
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;
    use crate::telemetry::tracer_provider;

    /// Keeps every exported span with the `service.name` it was exported under.
    #[derive(Clone, Debug, Default)]
    struct Collector {
        service: Arc<std::sync::Mutex<String>>,
        spans: Arc<std::sync::Mutex<Vec<(String, String)>>>,
    }

    impl SpanExporter for Collector {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            let service = self.service.lock().unwrap().clone();
            let mut spans = self.spans.lock().unwrap();
            spans.extend(
                batch
                    .into_iter()
                    .map(|span| (service.clone(), span.name.into_owned())),
            );
            Ok(())
        }

        fn set_resource(&mut self, resource: &Resource) {
            let name = resource.get(&opentelemetry::Key::from_static_str("service.name"));
            *self.service.lock().unwrap() = name.map(|v| v.to_string()).unwrap_or_default();
        }
    }

    #[test]
    fn spans_beneath_a_server_span_are_exported_under_its_component() {
        // The caller's context is read with the W3C propagator, as `init` installs it.
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let collector = Collector::default();
        let provider = tracer_provider("suite", collector.clone());
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            let handler = tower::service_fn(|_: Request<()>| async {
                tracing::info_span!("handler").in_scope(|| {
                    tracing::info_span!("lookup").in_scope(|| {});
                });
                Ok::<_, std::convert::Infallible>(Response::new(()))
            });
            let mut server = GrpcTraceLayer::new("citizen").layer(handler);
            let request = Request::builder()
                .uri("/sandbox06.citizen.v1.CitizenService/GetCitizen")
                .header(
                    "traceparent",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                )
                .body(())
                .unwrap();
            futures::executor::block_on(server.call(request)).unwrap();
            tracing::info_span!("housekeeping").in_scope(|| {});
        });
        provider.force_flush().unwrap();

        let mut spans = collector.spans.lock().unwrap().clone();
        spans.sort();
        let named = |service: &str, span: &str| (service.to_owned(), span.to_owned());
        assert_eq!(
            spans,
            [
                named("citizen", "/sandbox06.citizen.v1.CitizenService/GetCitizen"),
                named("citizen", "handler"),
                named("citizen", "lookup"),
                named("suite", "housekeeping"),
            ]
        );
    }
}
