//! The process registry: one meter provider with the RPC instruments, read on demand (for the
//! Prometheus text) and pushed over OTLP when export is on.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use opentelemetry::metrics::{Counter, Histogram, MeterProvider as _, UpDownCounter};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{
    InstrumentKind, ManualReader, PeriodicReader, Pipeline, SdkMeterProvider, Temporality,
};

/// Upper bounds of the latency buckets, in seconds: sub-millisecond in-process hops to slow
/// upstreams.
const DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process registry: the meter provider, its on-demand reader and the RPC instruments.
pub(super) struct Registry {
    provider: SdkMeterProvider,
    pub(super) reader: SharedReader,
    pub(super) requests: Counter<u64>,
    pub(super) duration: Histogram<f64>,
    pub(super) active: UpDownCounter<i64>,
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();

/// The reader pushing the registry over OTLP.
pub(crate) type OtlpReader = PeriodicReader<opentelemetry_otlp::MetricExporter>;

impl Registry {
    fn new(resource: Resource, export: Option<OtlpReader>) -> Self {
        let reader = SharedReader(Arc::new(ManualReader::builder().build()));
        let mut builder = SdkMeterProvider::builder()
            .with_resource(resource)
            .with_reader(reader.clone());
        if let Some(export) = export {
            builder = builder.with_reader(export);
        }
        let provider = builder.build();
        let meter = provider.meter("sandbox06");
        Self {
            requests: meter
                .u64_counter("rpc.server.requests")
                .with_description("gRPC calls served, by final code")
                .with_unit("{request}")
                .build(),
            duration: meter
                .f64_histogram("rpc.server.duration")
                .with_description(
                    "time from a call's arrival to its final status, streams included",
                )
                .with_unit("s")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            active: meter
                .i64_up_down_counter("rpc.server.active_requests")
                .with_description("gRPC calls being served")
                .with_unit("{request}")
                .build(),
            provider,
            reader,
        }
    }
}

/// The registry, created without OTLP export when [`install`] did not run first (tests).
pub(super) fn registry() -> &'static Registry {
    REGISTRY.get_or_init(|| Registry::new(Resource::builder().build(), None))
}

/// Creates the process registry with `resource`, exporting through `export` too; returns the
/// provider to shut down at exit, or `None` when the registry already existed.
pub(crate) fn install(resource: Resource, export: Option<OtlpReader>) -> Option<SdkMeterProvider> {
    let mut created = false;
    let registry = REGISTRY.get_or_init(|| {
        created = true;
        Registry::new(resource, export)
    });
    created.then(|| registry.provider.clone())
}

/// The ManualReader, shared between the provider (which owns its readers) and the renderer.
#[derive(Clone, Debug)]
pub(super) struct SharedReader(Arc<ManualReader>);

impl MetricReader for SharedReader {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.0.register_pipeline(pipeline);
    }

    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}
