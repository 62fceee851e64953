//! Span export: every span beneath a server span is marked with that server's component, and
//! exported under the component's resource (its `service.name`).

use std::time::Duration;

use opentelemetry::trace::TraceContextExt;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter, SpanProcessor};

use super::COMPONENT_ATTRIBUTE;
use super::setup::resource;

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
pub(super) struct Component(pub(super) &'static str);

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
