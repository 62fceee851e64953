//! Logs, traces and metrics, set up in one place: `tracing` with an env filter and text or JSON
//! lines, OpenTelemetry OTLP export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, W3C trace context
//! carried across every gRPC hop (server: [`GrpcTraceLayer`]; client: [`TraceContextInterceptor`]),
//! and request metrics per RPC ([`crate::metrics`]).
//!
//! Each component has its own `service.name`, also when several run in one process (`up`): a
//! server names its component ([`GrpcTraceLayer::new`]), every span beneath its server span is
//! marked with it, and spans are exported under their component's resource.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use http_body::{Body, Frame, SizeHint};
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter, SpanProcessor};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tower::{Layer, Service};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::config::{LogFormat, TelemetryConfig};
use crate::metrics::{RpcCall, ServerMetrics};

/// Variable whose presence turns OTLP trace and metric export on.
pub const OTLP_ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// Standard variable that turns OTLP metric export off when `none`.
pub const METRICS_EXPORTER_ENV: &str = "OTEL_METRICS_EXPORTER";

/// `service.namespace` of every component.
pub const SERVICE_NAMESPACE: &str = "sandbox06";

/// Span attribute naming the component a span belongs to; its value becomes the exported
/// span's `service.name`.
pub const COMPONENT_ATTRIBUTE: &str = "component";

/// The process's service name before [`init`] names it.
const DEFAULT_SERVICE_NAME: &str = "sandbox06";

static SERVICE_NAME: OnceLock<String> = OnceLock::new();

/// The service name [`init`] gave this process (`sandbox06` before): the component of servers
/// that name none.
pub fn service_name() -> &'static str {
    SERVICE_NAME
        .get()
        .map_or(DEFAULT_SERVICE_NAME, String::as_str)
}

/// Errors of [`init`].
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The log filter does not parse.
    #[error("invalid log filter {filter:?}: {source}")]
    Filter {
        /// The directives given.
        filter: String,
        /// Why they do not parse.
        source: tracing_subscriber::filter::ParseError,
    },
    /// The OTLP exporter could not be built from the `OTEL_*` variables.
    #[error("otlp exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// A global subscriber is already installed (a second `init` in one process); harmless.
    #[error("telemetry is already initialised")]
    AlreadyInitialized,
}

/// Keeps export alive; flushes and shuts the tracer and meter providers down when dropped.
#[must_use = "dropping the guard stops export"]
#[derive(Debug, Default)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
    meter_provider: Option<SdkMeterProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("trace export shutdown failed: {error}");
        }
        if let Some(provider) = self.meter_provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("metric export shutdown failed: {error}");
        }
    }
}

/// Installs the global subscriber, propagator and metrics registry for a process named
/// `service_name` (a component's name, or `sandbox06` for `up`).
///
/// `RUST_LOG` wins over `cfg.log_filter`. OTLP export (gRPC, batched) of traces and metrics is
/// on only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set and is configured by the standard `OTEL_*`
/// variables (`OTEL_METRICS_EXPORTER=none` keeps metrics local). Without it, trace context is
/// still carried across every hop, metrics are still served as Prometheus text, and nothing is
/// exported.
/// A second call returns [`TelemetryError::AlreadyInitialized`], which callers may ignore.
/// Call it inside a Tokio runtime, before any server starts: the OTLP exporters' gRPC channels
/// run on it, and metrics recorded earlier are not exported.
pub fn init(service_name: &str, cfg: &TelemetryConfig) -> Result<TelemetryGuard, TelemetryError> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let _ = SERVICE_NAME.set(service_name.to_owned());

    let filter = match EnvFilter::try_from_default_env() {
        Ok(filter) => filter,
        Err(_) => EnvFilter::try_new(&cfg.log_filter).map_err(|source| TelemetryError::Filter {
            filter: cfg.log_filter.clone(),
            source,
        })?,
    };
    // Logs go to standard error, so standard output stays the commands' own output; colours
    // only when a person reads them on a terminal.
    let fmt_layer = match cfg.log_format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .boxed(),
    };

    let export = std::env::var_os(OTLP_ENDPOINT_ENV).is_some();
    let provider = if export {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()?;
        Some(tracer_provider(service_name, exporter))
    } else {
        None
    };
    // `OTEL_METRICS_EXPORTER=none` (the standard switch) keeps metrics off a backend that takes
    // traces only, such as Jaeger.
    let metric_export = if export
        && std::env::var(METRICS_EXPORTER_ENV).map_or(true, |exporter| exporter != "none")
    {
        let exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .build()?;
        Some(PeriodicReader::builder(exporter).build())
    } else {
        None
    };
    let metric_export_on = metric_export.is_some();
    let meter_provider = crate::metrics::install(resource(service_name), metric_export);
    let metrics_late = metric_export_on && meter_provider.is_none();

    let otel_layer = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer().with_tracer(provider.tracer(service_name.to_owned()))
    });
    // Without export, no span is recorded, but the caller's `traceparent` still passes from
    // hop to hop, kept on each server span (and printed with its log lines).
    let pass_through = provider.is_none().then_some(TraceparentLayer);

    // The log filter quiets logs only: spans that carry trace context stay on at INFO.
    let installed = tracing_subscriber::registry()
        .with(otel_layer.with_filter(LevelFilter::INFO))
        .with(pass_through.with_filter(LevelFilter::INFO))
        .with(fmt_layer.with_filter(filter))
        .try_init();
    match installed {
        Ok(()) => {
            if let Some(provider) = &provider {
                opentelemetry::global::set_tracer_provider(provider.clone());
            }
            if metrics_late {
                tracing::warn!("metrics were recorded before telemetry init: not exported");
            }
            Ok(TelemetryGuard {
                provider,
                meter_provider: meter_provider.filter(|_| metric_export_on),
            })
        }
        Err(_) => {
            // The guard's drop shuts the unused provider down.
            drop(TelemetryGuard {
                provider,
                meter_provider: None,
            });
            Err(TelemetryError::AlreadyInitialized)
        }
    }
}

