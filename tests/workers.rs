//! Managed background workers, run as `sandbox06 serve <component>` and `sandbox06 up` run
//! them: they start once the component reports SERVING, stop first on shutdown (aborted past
//! the grace period), and a worker that panics is restarted while its health entry says
//! NOT_SERVING.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use figment::{Figment, providers::Serialized};
use sandbox06::{Suite, components, health_status};
use sandbox06_runtime::{
    component::{Component, ComponentSpec, Context, Role, Running, Shutdown, StartError},
    config::ConfigError,
    server::ServerBuilder,
    worker::{Worker, health_name},
};
use sandbox06_testkit::{serve_alone_in, test_config};
use tokio::{
    net::TcpListener,
    sync::{Notify, mpsc},
    time::Instant,
};

/// The gRPC service whose health gates the test component's readiness.
const GATE: &str = "sandbox06.test.Gate";

static SPEC: ComponentSpec = ComponentSpec {
    name: "workers-test",
    summary: "a component with background workers, for tests",
    role: Role::Upstream,
    section: "workers_test",
    grpc_services: &[GATE],
    http_prefixes: &[],
    peers: &[],
    container_port: 4698,
    clients: &[],
};

/// What the workers did, in order.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    /// Worker started; whether its component reported SERVING then.
    Started(&'static str, bool),
    /// Worker finished after being asked to stop.
    Stopped(&'static str),
    /// Worker's run was dropped (aborted) without finishing.
    Dropped(&'static str),
}

struct State {
    /// Opens the component's readiness.
    gate: Notify,
    /// Where the component listens.
    addr: Mutex<Option<SocketAddr>>,
    /// How many worker runs began, of every worker.
    started: AtomicUsize,
    /// How many runs of the flaky worker began.
    flaky_runs: AtomicUsize,
    /// While set, every run of the flaky worker panics.
    broken: AtomicBool,
    /// Makes the running flaky worker panic (if broken).
    kick: Notify,
    /// Whether the component has a worker that ignores the stop signal.
    stubborn: bool,
    events: mpsc::UnboundedSender<Event>,
}

impl State {
    /// Its URL, once it serves.
    fn url(&self) -> Option<String> {
        (*self.addr.lock().unwrap()).map(|addr| format!("http://{addr}"))
    }

    async fn begin(&self, worker: &'static str) {
        self.started.fetch_add(1, Ordering::SeqCst);
        let serving = status(self, GATE).await == "SERVING";
        let _ = self.events.send(Event::Started(worker, serving));
    }
}

/// Sends [`Event::Dropped`] unless disarmed.
struct DropGuard(Option<(&'static str, mpsc::UnboundedSender<Event>)>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some((worker, events)) = self.0.take() {
            let _ = events.send(Event::Dropped(worker));
        }
    }
}

struct WorkersComponent(Arc<State>);

impl Component for WorkersComponent {
    fn spec(&self) -> &'static ComponentSpec {
        &SPEC
    }

    fn listen(&self, _config: &Figment) -> Result<SocketAddr, ConfigError> {
        Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }

    fn serve(&self, ctx: Context, listener: TcpListener, shutdown: Shutdown) -> Running {
        let state = Arc::clone(&self.0);
        *state.addr.lock().unwrap() = listener.local_addr().ok();
        Box::pin(async move {
            let builder = ServerBuilder::new(&ctx.limits).component(SPEC.name);
            let health = builder.health_reporter();
            ctx.report_worker_health(health.clone());
            health
                .set_service_status(GATE, tonic_health::ServingStatus::NotServing)
                .await;
            let opener = Arc::clone(&state);
            tokio::spawn(async move {
                opener.gate.notified().await;
                health
                    .set_service_status(GATE, tonic_health::ServingStatus::Serving)
                    .await;
            });
            builder
                .serve(listener, shutdown)
                .await
                .map_err(StartError::serve(SPEC.name))
        })
    }

    fn workers(&self) -> Vec<Worker> {
        let steady = Arc::clone(&self.0);
        let flaky = Arc::clone(&self.0);
        let mut workers = vec![
            Worker::new("steady", move |_ctx, shutdown| {
                let state = Arc::clone(&steady);
                async move {
                    state.begin("steady").await;
                    shutdown.await;
                    let _ = state.events.send(Event::Stopped("steady"));
                    Ok(())
                }
            }),
            Worker::new("flaky", move |_ctx, shutdown| {
                let state = Arc::clone(&flaky);
                async move {
                    state.flaky_runs.fetch_add(1, Ordering::SeqCst);
                    assert!(
                        !state.broken.load(Ordering::SeqCst),
                        "the flaky worker broke"
                    );
                    state.begin("flaky").await;
                    tokio::select! {
                        () = shutdown => {}
                        () = state.kick.notified() => panic!("the flaky worker broke"),
                    }
                    let _ = state.events.send(Event::Stopped("flaky"));
                    Ok(())
                }
            }),
        ];
        if self.0.stubborn {
            let stubborn = Arc::clone(&self.0);
            workers.push(Worker::new("stubborn", move |_ctx, _shutdown| {
                let state = Arc::clone(&stubborn);
                async move {
                    let _guard = DropGuard(Some(("stubborn", state.events.clone())));
                    state.begin("stubborn").await;
                    std::future::pending::<()>().await;
                    Ok(())
                }
            }));
        }
        workers
    }
}

