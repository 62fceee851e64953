//! Logs, traces and metrics, set up in one place: `tracing` with an env filter and text or JSON
//! lines, OpenTelemetry OTLP export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, W3C trace context
//! carried across every gRPC hop (server: [`GrpcTraceLayer`]; client: [`TraceContextInterceptor`]),
//! and request metrics per RPC ([`crate::metrics`]).
//!
//! Each component has its own `service.name`, also when several run in one process (`up`): a
//! server names its component ([`GrpcTraceLayer::new`]), every span beneath its server span is
//! marked with it, and spans are exported under their component's resource.
//!
//! - `setup`: [`init`], the global subscriber, propagator and providers of a process;
//! - `export`: how spans are exported, each under its component's resource;
//! - `propagation`: W3C trace context in and out of headers and gRPC metadata, and the client
//!   interceptor;
//! - `layer`: the server trace layer, one for gRPC ([`GrpcTraceLayer`]) and HTTP
//!   ([`HttpTraceLayer`]), which also records the request metrics ([`crate::metrics`]).
//!
//! Telemetry depends on metrics, never the reverse.

use std::sync::OnceLock;

mod export;
mod layer;
mod propagation;
mod setup;

pub use crate::rpc::split_grpc_path;
pub use export::tracer_provider;
pub use layer::{
    GrpcTrace, GrpcTraceLayer, HttpTrace, HttpTraceLayer, HttpTracedFuture, ServerTrace,
    ServerTraceFuture, TraceRule, TracedBody, TracedFuture,
};
pub use propagation::{
    TraceContextInterceptor, component_context, extract_context, inject_context,
    inject_span_context, set_remote_parent, set_server_parent,
};
pub use setup::{TelemetryError, TelemetryGuard, init};

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
