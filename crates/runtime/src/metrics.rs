//! Request metrics per RPC, recorded by every component's server
//! ([`crate::telemetry::GrpcTraceLayer`]): a count and a latency histogram by component,
//! service, method and gRPC code, and the calls in flight. One process registry holds every
//! component's series (all of them under `up`), exported over OTLP when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and readable as Prometheus text ([`render_prometheus`],
//! [`metrics_router`]).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};

use opentelemetry::KeyValue;
use opentelemetry::metrics::{
    BoundCounter, BoundHistogram, BoundUpDownCounter, Counter, Histogram, MeterProvider as _,
    UpDownCounter,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{
    InstrumentKind, ManualReader, PeriodicReader, Pipeline, SdkMeterProvider, Temporality,
};

/// Content type of the Prometheus text exposition format.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the latency buckets, in seconds: sub-millisecond in-process hops to slow
/// upstreams.
const DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Distinct methods a server labels on its own; any further path shares one `other` series, so
/// callers inventing paths cannot grow the registry without bound.
const MAX_METHODS_PER_SERVER: usize = 256;

/// How many gRPC codes there are (0 to 16).
const CODES: usize = 17;

/// The process registry: the meter provider, its on-demand reader and the RPC instruments.
struct Registry {
    provider: SdkMeterProvider,
    reader: SharedReader,
    requests: Counter<u64>,
    duration: Histogram<f64>,
    active: UpDownCounter<i64>,
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
fn registry() -> &'static Registry {
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
struct SharedReader(Arc<ManualReader>);

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

/// The series of one method of one component, bound to their labels once, so a call records
/// without hashing its labels: the in-flight gauge at once, the count and latency of a code on
/// its first use (an unused code shows no series).
struct MethodSeries {
    labels: [KeyValue; 3],
    active: BoundUpDownCounter<i64>,
    by_code: [OnceLock<CodeSeries>; CODES],
}

struct CodeSeries {
    requests: BoundCounter<u64>,
    duration: BoundHistogram<f64>,
}

impl MethodSeries {
    fn new(registry: &Registry, component: &'static str, service: &str, method: &str) -> Self {
        let labels = [
            KeyValue::new("component", component),
            KeyValue::new("service", service.to_owned()),
            KeyValue::new("method", method.to_owned()),
        ];
        Self {
            active: registry.active.bind(&labels),
            labels,
            by_code: Default::default(),
        }
    }

    /// The count and latency series of `code`.
    fn code(&self, registry: &Registry, code: tonic::Code) -> Option<&CodeSeries> {
        // Every `tonic::Code` is 0..=16, so both lookups always succeed.
        let index = code as usize;
        let name = crate::error::code_name(code);
        let series = self.by_code.get(index)?.get_or_init(|| {
            let [component, service, method] = self.labels.clone();
            let labels = [component, service, method, KeyValue::new("code", name)];
            CodeSeries {
                requests: registry.requests.bind(&labels),
                duration: registry.duration.bind(&labels),
            }
        });
        Some(series)
    }
}

/// The RPC metrics of one server: the series of each method, looked up by the request path.
pub(crate) struct ServerMetrics {
    component: &'static str,
    methods: RwLock<HashMap<Box<str>, Arc<MethodSeries>>>,
    // Bound on first use, so a server that never sees an unknown path shows no such series.
    other: OnceLock<Arc<MethodSeries>>,
}

impl std::fmt::Debug for ServerMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerMetrics")
            .field("component", &self.component)
            .finish_non_exhaustive()
    }
}

impl ServerMetrics {
    /// Metrics of a server of `component`.
    pub(crate) fn new(component: &'static str) -> Self {
        Self {
            component,
            methods: RwLock::default(),
            other: OnceLock::new(),
        }
    }

    /// Counts a call to `path` in flight until the returned guard finishes or drops.
    pub(crate) fn start(&self, path: &str) -> RpcCall {
        let series = self.series(path);
        series.active.add(1);
        RpcCall {
            series,
            started: Instant::now(),
            recorded: false,
        }
    }

