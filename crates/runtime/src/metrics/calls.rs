//! A server's series, bound to their labels once per method and code, and the guard that
//! records one call.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Instant;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{BoundCounter, BoundHistogram, BoundUpDownCounter};

use super::registry::{Registry, registry};

/// Distinct methods a server labels on its own; any further path shares one `other` series, so
/// callers inventing paths cannot grow the registry without bound.
pub(super) const MAX_METHODS_PER_SERVER: usize = 256;

/// How many gRPC codes there are (0 to 16).
const CODES: usize = 17;

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
pub struct RpcCall {
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