fn component(stubborn: bool) -> (Arc<State>, mpsc::UnboundedReceiver<Event>) {
    let (events, received) = mpsc::unbounded_channel();
    let state = Arc::new(State {
        gate: Notify::new(),
        addr: Mutex::new(None),
        started: AtomicUsize::new(0),
        flaky_runs: AtomicUsize::new(0),
        broken: AtomicBool::new(false),
        kick: Notify::new(),
        stubborn,
        events,
    });
    (state, received)
}

fn list_with(state: &Arc<State>) -> Vec<Arc<dyn Component>> {
    let mut list = components();
    list.push(Arc::new(WorkersComponent(Arc::clone(state))));
    list
}

const WITHIN: Duration = Duration::from_secs(10);

/// Waits (bounded) until `check` holds.
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + WITHIN;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {WITHIN:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn next(events: &mut mpsc::UnboundedReceiver<Event>) -> Event {
    tokio::time::timeout(WITHIN, events.recv())
        .await
        .expect("a worker event in time")
        .expect("the component is alive")
}

/// The next two events, in a stable order (the workers run concurrently).
async fn next_two(events: &mut mpsc::UnboundedReceiver<Event>) -> Vec<Event> {
    let mut two = vec![next(events).await, next(events).await];
    two.sort_by_key(|e| format!("{e:?}"));
    two
}

async fn status(state: &State, service: &str) -> &'static str {
    match state.url() {
        Some(url) => health_status(&url, service).await.unwrap_or("UNREACHABLE"),
        None => "NOT STARTED",
    }
}

/// The gate is NOT_SERVING and no worker started; then the gate opens.
async fn no_worker_before_ready_then_open(state: &State) {
    until("the component answers NOT_SERVING", || async {
        status(state, GATE).await == "NOT_SERVING"
    })
    .await;
    assert_eq!(
        state.started.load(Ordering::SeqCst),
        0,
        "a worker started before ready"
    );
    state.gate.notify_one();
}

#[tokio::test]
async fn workers_of_a_component_alone_start_once_it_is_ready_and_stop_on_shutdown() {
    let (state, mut events) = component(false);
    let running = serve_alone_in(SPEC.name, list_with(&state), Figment::new()).await;
    no_worker_before_ready_then_open(&state).await;
    assert_eq!(
        next_two(&mut events).await,
        [
            Event::Started("flaky", true),
            Event::Started("steady", true)
        ]
    );
    assert_eq!(
        status(&state, &health_name(SPEC.name, "steady")).await,
        "SERVING"
    );
    running.stop().await.unwrap();
    assert_eq!(
        next_two(&mut events).await,
        [Event::Stopped("flaky"), Event::Stopped("steady")]
    );
}

#[tokio::test]
async fn a_panicking_worker_is_restarted_and_its_health_says_so_meanwhile() {
    let (state, mut events) = component(false);
    let running = serve_alone_in(SPEC.name, list_with(&state), Figment::new()).await;
    state.gate.notify_one();
    next_two(&mut events).await;
    let flaky = health_name(SPEC.name, "flaky");
    assert_eq!(status(&state, &flaky).await, "SERVING");
    state.broken.store(true, Ordering::SeqCst);
    state.kick.notify_one();
    until("the broken worker is restarted and NOT_SERVING", || async {
        state.flaky_runs.load(Ordering::SeqCst) >= 2
            && status(&state, &flaky).await == "NOT_SERVING"
    })
    .await;
    assert_eq!(
        status(&state, &health_name(SPEC.name, "steady")).await,
        "SERVING",
        "the other worker runs on"
    );
    state.broken.store(false, Ordering::SeqCst);
    assert_eq!(next(&mut events).await, Event::Started("flaky", true));
    until("the restarted worker is SERVING", || async {
        status(&state, &flaky).await == "SERVING"
    })
    .await;
    running.stop().await.unwrap();
    assert_eq!(
        next_two(&mut events).await,
        [Event::Stopped("flaky"), Event::Stopped("steady")]
    );
}

#[tokio::test]
async fn a_worker_that_ignores_the_stop_signal_is_aborted_after_the_grace_period() {
    let (state, mut events) = component(true);
    let running = serve_alone_in(
        SPEC.name,
        list_with(&state),
        Figment::new().merge(Serialized::default("limits.shutdown_grace_seconds", 1)),
    )
    .await;
    state.gate.notify_one();
    let mut started = vec![next(&mut events).await, next(&mut events).await];
    started.push(next(&mut events).await);
    assert!(
        started.contains(&Event::Started("stubborn", true)),
        "{started:?}"
    );
    running.stop().await.unwrap();
    let mut ended = next_two(&mut events).await;
    ended.push(next(&mut events).await);
    ended.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(
        ended,
        [
            Event::Dropped("stubborn"),
            Event::Stopped("flaky"),
            Event::Stopped("steady")
        ]
    );
}

#[tokio::test]
async fn up_starts_workers_once_every_component_is_ready_and_stops_them_first() {
    let (state, mut events) = component(false);
    let mut suite = Suite::start_with(&test_config(), list_with(&state))
        .await
        .unwrap();
    let (ready, ()) = tokio::join!(
        suite.wait_ready(WITHIN),
        no_worker_before_ready_then_open(&state)
    );
    ready.unwrap();
    assert_eq!(
        next_two(&mut events).await,
        [
            Event::Started("flaky", true),
            Event::Started("steady", true)
        ]
    );
    suite.stop().await.unwrap();
    assert_eq!(
        next_two(&mut events).await,
        [Event::Stopped("flaky"), Event::Stopped("steady")]
    );
}