/// The resource of `service_name`: its name, the suite's namespace and version, and what the
/// `OTEL_RESOURCE_ATTRIBUTES` variable adds.
fn resource(service_name: &str) -> Resource {
    Resource::builder()
        .with_service_name(service_name.to_owned())
        .with_attributes(identity())
        .build()
}

fn identity() -> [KeyValue; 2] {
    [
        KeyValue::new("service.namespace", SERVICE_NAMESPACE),
        KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
    ]
}

/// A tracer provider of the process named `service_name`, batching spans into `exporter`, each
/// span under the resource of its component (its `service.name`); spans of no component go
/// under `service_name`. [`init`] builds its OTLP export with it; tests pass their exporter.
pub fn tracer_provider(
    service_name: &str,
    exporter: impl SpanExporter + 'static,
) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_span_processor(ComponentMarker)
        .with_batch_exporter(ComponentExporter {
            inner: tokio::sync::Mutex::new(exporter),
            resource: Resource::builder_empty().build(),
        })
        .with_resource(resource(service_name))
        .build()
}

/// The component whose server a request entered, carried in the OpenTelemetry context from the
/// server span to every span beneath it.
#[derive(Clone, Copy, Debug)]
struct Component(&'static str);

/// Marks each span started beneath a server span with that server's component. The server
/// span names itself with its `component` field; a span whose parent is remote (or absent)
/// is such a server span, or belongs to no component.
#[derive(Debug)]
struct ComponentMarker;

impl SpanProcessor for ComponentMarker {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &opentelemetry::Context) {
        use opentelemetry::trace::Span as _;
        if cx.has_active_span()
            && !cx.span().span_context().is_remote()
            && let Some(Component(name)) = cx.get::<Component>()
        {
            span.set_attribute(KeyValue::new(COMPONENT_ATTRIBUTE, *name));
        }
    }

    fn on_end(&self, _span: SpanData) {}

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Exports each component's spans under that component's resource, through one exporter
/// whose resource is switched per group (an OTLP request carries one resource per group).
#[derive(Debug)]
struct ComponentExporter<E> {
    inner: tokio::sync::Mutex<E>,
    /// The process's resource, from the provider.
    resource: Resource,
}

impl<E: SpanExporter> ComponentExporter<E> {
    fn resource_of(&self, component: Option<&Value>) -> Resource {
        match component {
            None => self.resource.clone(),
            Some(name) => Resource::builder_empty()
                .with_attributes(
                    self.resource
                        .iter()
                        .map(|(key, value)| KeyValue::new(key.clone(), value.clone())),
                )
                .with_service_name(name.clone())
                .build(),
        }
    }
}

impl<E: SpanExporter> SpanExporter for ComponentExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut groups: Vec<(Option<Value>, Vec<SpanData>)> = Vec::new();
        for span in batch {
            let component = span
                .attributes
                .iter()
                .find(|kv| kv.key.as_str() == COMPONENT_ATTRIBUTE)
                .map(|kv| kv.value.clone());
            match groups.iter_mut().find(|(c, _)| *c == component) {
                Some((_, spans)) => spans.push(span),
                None => groups.push((component, vec![span])),
            }
        }
        let mut inner = self.inner.lock().await;
        let mut result = Ok(());
        for (component, spans) in groups {
            inner.set_resource(&self.resource_of(component.as_ref()));
            if let Err(error) = inner.export(spans).await {
                result = Err(error);
            }
        }
        result
    }

    // Both are called between exports (the batch processor runs them in turn), so the
    // exporter is free.
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        match self.inner.try_lock() {
            Ok(inner) => inner.shutdown_with_timeout(timeout),
            Err(_) => Err(OTelSdkError::InternalFailure(
                "span export still running".into(),
            )),
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        match self.inner.try_lock() {
            Ok(inner) => inner.force_flush(),
            Err(_) => Err(OTelSdkError::InternalFailure(
                "span export still running".into(),
            )),
        }
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.clone();
        self.inner.get_mut().set_resource(resource);
    }
}

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::try_from(value),
        ) {
            self.0.insert(name, value);
        }
    }
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct MetadataInjector<'a>(&'a mut MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            MetadataKey::from_bytes(key.as_bytes()),
            MetadataValue::try_from(value),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// Writes the current span's trace context (`traceparent`, `tracestate`) into `headers`.
