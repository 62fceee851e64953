//! The global subscriber, propagator and tracer and meter providers of a process.

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer as _};

use super::export::tracer_provider;
use super::propagation::TraceparentLayer;
use super::{METRICS_EXPORTER_ENV, OTLP_ENDPOINT_ENV, SERVICE_NAME, SERVICE_NAMESPACE};
use crate::config::{LogFormat, TelemetryConfig};

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
pub(super) fn resource(service_name: &str) -> Resource {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn init_twice_does_not_panic() {
        let cfg = TelemetryConfig::default();
        let first = init("telemetry-test", &cfg);
        let second = init("telemetry-test", &cfg);
        assert!(first.is_ok() || matches!(first, Err(TelemetryError::AlreadyInitialized)));
        assert!(matches!(second, Err(TelemetryError::AlreadyInitialized)));
    }
}