    /// The series shared by unparsable paths and methods beyond the limit.
    fn other(&self) -> Arc<MethodSeries> {
        let series = self.other.get_or_init(|| {
            Arc::new(MethodSeries::new(
                registry(),
                self.component,
                "other",
                "other",
            ))
        });
        Arc::clone(series)
    }

    fn series(&self, path: &str) -> Arc<MethodSeries> {
        if let Ok(methods) = self.methods.read()
            && let Some(labels) = methods.get(path)
        {
            return Arc::clone(labels);
        }
        let Some((service, method)) = crate::rpc::split_grpc_path(path) else {
            return self.other();
        };
        let Ok(mut methods) = self.methods.write() else {
            return self.other();
        };
        if let Some(labels) = methods.get(path) {
            return Arc::clone(labels);
        }
        if methods.len() >= MAX_METHODS_PER_SERVER {
            return self.other();
        }
        let series = Arc::new(MethodSeries::new(
            registry(),
            self.component,
            service,
            method,
        ));
        methods.insert(path.into(), Arc::clone(&series));
        series
    }
}

/// One call being served; records its code and latency once, on [`RpcCall::finish`] or, for a
/// call abandoned before its status (the caller went away), as `CANCELLED` on drop.
pub(crate) struct RpcCall {
    series: Arc<MethodSeries>,
    started: Instant,
    recorded: bool,
}

impl RpcCall {
    /// Records the call's final gRPC `code`.
    pub(crate) fn finish(mut self, code: tonic::Code) {
        self.record(code);
    }

    fn record(&mut self, code: tonic::Code) {
        if std::mem::replace(&mut self.recorded, true) {
            return;
        }
        if let Some(series) = self.series.code(registry(), code) {
            series.requests.add(1);
            series.duration.record(self.started.elapsed().as_secs_f64());
        }
        self.series.active.add(-1);
    }
}

impl Drop for RpcCall {
    fn drop(&mut self) {
        self.record(tonic::Code::Cancelled);
    }
}

/// The process registry in the Prometheus text exposition format (version 0.0.4).
pub fn render_prometheus() -> String {
    let mut collected = ResourceMetrics::default();
    let mut out = String::new();
    if let Err(error) = registry().reader.collect(&mut collected) {
        tracing::warn!(%error, "metrics collection failed");
        return out;
    }
    for scope in collected.scope_metrics() {
        for metric in scope.metrics() {
            render_metric(&mut out, metric);
        }
    }
    out
}

/// A router serving `GET /metrics` ([`render_prometheus`]), for the edge to mount.
pub fn metrics_router() -> axum::Router {
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(|| async {
            (
                [(http::header::CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE)],
                render_prometheus(),
            )
        }),
    )
}

/// A sample value as Prometheus writes it.
trait SampleValue: Copy {
    fn write(self, out: &mut String);
}