pub fn inject_context(headers: &mut HeaderMap) {
    inject_span_context(&Span::current(), headers);
}

/// Writes `span`'s trace context into `headers`; leaves them untouched when the span has no
/// OpenTelemetry context (export off), so an incoming `traceparent` still passes through.
pub fn inject_span_context(span: &Span, headers: &mut HeaderMap) {
    let context = span.context();
    if context.span().span_context().is_valid() {
        opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.inject_context(&context, &mut HeaderInjector(headers));
        });
    }
}

/// Reads the remote trace context from `headers` (W3C `traceparent`).
pub fn extract_context(headers: &HeaderMap) -> opentelemetry::Context {
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(headers))
    })
}

/// The context a server span of `component` starts from: it carries the component to every
/// span beneath.
pub fn component_context(component: &'static str) -> opentelemetry::Context {
    opentelemetry::Context::new().with_value(Component(component))
}

/// Makes `span` a root of its component (`context`, from [`component_context`]): a child of
/// the caller's `traceparent` only, never of whatever span this task happens to be in.
pub fn set_server_parent(span: &Span, context: &opentelemetry::Context, headers: &HeaderMap) {
    let parent = if headers.contains_key("traceparent") {
        opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract_with_context(context, &HeaderExtractor(headers))
        })
    } else {
        context.clone()
    };
    // Fails only when no OpenTelemetry layer is installed: nothing to link then.
    let _ = span.set_parent(parent);
}

/// Makes `span` a child of the remote context carried by `headers`, when there is one.
pub fn set_remote_parent(span: &Span, headers: &HeaderMap) {
    if headers.contains_key("traceparent") {
        // Fails only when no OpenTelemetry layer is installed: nothing to link then.
        let _ = span.set_parent(extract_context(headers));
    }
}

/// Client interceptor that writes the current span's trace context into every request, so the
/// next hop continues the trace, and what is left of the served call's deadline as the request's
/// `grpc-timeout`: `CitizenServiceClient::with_interceptor(channel, TraceContextInterceptor)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct TraceContextInterceptor;

impl tonic::service::Interceptor for TraceContextInterceptor {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        let span = Span::current();
        let context = span.context();
        if context.span().span_context().is_valid() {
            opentelemetry::global::get_text_map_propagator(|propagator| {
                propagator.inject_context(&context, &mut MetadataInjector(request.metadata_mut()));
            });
        } else if let Some(traceparent) = passed_traceparent(&span)
            && let Ok(value) = MetadataValue::try_from(traceparent.as_str())
        {
            request.metadata_mut().insert("traceparent", value);
        }
        // What is left of the deadline of the call being served, if it is shorter.
        if let Some(left) = crate::deadline::remaining() {
            let asked = request
                .metadata()
                .get("grpc-timeout")
                .and_then(|value| value.to_str().ok())
                .and_then(crate::deadline::parse_grpc_timeout);
            if asked.is_none_or(|asked| asked > left) {
                request.set_timeout(left);
            }
        }
        Ok(request)
    }
}

/// The caller's `traceparent`, kept on a server span when spans are not exported.
#[derive(Clone, Debug)]
struct PassedTraceparent(String);

/// The `traceparent` kept on `span` or the nearest of its ancestors.
fn passed_traceparent(span: &Span) -> Option<String> {
    span.with_subscriber(|(id, dispatch)| {
        use tracing_subscriber::registry::LookupSpan as _;
        let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
        let span = registry.span(id)?;
        span.scope().find_map(|s| {
            s.extensions()
                .get::<PassedTraceparent>()
                .map(|t| t.0.clone())
        })
    })
    .flatten()
}

/// Keeps the `traceparent` field of new spans in their extensions, for the client interceptor.
struct TraceparentLayer;

struct TraceparentVisitor(Option<String>);

