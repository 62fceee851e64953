//! W3C trace context across hops: read from a request's headers, written into an outgoing
//! request's headers or gRPC metadata, and passed on unchanged when spans are not exported.

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TraceContextExt;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::export::Component;

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
/// The served call's `x-sandbox06-fault` and `x-sandbox06-tenant` headers travel on too
/// ([`crate::faults`]), unless `headers` carry them already.
pub fn inject_span_context(span: &Span, headers: &mut HeaderMap) {
    if let Some(fault) = crate::faults::call_fault_header() {
        headers.entry(crate::faults::FAULT_HEADER).or_insert(fault);
    }
    if let Some(tenant) = crate::faults::call_tenant_header() {
        headers
            .entry(crate::faults::TENANT_HEADER)
            .or_insert(tenant);
    }
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
/// next hop continues the trace, what is left of the served call's deadline as the request's
/// `grpc-timeout`, and the served call's `x-sandbox06-fault` and `x-sandbox06-tenant` headers
/// ([`crate::faults`]):
/// `CitizenServiceClient::with_interceptor(channel, TraceContextInterceptor)`.
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
        // The faults the served call asked for, for the components behind this one.
        if let Some(fault) = crate::faults::call_fault_header()
            && !request.metadata().contains_key(crate::faults::FAULT_HEADER)
            && let Ok(value) = MetadataValue::try_from(fault.as_bytes())
        {
            request
                .metadata_mut()
                .insert(crate::faults::FAULT_HEADER, value);
        }
        // The tenant of the served call, whose rules the components behind this one apply.
        crate::faults::pass_tenant(request.metadata_mut());
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
pub(super) struct TraceparentLayer;

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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use opentelemetry_sdk::propagation::TraceContextPropagator;

    use super::*;
    use crate::config::TelemetryConfig;
    use crate::telemetry::init;

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
}