impl SampleValue for u64 {
    fn write(self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl SampleValue for i64 {
    fn write(self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl SampleValue for f64 {
    fn write(self, out: &mut String) {
        if self.is_nan() {
            out.push_str("NaN");
        } else if self.is_infinite() {
            out.push_str(if self > 0.0 { "+Inf" } else { "-Inf" });
        } else {
            let _ = write!(out, "{self}");
        }
    }
}

fn render_metric(out: &mut String, metric: &Metric) {
    match metric.data() {
        AggregatedMetrics::F64(data) => render_data(out, metric, data),
        AggregatedMetrics::U64(data) => render_data(out, metric, data),
        AggregatedMetrics::I64(data) => render_data(out, metric, data),
    }
}

fn render_data<T: SampleValue>(out: &mut String, metric: &Metric, data: &MetricData<T>) {
    let mut name = prometheus_name(metric.name(), metric.unit());
    // One family's samples, each a label set and its lines, sorted so scrapes compare.
    let mut samples: Vec<(String, String)> = Vec::new();
    let kind = match data {
        MetricData::Sum(sum) => {
            if sum.is_monotonic() {
                name.push_str("_total");
            }
            for point in sum.data_points() {
                let labels = labels(point.attributes(), None);
                samples.push((labels.clone(), sample(&name, "", &labels, point.value())));
            }
            if sum.is_monotonic() {
                "counter"
            } else {
                "gauge"
            }
        }
        MetricData::Gauge(gauge) => {
            for point in gauge.data_points() {
                let labels = labels(point.attributes(), None);
                samples.push((labels.clone(), sample(&name, "", &labels, point.value())));
            }
            "gauge"
        }
        MetricData::Histogram(histogram) => {
            for point in histogram.data_points() {
                let mut lines = String::new();
                let mut cumulative = 0u64;
                for (bound, count) in point.bounds().zip(point.bucket_counts()) {
                    cumulative += count;
                    let mut le = String::new();
                    bound.write(&mut le);
                    let labels = labels(point.attributes(), Some(&le));
                    lines.push_str(&sample(&name, "_bucket", &labels, cumulative));
                }
                let labels_inf = labels(point.attributes(), Some("+Inf"));
                lines.push_str(&sample(&name, "_bucket", &labels_inf, point.count()));
                let labels = labels(point.attributes(), None);
                lines.push_str(&sample(&name, "_sum", &labels, point.sum()));
                lines.push_str(&sample(&name, "_count", &labels, point.count()));
                samples.push((labels, lines));
            }
            "histogram"
        }
        // Not produced by this registry (no exponential-histogram view is configured).
        MetricData::ExponentialHistogram(_) => return,
    };
    samples.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let _ = writeln!(out, "# HELP {name} {}", escape_help(metric.description()));
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (_, lines) in samples {
        out.push_str(&lines);
    }
}

/// The Prometheus name of an OpenTelemetry instrument: dots to underscores, seconds suffixed.
fn prometheus_name(name: &str, unit: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if unit == "s" && !out.ends_with("_seconds") {
        out.push_str("_seconds");
    }
    out
}

/// `{k="v",...}` of a data point, keys sorted, with `le` last for histogram buckets; empty
/// without labels.
fn labels<'a>(attributes: impl Iterator<Item = &'a KeyValue>, le: Option<&str>) -> String {
    let mut out = String::new();
    let mut first = true;
    let mut pair = |out: &mut String, key: &str, value: &str| {
        out.push(if first { '{' } else { ',' });
        first = false;
        for c in key.chars() {
            out.push(if c.is_ascii_alphanumeric() { c } else { '_' });
        }
        out.push_str("=\"");
        escape_label_value(out, value);
        out.push('"');
    };
    // The SDK keeps a series' attributes in the order first recorded; scrapes compare sorted.
    let mut attributes: Vec<&KeyValue> = attributes.collect();
    attributes.sort_unstable_by(|a, b| a.key.as_str().cmp(b.key.as_str()));
    for kv in attributes {
        pair(&mut out, kv.key.as_str(), &kv.value.as_str());
    }
    if let Some(le) = le {
        pair(&mut out, "le", le);
    }
    if !out.is_empty() {
        out.push('}');
    }
    out
}

fn sample<T: SampleValue>(name: &str, suffix: &str, labels: &str, value: T) -> String {
    let mut line = format!("{name}{suffix}{labels} ");
    value.write(&mut line);
    line.push('\n');
    line
}

fn escape_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use tonic_health::ServingStatus;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;

    use super::*;
    use crate::config::Limits;
    use crate::server::{ServerBuilder, bind};

    /// Serves health (and reflection) as `component` on an ephemeral port; returns its URL, the
    /// stop switch and the server task.
    async fn serve(
        component: &'static str,
    ) -> (
        String,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    ) {
        let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let builder = ServerBuilder::new(&Limits::default()).component(component);
        builder
            .health_reporter()
            .set_service_status("sandbox06.test.v1.Served", ServingStatus::Serving)
            .await;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            builder
                .serve(listener, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        (url, stop, task)
    }

    /// The value of the sample line `name{labels}` in `text`.
    fn sample_value(text: &str, name_and_labels: &str) -> Option<f64> {
        text.lines().find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            (series == name_and_labels).then(|| value.parse().ok())?
        })
    }

    #[tokio::test]
    async fn a_call_is_counted_with_its_code_and_timed() {
        let (url, stop, task) = serve("metrics-unary").await;
        let mut client = HealthClient::new(crate::grpc_channel(&url).unwrap());
        let check = |service: &str| HealthCheckRequest {
            service: service.to_owned(),
        };
        client
            .check(check("sandbox06.test.v1.Served"))
            .await
            .unwrap();
        client
            .check(check("sandbox06.test.v1.Served"))
            .await
            .unwrap();
        let missing = client.check(check("sandbox06.test.v1.Missing")).await;
        assert_eq!(missing.unwrap_err().code(), tonic::Code::NotFound);

        let text = render_prometheus();
        let series = |code: &str| {
            format!(
                "{{code=\"{code}\",component=\"metrics-unary\",method=\"Check\",service=\"grpc.health.v1.Health\"}}"
            )
        };
        assert_eq!(
            sample_value(&text, &format!("rpc_server_requests_total{}", series("OK"))),
            Some(2.0),
            "{text}"
        );
        assert_eq!(
            sample_value(
                &text,
                &format!("rpc_server_requests_total{}", series("NOT_FOUND"))
            ),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            sample_value(
                &text,
                &format!("rpc_server_duration_seconds_count{}", series("OK"))
            ),
            Some(2.0),
            "{text}"
        );
        assert_eq!(
            sample_value(
                &text,
                "rpc_server_active_requests{component=\"metrics-unary\",method=\"Check\",service=\"grpc.health.v1.Health\"}"
            ),
            Some(0.0),
            "{text}"
        );
        drop(client);
        stop.send(()).unwrap();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn a_stream_is_in_flight_until_it_ends() {
        let (url, stop, task) = serve("metrics-stream").await;
        let mut client = HealthClient::new(crate::grpc_channel(&url).unwrap());
        let mut watch = client
            .watch(HealthCheckRequest {
                service: "sandbox06.test.v1.Served".to_owned(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(watch.message().await.unwrap().is_some());
        let base =
            "component=\"metrics-stream\",method=\"Watch\",service=\"grpc.health.v1.Health\"";
        let active = format!("rpc_server_active_requests{{{base}}}");
        assert_eq!(sample_value(&render_prometheus(), &active), Some(1.0));

        // The caller goes away; the server has drained every call once it stops.
        drop(watch);
        drop(client);
        stop.send(()).unwrap();
        task.await.unwrap();
        let text = render_prometheus();
        assert_eq!(sample_value(&text, &active), Some(0.0), "{text}");
        assert_eq!(
            sample_value(
                &text,
                &format!("rpc_server_requests_total{{code=\"CANCELLED\",{base}}}")
            ),
            Some(1.0),
            "{text}"
        );
    }

    #[tokio::test]
    async fn invented_paths_share_one_series() {
        let metrics = ServerMetrics::new("metrics-paths");
        for i in 0..MAX_METHODS_PER_SERVER + 10 {
            metrics
                .start(&format!("/pkg.Service/Method{i}"))
                .finish(tonic::Code::Unimplemented);
        }
        metrics
            .start("not a grpc path")
            .finish(tonic::Code::Unimplemented);
        let text = render_prometheus();
        let labelled = text
            .lines()
            .filter(|l| {
                l.starts_with("rpc_server_requests_total{")
                    && l.contains("component=\"metrics-paths\"")
            })
            .count();
        assert_eq!(labelled, MAX_METHODS_PER_SERVER + 1, "{text}");
        assert_eq!(
            sample_value(
                &text,
                "rpc_server_requests_total{code=\"UNIMPLEMENTED\",component=\"metrics-paths\",method=\"other\",service=\"other\"}"
            ),
            Some(11.0)
        );
    }

    /// Checks `text` against the text exposition format: every family announced by HELP and
    /// TYPE before its samples, sample names of that family, well-formed labels and values,
    /// histogram buckets cumulative and ending in `+Inf` equal to the count.
    fn assert_well_formed(text: &str) {
        let mut family: Option<(String, String)> = None;
        let mut helped: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        let mut last_bucket: Option<(String, f64)> = None;
        let mut inf_buckets = HashMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().unwrap();
                assert!(seen.insert(name.to_owned()), "family {name} twice");
                helped = Some(name.to_owned());
                continue;
            }
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert_eq!(helped.as_deref(), Some(name), "TYPE without HELP: {line}");
                assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
                family = Some((name.to_owned(), kind.to_owned()));
                continue;
            }
            assert!(
                !line.starts_with('#') && !line.is_empty(),
                "stray line {line:?}"
            );
            let (name, kind) = family.as_ref().expect("a sample before any TYPE");
            let (series, value) = line.rsplit_once(' ').unwrap();
            let value: f64 = match value {
                "+Inf" => f64::INFINITY,
                v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
            };
            let (sample_name, labels) = match series.split_once('{') {
                Some((n, l)) => (n, l.strip_suffix('}').expect("labels closed")),
                None => (series, ""),
            };
            let valid_name = |n: &str| {
                n.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            };
            assert!(valid_name(sample_name), "{line}");
            let suffixes: &[&str] = if kind == "histogram" {
                &["_bucket", "_sum", "_count"]
            } else {
                &[""]
            };
            assert!(
                suffixes.iter().any(|s| sample_name == format!("{name}{s}")),
                "{sample_name} outside family {name}"
            );
            let mut le = None;
            let mut rest = labels;
            while !rest.is_empty() {
                let (key, after) = rest.split_once("=\"").expect("label key=\"value\"");
                assert!(valid_name(key), "label {key} in {line}");
                let mut end = None;
                let mut escaped = false;
                for (i, c) in after.char_indices() {
                    match (escaped, c) {
                        (true, _) => escaped = false,
                        (false, '\\') => escaped = true,
                        (false, '"') => {
                            end = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
                let end = end.expect("label value closed");
                if key == "le" {
                    le = Some(after[..end].to_owned());
                }
                rest = after[end + 1..]
                    .strip_prefix(',')
                    .unwrap_or(&after[end + 1..]);
            }
            if sample_name.ends_with("_bucket") {
                let le = le.expect("a bucket has le");
                let key = labels.replace(&format!("le=\"{le}\""), "");
                if let Some((previous, count)) = &last_bucket
                    && *previous == key
                {
                    assert!(value >= *count, "buckets not cumulative: {line}");
                }
                last_bucket = Some((key.clone(), value));
                if le == "+Inf" {
                    inf_buckets.insert(key.trim_end_matches(',').to_owned(), value);
                }
            }
            if sample_name.ends_with("_count") {
                let key = labels.to_owned();
                assert_eq!(
                    inf_buckets.get(&key),
                    Some(&value),
                    "+Inf bucket != count: {line}"
                );
            }
        }
        assert!(text.ends_with('\n'));
    }

    #[tokio::test]
    async fn the_exposition_is_well_formed_and_served_at_metrics() {
        let metrics = ServerMetrics::new("metrics-format");
        metrics.start("/pkg.Service/Get").finish(tonic::Code::Ok);
        metrics
            .start("/pkg.Service/Get")
            .finish(tonic::Code::NotFound);
        drop(metrics.start("/pkg.Service/Watch"));
        let text = render_prometheus();
        assert_well_formed(&text);
        for family in [
            "# TYPE rpc_server_requests_total counter",
            "# TYPE rpc_server_duration_seconds histogram",
            "# TYPE rpc_server_active_requests gauge",
        ] {
            assert!(text.contains(family), "{family} missing from {text}");
        }

        use tower::ServiceExt as _;
        let response = metrics_router()
            .oneshot(
                http::Request::get("/metrics")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), http::StatusCode::OK);
        assert_eq!(
            response.headers()[http::header::CONTENT_TYPE],
            "text/plain; version=0.0.4; charset=utf-8"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let kv = [KeyValue::new("method", "a\"b\\c\nd")];
        assert_eq!(labels(kv.iter(), None), "{method=\"a\\\"b\\\\c\\nd\"}");
        assert_eq!(labels(std::iter::empty(), Some("+Inf")), "{le=\"+Inf\"}");
    }
}
