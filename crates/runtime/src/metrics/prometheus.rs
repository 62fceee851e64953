//! The registry in the Prometheus text exposition format (version 0.0.4), and the route that
//! serves it.

use std::fmt::Write as _;

use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::reader::MetricReader as _;

use super::registry::registry;

/// Content type of the Prometheus text exposition format.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

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
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let kv = [KeyValue::new("method", "a\"b\\c\nd")];
        assert_eq!(labels(kv.iter(), None), "{method=\"a\\\"b\\\\c\\nd\"}");
        assert_eq!(labels(std::iter::empty(), Some("+Inf")), "{le=\"+Inf\"}");
    }
}
