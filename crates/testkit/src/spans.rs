//! The spans a test's suite exports, kept in memory as a collector would keep them: each with
//! the resource (the component's `service.name`) it was exported under.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use opentelemetry::Key;
use opentelemetry::trace::{TraceId, TracerProvider as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing_subscriber::layer::SubscriberExt;

/// Keeps every exported span with the resource it was exported under.
#[derive(Clone, Debug, Default)]
pub struct Collector {
    resource: Arc<Mutex<Option<Resource>>>,
    spans: Arc<Mutex<Vec<(Resource, SpanData)>>>,
}

impl SpanExporter for Collector {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let resource = self
            .resource
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_else(|| Resource::builder_empty().build());
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(batch.into_iter().map(|span| (resource.clone(), span)));
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        *self.resource.lock().unwrap_or_else(PoisonError::into_inner) = Some(resource.clone());
    }
}

impl Collector {
    /// The spans of `trace` (32 hex digits), each with its resource; none for a malformed id.
    pub fn trace(&self, trace: &str) -> Vec<(Resource, SpanData)> {
        let Ok(trace) = TraceId::from_hex(trace) else {
            return Vec::new();
        };
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(_, s)| s.span_context.trace_id() == trace)
            .cloned()
            .collect()
    }

    /// The `service.name` of every span of `trace`.
    pub fn services_of(&self, trace: &str) -> BTreeSet<String> {
        self.trace(trace)
            .iter()
            .map(|(resource, _)| {
                resource
                    .get(&Key::from_static_str("service.name"))
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            })
            .collect()
    }
}

/// The test process's one subscriber, exporting through the suite's own tracer provider (as
/// `telemetry::init` builds it) into a [`Collector`], with the W3C trace-context propagator.
/// Installed on first use; every later call returns the same pair.
pub fn telemetry() -> &'static (SdkTracerProvider, Collector) {
    static TELEMETRY: OnceLock<(SdkTracerProvider, Collector)> = OnceLock::new();
    TELEMETRY.get_or_init(|| {
        let collector = Collector::default();
        let provider =
            sandbox06_runtime::telemetry::tracer_provider("sandbox06", collector.clone());
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        // A test binary that installed its own subscriber first keeps it.
        let _ = tracing::subscriber::set_global_default(subscriber);
        (provider, collector)
    })
}
