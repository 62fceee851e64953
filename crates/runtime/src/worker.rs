//! Managed background workers: long-running loops a component declares
//! ([`crate::component::Component::workers`]), such as delivering an outbox to an upstream.
//!
//! The suite starts a component's workers once its servers are ready, and stops them first on
//! shutdown: each is told to stop (its [`Shutdown`] completes) and waited for within the grace
//! period; one still running then is aborted and logged. A worker that fails, panics or
//! returns without being asked to stop is logged and restarted after a delay that doubles from
//! [`RESTART_FIRST`] up to [`RESTART_MAX`]. While a worker is not running, its health entry
//! (`<component>/<worker>` in `grpc.health.v1`, see [`health_name`]) is NOT_SERVING; while it
//! runs, SERVING.

use std::{
    future::Future,
    panic::AssertUnwindSafe,
    pin::Pin,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::FutureExt;
use tokio::{sync::watch, task::JoinSet, time::Instant};
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::component::{Context, Shutdown};

/// Why one run of a worker failed.
pub type WorkerError = Box<dyn std::error::Error + Send + Sync>;

/// One run of a worker, until it is told to stop or fails.
pub type WorkerRun = Pin<Box<dyn Future<Output = Result<(), WorkerError>> + Send>>;

type RunFn = dyn Fn(Context, Shutdown) -> WorkerRun + Send + Sync;

/// The delay before the first restart of a failed worker.
pub const RESTART_FIRST: Duration = Duration::from_millis(100);
/// The longest delay between restarts; a run that lasted this long resets the delay.
pub const RESTART_MAX: Duration = Duration::from_secs(30);

/// A named background worker: given the component's context and a stop signal, it runs until
/// the signal completes, then finishes or releases what it holds and returns `Ok(())`.
#[derive(Clone)]
pub struct Worker {
    /// Its name, unique within its component: in logs and its health entry.
    pub name: &'static str,
    run: Arc<RunFn>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").field("name", &self.name).finish()
    }
}

impl Worker {
    /// A worker named `name` whose every run is `run(context, shutdown)`.
    pub fn new<F, Fut>(name: &'static str, run: F) -> Self
    where
        F: Fn(Context, Shutdown) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), WorkerError>> + Send + 'static,
    {
        Self {
            name,
            run: Arc::new(move |ctx, shutdown| Box::pin(run(ctx, shutdown))),
        }
    }
}

/// The `grpc.health.v1` service name of worker `worker` of component `component`.
pub fn health_name(component: &str, worker: &str) -> String {
    format!("{component}/{worker}")
}

/// Where a component's workers report their health: the component's own health reporter,
/// once it hands it over ([`Context::report_worker_health`]).
#[derive(Clone, Debug, Default)]
pub struct WorkerHealth {
    reporter: Arc<Mutex<Option<HealthReporter>>>,
}

impl WorkerHealth {
    /// Publishes worker statuses through `reporter` from now on.
    pub fn attach(&self, reporter: HealthReporter) {
        if let Ok(mut slot) = self.reporter.lock() {
            *slot = Some(reporter);
        }
    }

    async fn set(&self, service: &str, serving: bool) {
        let reporter = self.reporter.lock().ok().and_then(|slot| slot.clone());
        if let Some(reporter) = reporter {
            let status = if serving {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            reporter.set_service_status(service, status).await;
        }
    }
}

/// A component's running workers.
#[derive(Debug)]
pub struct Workers {
    component: &'static str,
    stop: watch::Sender<bool>,
    tasks: JoinSet<&'static str>,
}

impl Workers {
    /// Starts `workers` of `component` with `ctx` (whose health reporter they report to).
    pub fn start(component: &'static str, ctx: &Context, workers: Vec<Worker>) -> Self {
        let (stop, _) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for worker in workers {
            let stopped = stop.subscribe();
            tasks.spawn(supervise(component, ctx.clone(), worker, stopped));
        }
        if !tasks.is_empty() {
            tracing::info!(component, workers = tasks.len(), "workers started");
        }
        Self {
            component,
            stop,
            tasks,
        }
    }

    /// Tells every worker to stop and waits for them within `grace`; aborts (and logs) those
    /// still running then.
    pub async fn stop(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        let deadline = Instant::now() + grace;
        loop {
            match tokio::time::timeout_at(deadline, self.tasks.join_next()).await {
                Ok(None) => return,
                Ok(Some(_)) => {}
                Err(_) => break,
            }
        }
        tracing::warn!(
            component = self.component,
            workers = self.tasks.len(),
            grace_ms = grace.as_millis() as u64,
            "workers did not stop within the grace period: aborted"
        );
        self.tasks.shutdown().await;
    }
}

fn stop_signal(stopped: &watch::Receiver<bool>) -> Shutdown {
    let mut stopped = stopped.clone();
    Box::pin(async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    })
}

/// Runs `worker` until told to stop, restarting it with backoff when it fails or panics.
async fn supervise(
    component: &'static str,
    ctx: Context,
    worker: Worker,
    stopped: watch::Receiver<bool>,
) -> &'static str {
    let name = worker.name;
    let service = health_name(component, name);
    let health = ctx.worker_health();
    let mut delay = RESTART_FIRST;
    loop {
        if *stopped.borrow() {
            break;
        }
        health.set(&service, true).await;
        let began = Instant::now();
        let run = (worker.run)(ctx.clone(), stop_signal(&stopped));
        let outcome = AssertUnwindSafe(run).catch_unwind().await;
        health.set(&service, false).await;
        let asked = *stopped.borrow();
        let reason = match outcome {
            Ok(Ok(())) if asked => break,
            Ok(Ok(())) => "it returned without being asked to stop".to_owned(),
            Ok(Err(error)) => error.to_string(),
            Err(panic) => format!("it panicked: {}", crate::panic::panic_message(&*panic)),
        };
        if asked {
            tracing::warn!(component, worker = name, %reason, "worker ended while stopping");
            break;
        }
        if began.elapsed() >= RESTART_MAX {
            delay = RESTART_FIRST;
        }
        tracing::error!(
            component,
            worker = name,
            %reason,
            restart_in_ms = delay.as_millis() as u64,
            "worker failed: restarting"
        );
        let mut waiting = stopped.clone();
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = waiting.wait_for(|stop| *stop) => break,
        }
        delay = (delay * 2).min(RESTART_MAX);
    }
    name
}