impl tracing::field::Visit for TraceparentVisitor {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "traceparent" && !value.is_empty() {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, _field: &tracing::field::Field, _value: &dyn std::fmt::Debug) {}
}

impl<S> tracing_subscriber::Layer<S> for TraceparentLayer
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut visitor = TraceparentVisitor(None);
        attrs.record(&mut visitor);
        if let Some(traceparent) = visitor.0
            && let Some(span) = ctx.span(id)
        {
            span.extensions_mut().insert(PassedTraceparent(traceparent));
        }
    }
}

/// `(service, method)` of a gRPC path `/package.Service/Method`.
pub fn split_grpc_path(path: &str) -> Option<(&str, &str)> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    if service.is_empty() || method.is_empty() || method.contains('/') {
        return None;
    }
    Some((service, method))
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
        GrpcTrace {
            inner,
            component: self.component,
            metrics: Arc::clone(&self.metrics),
            context: self.context.clone(),
            known: self.known.clone(),
        }
    }
}

/// What spans and metrics call a path the server does not serve.
const OTHER_PATH: &str = "other";

/// The service of [`GrpcTraceLayer`].
#[derive(Clone, Debug)]
pub struct GrpcTrace<S> {
    inner: S,
    component: &'static str,
    metrics: Arc<ServerMetrics>,
    context: opentelemetry::Context,
    known: Option<Arc<HashSet<String>>>,
}

impl<S, B, ResBody> Service<Request<B>> for GrpcTrace<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = Response<TracedBody<ResBody>>;
    type Error = S::Error;
    type Future = TracedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
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
        let inner = span.in_scope(|| self.inner.call(request));
        TracedFuture {
            inner,
            span,
            call: Some(call),
        }
    }
}

pin_project_lite::pin_project! {
    /// Response future of [`GrpcTrace`].
    pub struct TracedFuture<F> {
        #[pin]
        inner: F,
        span: Span,
        call: Option<RpcCall>,
    }
}

impl<F, ResBody, E> Future for TracedFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<TracedBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = {
            let _entered = this.span.enter();
            std::task::ready!(this.inner.poll(cx))
        };
        let mut call = this.call.take();
        let response = match result {
            Ok(response) => response,
            Err(error) => {
                if let Some(call) = call {
                    call.finish(tonic::Code::Unknown);
                }
                return Poll::Ready(Err(error));
            }
        };
        if let Some(code) = record_grpc_status(this.span, response.headers())
            && let Some(call) = call.take()
        {
            call.finish(code);
        }
        let span = this.span.clone();
        Poll::Ready(Ok(response.map(|inner| TracedBody { inner, span, call })))
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_export_the_callers_traceparent_reaches_the_next_hop() {
        // Either this call or another test's installed the same subscriber: export is off.
        let _ = init("test", &TelemetryConfig::default());
        let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let server = tracing::info_span!("grpc", traceparent = incoming);
        let handler = tracing::info_span!(parent: &server, "handler");
        let request = handler.in_scope(|| {
            use tonic::service::Interceptor as _;
            TraceContextInterceptor
                .call(tonic::Request::new(()))
                .unwrap()
        });
        assert_eq!(request.metadata().get("traceparent").unwrap(), incoming);
        // No caller's context: nothing invented.
        let lone = tracing::info_span!("grpc", traceparent = "");
        let request = lone.in_scope(|| {
            use tonic::service::Interceptor as _;
            TraceContextInterceptor
                .call(tonic::Request::new(()))
                .unwrap()
        });
        assert!(request.metadata().get("traceparent").is_none());
    }

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

    #[test]
    fn splits_grpc_paths() {
        assert_eq!(
            split_grpc_path("/sandbox06.citizen.v1.CitizenService/VerifyCitizen"),
            Some(("sandbox06.citizen.v1.CitizenService", "VerifyCitizen"))
        );
        assert_eq!(split_grpc_path("/nope"), None);
        assert_eq!(split_grpc_path("/a/b/c"), None);
        assert_eq!(split_grpc_path("a/b"), None);
    }

    #[test]
    fn extracts_what_was_injected() {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let mut headers = HeaderMap::new();
        headers.insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        let context = extract_context(&headers);
        let span = context.span();
        let span_context = span.span_context();
        assert!(span_context.is_remote());
        assert_eq!(
            span_context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
    }

    #[tokio::test]
    async fn init_twice_does_not_panic() {
        let cfg = TelemetryConfig::default();
        let first = init("telemetry-test", &cfg);
        let second = init("telemetry-test", &cfg);
        assert!(first.is_ok() || matches!(first, Err(TelemetryError::AlreadyInitialized)));
        assert!(matches!(second, Err(TelemetryError::AlreadyInitialized)));
    }
}
