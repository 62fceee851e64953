//! Request metrics per RPC, recorded by every component's server
//! ([`crate::telemetry::GrpcTraceLayer`]): a count and a latency histogram by component,
//! service, method and gRPC code, and the calls in flight. One process registry holds every
//! component's series (all of them under `up`), exported over OTLP when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and readable as Prometheus text ([`render_prometheus`],
//! [`metrics_router`]).
//!
//! - `registry`: the process's meter provider, its instruments and readers;
//! - `calls`: a server's series, one per method and code, and the guard of one call;
//! - `prometheus`: the registry as Prometheus text, and the route serving it.
//!
//! Metrics depend on no other telemetry: the trace layers record into them.

mod calls;
mod prometheus;
mod registry;

pub use calls::RpcCall;
pub(crate) use calls::ServerMetrics;
pub use prometheus::{PROMETHEUS_CONTENT_TYPE, metrics_router, render_prometheus};
pub(crate) use registry::install;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use tonic_health::ServingStatus;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;

    use std::collections::HashMap;

    use super::calls::MAX_METHODS_PER_SERVER;
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
}
