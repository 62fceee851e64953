//! Whole-suite benchmarks against the release binary, as an integrator's CI would run it:
//! start-to-ready and idle memory of `sandbox06 up`, GetCitizen throughput and p99 through
//! the gateway and directly against the citizen service in the same run (the ratio is the
//! gateway's cost), and MatchCitizens records per second.
//!
//! Lodging declarations per second through the edge and the outbox's lag to the registry's
//! answer, on memory and on Redis (`-- --lodging` for these alone).
//!
//! Exchanges per second through the data-sharing platform to a local and a national provider,
//! and a province's population statistics through it (`-- --lgsp` for these alone).
//!
//! `cargo bench -p sandbox06 --bench suite` (add `-- --quick` for a short run). Every loop is
//! bounded in count; traffic stays on 127.0.0.1.
//!
//! With `SANDBOX06_BENCH_BASELINE=<path of another sandbox06 binary>`, the same run also starts
//! that binary, alternating with this build, and reports this build's start, memory and edge
//! GetCitizen throughput as ratios of the baseline's.
//!
//! The floor of any gRPC call on this machine: a bare tonic health server (`grpc.health.v1`
//! Check, no layers, started from this benchmark's own binary as a separate process) measured
//! in the same run, alternating with GetCitizen; the edge's throughput is reported as a ratio
//! of it.
//!
//! The single sign-on: client-credentials tokens per second (RS256 and ES256), headless code
//! flows per second (authorization, then the code for tokens), and GetCitizen through the edge
//! with token enforcement on and off (two instances, alternating rounds).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark stops on the first surprise

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use futures::StreamExt;
use sandbox06::health_check;
use sandbox06_proto::{
    citizen::{
        GetCitizenRequest, MatchCitizensRequest, citizen_service_client::CitizenServiceClient,
    },
    types,
};
use sandbox06_vn::{CitizenId, Sex};
use sandbox06_world::{Country, View};
use tonic::transport::Channel;

#[path = "suite/lgsp.rs"]
mod lgsp;
#[path = "suite/lodging.rs"]
mod lodging;

const REFERENCE_DATE: &str = "2026-11-27";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Running {
    child: Child,
    edge: u16,
    citizen: u16,
    /// An access token of the admin client, when the binary has a single sign-on.
    token: Option<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Names another binary to compare this build with, in the same run.
const BASELINE_ENV: &str = "SANDBOX06_BENCH_BASELINE";

/// This build's binary.
const BINARY: &str = env!("CARGO_BIN_EXE_sandbox06");

/// Set on the benchmark's own binary started again as the bare health server: the address it
/// serves on.
const HEALTH_SERVER_ENV: &str = "SANDBOX06_BENCH_HEALTH_SERVER";

/// Serves `grpc.health.v1` alone on `addr`, with tonic's defaults and no layer, until killed.
async fn serve_bare_health(addr: &str) {
    let (_reporter, health) = tonic_health::server::health_reporter();
    tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .add_service(health)
        .serve(addr.parse().unwrap())
        .await
        .unwrap();
}

/// `<what>:<edge port>[:<seconds>]` (what: `get` or `match`): the benchmark only loads a suite
/// already running there with GetCitizen (32 in flight) or MatchCitizens streams, for as many
/// seconds (30 by default), to profile it under that load.
const LOAD_ENV: &str = "SANDBOX06_BENCH_LOAD";

async fn load(target: &str) {
    let mut parts = target.split(':');
    let what = parts.next().unwrap().to_owned();
    let port: u16 = parts.next().unwrap().parse().unwrap();
    let seconds: u64 = parts.next().map_or(30, |s| s.parse().unwrap());
    let token = client_token(port, "sandbox06-admin", "sandbox06-admin-secret").await;
    let country = bench_country();
    let ids = sample_ids(&country);
    let records = Arc::new(match_requests(&country, 100_000));
    let began = Instant::now();
    while began.elapsed() < Duration::from_secs(seconds) {
        if what == "match" {
            let rate = match_round(port, token.as_deref(), Arc::clone(&records)).await;
            println!("MatchCitizens: {rate:.0} records/s");
        } else {
            let (rate, _, p99) =
                get_citizen_round(port, token.as_deref(), Arc::clone(&ids), 20_000, 32).await;
            println!(
                "GetCitizen: {rate:.0} req/s, p99 {:.2} ms",
                p99.as_secs_f64() * 1e3
            );
        }
    }
}

/// The bare health server in a process of its own: the guard, and its port.
async fn start_bare_health() -> (Running, u16) {
    let port = free_port();
    let child = Command::new(std::env::current_exe().unwrap())
        .env(HEALTH_SERVER_ENV, format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the benchmark starts again as a health server");
    let running = Running {
        child,
        edge: port,
        citizen: port,
        token: None,
    };
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..20_000 {
        if health_check(&url, "").await.unwrap_or(false) {
            return (running, port);
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    panic!("the bare health server did not start");
}

/// `requests` health Checks from `concurrency` tasks over 4 connections, as
/// [`get_citizen_round`] makes its calls: (requests per second, p50, p99).
async fn health_round(port: u16, requests: usize, concurrency: usize) -> (f64, Duration, Duration) {
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let chans = channels(port, 4).await;
    let per_task = requests / concurrency;
    let began = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let mut client = HealthClient::new(chans[t % chans.len()].clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_task);
            for _ in 0..per_task {
                let start = Instant::now();
                client
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await
                    .unwrap();
                latencies.push(start.elapsed());
            }
            latencies
        }));
    }
    summarize(tasks, requests, began).await
}

async fn start_binary(binary: &str) -> (Running, Duration) {
    start_binary_with(binary, &[]).await
}

async fn start_binary_with(binary: &str, env: &[(&str, &str)]) -> (Running, Duration) {
    let (edge, citizen) = (free_port(), free_port());
    let began = Instant::now();
    let child: Child = Command::new(binary)
        .arg("up")
        .envs(env.iter().copied())
        // The benchmark's own setting is no configuration of the suite's.
        .env_remove(BASELINE_ENV)
        .env("SANDBOX06_GATEWAY__LISTEN", format!("127.0.0.1:{edge}"))
        .env("SANDBOX06_CITIZEN__LISTEN", format!("127.0.0.1:{citizen}"))
        .env("SANDBOX06_POPULATION__REFERENCE_DATE", REFERENCE_DATE)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the release binary starts");
    // Owned by the guard at once, so the process is reaped on every path.
    let mut running = Running {
        child,
        edge,
        citizen,
        token: None,
    };
    let url = format!("http://127.0.0.1:{edge}");
    for _ in 0..20_000 {
        if health_check(&url, "sandbox06.citizen.v1.CitizenService")
            .await
            .unwrap_or(false)
        {
            let took = began.elapsed();
            running.token = client_token(edge, "sandbox06-admin", "sandbox06-admin-secret").await;
            return (running, took);
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    panic!("the suite did not become ready");
}

type Http = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Full<bytes::Bytes>,
>;

fn http_client() -> Http {
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http()
}

/// One HTTP request: (status, `location` header, body).
async fn http_call(
    http: &Http,
    request: http::Request<String>,
) -> (http::StatusCode, Option<String>, bytes::Bytes) {
    use http_body_util::BodyExt as _;
    let response = http
        .request(request.map(|body| http_body_util::Full::new(bytes::Bytes::from(body))))
        .await
        .unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, location, body)
}

fn token_request(edge: u16, form: &str) -> http::Request<String> {
    http::Request::post(format!("http://127.0.0.1:{edge}/oidc/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
        .unwrap()
}

/// A client-credentials token of `client`, or `None` from a build without a single sign-on.
async fn client_token(edge: u16, client: &str, secret: &str) -> Option<String> {
    let form = format!("grant_type=client_credentials&client_id={client}&client_secret={secret}");
    let (status, _, body) = http_call(&http_client(), token_request(edge, &form)).await;
    if status != http::StatusCode::OK {
        return None;
    }
    let answer: serde_json::Value = serde_json::from_slice(&body).ok()?;
    answer["access_token"].as_str().map(str::to_owned)
}

/// `requests` token requests from 32 tasks: tokens per second. `one` makes one.
async fn per_second<F, Fut>(requests: usize, one: F) -> f64
where
    F: Fn(Http) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let concurrency = 32;
    let http = http_client();
    let began = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (one, http) = (one.clone(), http.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..requests / concurrency {
                one(http.clone()).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    (requests / concurrency * concurrency) as f64 / began.elapsed().as_secs_f64()
}

/// Client-credentials tokens per second for `client`.
async fn tokens_per_second(edge: u16, client: &'static str, requests: usize) -> f64 {
    per_second(requests, move |http| async move {
        let form = format!(
            "grant_type=client_credentials&client_id={client}&client_secret={client}-secret"
        );
        let (status, _, _) = http_call(&http, token_request(edge, &form)).await;
        assert_eq!(status, http::StatusCode::OK);
    })
    .await
}

/// Headless code flows per second: the authorization request answered with a code, then the
/// code exchanged for tokens.
async fn code_flows_per_second(edge: u16, requests: usize) -> f64 {
    const VERIFIER: &str = "sandbox06-benchmark-verifier-0123456789abcdefghij";
    let challenge = sandbox06_jose::s256(VERIFIER.as_bytes());
    per_second(requests, move |http| {
        let challenge = challenge.clone();
        async move {
            let authorize = http::Request::get(format!(
                "http://127.0.0.1:{edge}/oidc/authorize?response_type=code&client_id=demo-ci&redirect_uri=http://127.0.0.1:9/cb&scope=openid%20profile&code_challenge={challenge}&code_challenge_method=S256&login_hint=001091012345"
            ))
            .body(String::new())
            .unwrap();
            let (status, location, _) = http_call(&http, authorize).await;
            assert_eq!(status, http::StatusCode::FOUND);
            let location = location.unwrap();
            let code = location
                .split(['?', '&'])
                .find_map(|pair| pair.strip_prefix("code="))
                .unwrap();
            let form = format!(
                "grant_type=authorization_code&client_id=demo-ci&redirect_uri=http://127.0.0.1:9/cb&code={code}&code_verifier={VERIFIER}"
            );
            let (status, _, _) = http_call(&http, token_request(edge, &form)).await;
            assert_eq!(status, http::StatusCode::OK);
        }
    })
    .await
}

/// The single sign-on's figures, and the edge with enforcement on against off.
async fn sso_benchmarks(rounds: usize, requests: usize, tokens: usize) {
    let (on, _) = start_binary(BINARY).await;
    let (off, _) = start_binary_with(BINARY, &[("SANDBOX06_GATEWAY__ENFORCE_AUTH", "false")]).await;
    let ids = sample_ids(&bench_country());
    tokens_per_second(on.edge, "demo-hospital", 500).await; // warm-up
    let (mut rs256, mut es256, mut flows) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        rs256.push(tokens_per_second(on.edge, "demo-hospital", tokens).await);
        es256.push(tokens_per_second(on.edge, "demo-coach", tokens).await);
        flows.push(code_flows_per_second(on.edge, tokens / 2).await);
    }
    println!(
        "client-credentials tokens: RS256 {:.0}/s, ES256 {:.0}/s ({tokens} per round x {rounds} rounds, 32 in flight)",
        median(rs256),
        median(es256)
    );
    println!(
        "headless code flows (authorize + token): {:.0}/s",
        median(flows)
    );
    get_citizen_round(on.edge, on.token.as_deref(), Arc::clone(&ids), 2_000, 32).await; // warm-up
    get_citizen_round(off.edge, None, Arc::clone(&ids), 2_000, 32).await;
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..rounds.max(3) {
        with.push(
            get_citizen_round(on.edge, on.token.as_deref(), Arc::clone(&ids), requests, 32)
                .await
                .0,
        );
        without.push(
            get_citizen_round(off.edge, None, Arc::clone(&ids), requests, 32)
                .await
                .0,
        );
    }
    let (with, without) = (median(with), median(without));
    println!(
        "GetCitizen via the edge, tokens enforced vs not: {with:.0} req/s vs {without:.0} req/s ({:.0}%)",
        100.0 * with / without
    );
    // The same call over REST/JSON, gRPC-Web and gRPC, through the same edge, alternating.
    get_citizen_rest_round(on.edge, on.token.clone(), Arc::clone(&ids), 2_000, false).await; // warm-up
    get_citizen_rest_round(on.edge, on.token.clone(), Arc::clone(&ids), 2_000, true).await;
    let (mut rest, mut web, mut grpc) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds.max(3) {
        rest.push(
            get_citizen_rest_round(on.edge, on.token.clone(), Arc::clone(&ids), requests, false)
                .await,
        );
        web.push(
            get_citizen_rest_round(on.edge, on.token.clone(), Arc::clone(&ids), requests, true)
                .await,
        );
        grpc.push(
            get_citizen_round(on.edge, on.token.as_deref(), Arc::clone(&ids), requests, 32)
                .await
                .0,
        );
    }
    let (rest, web, grpc) = (median(rest), median(web), median(grpc));
    println!(
        "GetCitizen via the edge, REST/JSON vs gRPC: {rest:.0} req/s vs {grpc:.0} req/s ({:.0}%)",
        100.0 * rest / grpc
    );
    println!(
        "GetCitizen via the edge, gRPC-Web (HTTP/1.1) vs gRPC: {web:.0} req/s vs {grpc:.0} req/s ({:.0}%)",
        100.0 * web / grpc
    );
}

/// `requests` GetCitizen calls from 32 tasks over pooled HTTP/1.1 connections, as REST/JSON
/// (`GET /v1/citizens/{id}`) or, with `web`, as gRPC-Web (binary): requests per second.
async fn get_citizen_rest_round(
    edge: u16,
    token: Option<String>,
    ids: Arc<Vec<String>>,
    requests: usize,
    web: bool,
) -> f64 {
    let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    per_second(requests, move |http| {
        let (token, ids, counter) = (token.clone(), Arc::clone(&ids), Arc::clone(&counter));
        async move {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let id = &ids[n % ids.len()];
            let (mut request, body) = if web {
                // One frame: GetCitizenRequest { citizen_id } (field 1, 12 bytes).
                let mut frame = String::from("\0\0\0\0\x0e\x0a\x0c");
                frame.push_str(id);
                let request = http::Request::post(format!(
                    "http://127.0.0.1:{edge}/sandbox06.citizen.v1.CitizenService/GetCitizen"
                ))
                .header("content-type", "application/grpc-web+proto");
                (request, frame)
            } else {
                let request =
                    http::Request::get(format!("http://127.0.0.1:{edge}/v1/citizens/{id}"));
                (request, String::new())
            };
            if let Some(token) = &token {
                request = request.header("authorization", format!("Bearer {token}"));
            }
            let (status, _, answer) = http_call(&http, request.body(body).unwrap()).await;
            assert_eq!(status, http::StatusCode::OK);
            if web {
                let text = String::from_utf8_lossy(&answer);
                assert!(text.contains("grpc-status:0"), "{text}");
            }
        }
    })
    .await
}

/// Adds the bearer token, when there is one, to every call.
#[derive(Clone)]
struct Bearer(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl Bearer {
    fn new(token: Option<&str>) -> Self {
        Self(token.map(|t| format!("Bearer {t}").parse().unwrap()))
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// CPU time (user and system) a process has used so far, from `/proc/<pid>/stat` (`self`
/// for this one), in clock ticks of 10 ms (Linux's `USER_HZ`).
fn cpu_ticks(pid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces), from the state on: utime
    // and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let field = |at: usize| {
        fields
            .get(at)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

/// Microseconds of CPU per call that the server `pid` and this client spent on `round`'s
/// `calls`: (server, client), with the round's own answer.
async fn cpu_per_call<T>(pid: u32, calls: usize, round: impl Future<Output = T>) -> (T, f64, f64) {
    let (server, client) = (cpu_ticks(&pid.to_string()), cpu_ticks("self"));
    let answer = round.await;
    let per_call =
        |before: u64, after: u64| (after.saturating_sub(before)) as f64 * 10_000.0 / calls as f64;
    (
        answer,
        per_call(server, cpu_ticks(&pid.to_string())),
        per_call(client, cpu_ticks("self")),
    )
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

async fn channels(port: u16, n: usize) -> Vec<Channel> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(
            Channel::from_shared(format!("http://127.0.0.1:{port}"))
                .unwrap()
                .connect()
                .await
                .unwrap(),
        );
    }
    out
}

/// `requests` GetCitizen calls from `concurrency` tasks: (requests per second, p50, p99).
async fn get_citizen_round(
    port: u16,
    token: Option<&str>,
    ids: Arc<Vec<String>>,
    requests: usize,
    concurrency: usize,
) -> (f64, Duration, Duration) {
    let chans = channels(port, 4).await;
    let per_task = requests / concurrency;
    let began = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let mut client = CitizenServiceClient::with_interceptor(
            chans[t % chans.len()].clone(),
            Bearer::new(token),
        );
        let ids = Arc::clone(&ids);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_task);
            for i in 0..per_task {
                let id = ids[(t * per_task + i) % ids.len()].clone();
                let start = Instant::now();
                client
                    .get_citizen(GetCitizenRequest {
                        citizen_id: id,
                        read_mask: None,
                    })
                    .await
                    .unwrap();
                latencies.push(start.elapsed());
            }
            latencies
        }));
    }
    summarize(tasks, requests, began).await
}

/// The throughput, p50 and p99 of a round whose `tasks` each return their calls' latencies.
async fn summarize(
    tasks: Vec<tokio::task::JoinHandle<Vec<Duration>>>,
    requests: usize,
    began: Instant,
) -> (f64, Duration, Duration) {
    let mut all = Vec::with_capacity(requests);
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = began.elapsed();
    all.sort();
    (
        all.len() as f64 / elapsed.as_secs_f64(),
        percentile(&all, 0.5),
        percentile(&all, 0.99),
    )
}

/// The Redis the store benchmarks also run on: `SANDBOX06_BENCH_REDIS_URL` (default
/// `redis://127.0.0.1:6379`), when it answers.
fn bench_redis() -> Result<String, String> {
    let redis = std::env::var("SANDBOX06_BENCH_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let reachable = redis
        .strip_prefix("redis://")
        .and_then(|rest| rest.split('/').next())
        .is_some_and(|addr| std::net::TcpStream::connect(addr).is_ok());
    if reachable { Ok(redis) } else { Err(redis) }
}

/// Runs a store benchmark on memory, then on [`bench_redis`] when it answers; `on_store` answers
/// `None` when the build lacks what the benchmark calls.
async fn on_memory_then_redis<F, Fut>(name: &str, on_store: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Option<()>>,
{
    if on_store("memory".to_owned()).await.is_none() {
        println!("{name}: this build lacks what it calls; skipped");
        return;
    }
    match bench_redis() {
        Ok(redis) => {
            on_store(redis).await;
        }
        Err(redis) => println!("{name} on Redis: no Redis answers at {redis}; skipped"),
    }
}

/// Clears a run's namespace on the Redis at `store` (nothing for `memory`): a run's state
/// leaves the shared Redis with the run.
async fn clear_bench_state(store: &str, namespace: &str) {
    if store == "memory" {
        return;
    }
    let config = sandbox06_testkit::test_config_with(
        figment::Figment::new()
            .merge(figment::providers::Serialized::default("store.url", store))
            .merge(figment::providers::Serialized::default(
                "store.namespace",
                namespace,
            )),
    );
    sandbox06_testkit::clear_stores(&config).await;
}

fn bench_country() -> Country {
    Country::new(6, 100_000_000, time::macros::date!(2026 - 11 - 27))
}

/// Whether every build numbers this citizen alike: births registered from the 2025
/// reorganisation on take the new province's prefix, which a build from before it does not know.
fn numbered_alike(country: &Country, id: CitizenId) -> bool {
    country
        .person(id, View::Basic)
        .is_some_and(|p| p.date_of_birth < time::macros::date!(2025 - 07 - 01))
}

/// 10,000 generated citizens spread over the whole country, numbered alike by every build.
fn sample_ids(country: &Country) -> Arc<Vec<String>> {
    let step = country.population() / 11_000;
    Arc::new(
        (0..)
            .map_while(|i| country.citizen_at(i * step))
            .filter(|id| numbered_alike(country, *id))
            .take(10_000)
            .map(|id| id.to_string())
            .collect(),
    )
}

/// This build against a baseline binary in the same run, alternating: start to ready, idle
/// memory, GetCitizen and MatchCitizens through the edge.
async fn compare_with_baseline(
    baseline: &str,
    starts: usize,
    rounds: usize,
    requests: usize,
    records: usize,
) {
    let (mut ready_this, mut ready_base) = (Vec::new(), Vec::new());
    let (mut this, mut base) = (None, None);
    for _ in 0..starts {
        let (running, took) = start_binary(BINARY).await;
        ready_this.push(took.as_secs_f64() * 1000.0);
        this = Some(running);
        let (running, took) = start_binary(baseline).await;
        ready_base.push(took.as_secs_f64() * 1000.0);
        base = Some(running);
    }
    let (this, base) = (this.unwrap(), base.unwrap());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss_this, rss_base) = (rss_kib(this.child.id()), rss_kib(base.child.id()));
    let ids = sample_ids(&bench_country());
    get_citizen_round(
        this.edge,
        this.token.as_deref(),
        Arc::clone(&ids),
        2_000,
        32,
    )
    .await; // warm-up
    get_citizen_round(
        base.edge,
        base.token.as_deref(),
        Arc::clone(&ids),
        2_000,
        32,
    )
    .await;
    let (_bare, bare_port) = start_bare_health().await;
    health_round(bare_port, 2_000, 32).await; // warm-up
    let (mut rps_this, mut rps_base, mut rps_bare) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds.max(3) {
        rps_this.push(
            get_citizen_round(
                this.edge,
                this.token.as_deref(),
                Arc::clone(&ids),
                requests,
                32,
            )
            .await,
        );
        rps_base.push(
            get_citizen_round(
                base.edge,
                base.token.as_deref(),
                Arc::clone(&ids),
                requests,
                32,
            )
            .await,
        );
        rps_bare.push(health_round(bare_port, requests, 32).await);
    }
    let matched = Arc::new(match_requests(&bench_country(), records));
    let (mut match_this, mut match_base) = (Vec::new(), Vec::new());
    for _ in 0..rounds.max(3) {
        match_this.push(match_round(this.edge, this.token.as_deref(), Arc::clone(&matched)).await);
        match_base.push(match_round(base.edge, base.token.as_deref(), Arc::clone(&matched)).await);
    }
    let (r_this, r_base) = (median(ready_this), median(ready_base));
    let rps = |v: &[(f64, Duration, Duration)]| median(v.iter().map(|r| r.0).collect());
    let p99 = |v: &[(f64, Duration, Duration)]| {
        median(v.iter().map(|r| r.2.as_secs_f64() * 1e3).collect())
    };
    let (g_this, g_base, bare) = (rps(&rps_this), rps(&rps_base), rps(&rps_bare));
    let (m_this, m_base) = (median(match_this), median(match_base));
    println!("this build against {baseline} (alternating, same run):");
    println!(
        "  start to ready: {r_this:.1} ms vs {r_base:.1} ms ({:.2}x)",
        r_this / r_base
    );
    println!(
        "  idle RSS: {:.1} MiB vs {:.1} MiB ({:.2}x)",
        rss_this as f64 / 1024.0,
        rss_base as f64 / 1024.0,
        rss_this as f64 / rss_base as f64
    );
    println!(
        "  GetCitizen via the edge: {g_this:.0} req/s vs {g_base:.0} req/s ({:.2}x)",
        g_this / g_base
    );
    println!(
        "  GetCitizen via the edge / bare tonic health Check ({bare:.0} req/s, p99 {:.2} ms): {:.2} (p99 {:.2} ms) vs {:.2} (p99 {:.2} ms)",
        p99(&rps_bare),
        g_this / bare,
        p99(&rps_this),
        g_base / bare,
        p99(&rps_base)
    );
    println!(
        "  MatchCitizens via the edge: {m_this:.0} records/s vs {m_base:.0} records/s ({:.2}x)",
        m_this / m_base
    );
}

fn match_requests(country: &Country, n: usize) -> Vec<MatchCitizensRequest> {
    // A tenth more places than records, as a few are left out.
    let step = country.population() / (n as u64 + n as u64 / 10);
    (0..)
        .map_while(|i| country.citizen_at(i * step))
        .filter(|id| numbered_alike(country, *id))
        .take(n)
        .enumerate()
        .map(|(i, id)| {
            let i = i as u64;
            let p = country.person(id, View::Basic).unwrap();
            MatchCitizensRequest {
                record_key: i.to_string(),
                citizen_id: id.to_string(),
                full_name: p.full_name,
                date_of_birth: Some(types::Date {
                    year: p.date_of_birth.year(),
                    month: i32::from(u8::from(p.date_of_birth.month())),
                    day: i32::from(p.date_of_birth.day()),
                }),
                sex: if p.sex == Sex::Male {
                    types::Sex::Male
                } else {
                    types::Sex::Female
                } as i32,
            }
        })
        .collect()
}

/// One MatchCitizens stream of every record: records per second.
async fn match_round(
    port: u16,
    token: Option<&str>,
    records: Arc<Vec<MatchCitizensRequest>>,
) -> f64 {
    let channel = channels(port, 1).await.remove(0);
    let mut client = CitizenServiceClient::with_interceptor(channel, Bearer::new(token));
    let began = Instant::now();
    let outbound = tokio_stream::iter((0..records.len()).map(move |i| records[i].clone()));
    let mut inbound = client.match_citizens(outbound).await.unwrap().into_inner();
    let mut n = 0usize;
    while let Some(r) = inbound.next().await {
        r.unwrap();
        n += 1;
    }
    n as f64 / began.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    if let Ok(addr) = std::env::var(HEALTH_SERVER_ENV) {
        serve_bare_health(&addr).await;
        return;
    }
    if let Ok(target) = std::env::var(LOAD_ENV) {
        load(&target).await;
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let (starts, rounds, requests, records) = if quick {
        (3, 1, 5_000, 50_000)
    } else {
        (10, 3, 20_000, 500_000)
    };
    let declarations = if quick { 2_000 } else { 10_000 };
    // `-- --lgsp` measures the data-sharing platform alone.
    if std::env::args().any(|a| a == "--lgsp") {
        let country = bench_country();
        lgsp::benchmarks(Arc::new(match_requests(&country, declarations)), rounds).await;
        return;
    }
    // `-- --lodging` measures lodging declarations alone.
    if std::env::args().any(|a| a == "--lodging") {
        let country = bench_country();
        lodging::benchmarks(Arc::new(match_requests(&country, declarations)), rounds).await;
        return;
    }
    println!(
        "sandbox06 suite benchmark ({} run), {} cores",
        if quick { "quick" } else { "full" },
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    // `-- --no-sso` leaves the single sign-on's figures out (a shorter run of the rest).
    if !std::env::args().any(|a| a == "--no-sso") {
        sso_benchmarks(rounds, requests, if quick { 2_000 } else { 10_000 }).await;
    }

    let baseline = std::env::var(BASELINE_ENV).ok();
    if let Some(baseline) = &baseline {
        compare_with_baseline(baseline, starts, rounds, requests, records).await;
    }

    // Start to ready, and idle memory after the last start.
    let mut ready = Vec::new();
    let mut last = None;
    for _ in 0..starts {
        let (running, took) = start_binary(BINARY).await;
        ready.push(took.as_secs_f64() * 1000.0);
        last = Some(running);
    }
    let running = last.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = rss_kib(running.child.id());
    println!(
        "start to ready (process spawn until edge health SERVING): median {:.1} ms, max {:.1} ms over {starts} starts",
        median(ready.clone()),
        ready.iter().copied().fold(0.0, f64::max)
    );
    println!(
        "idle RSS of `sandbox06 up`: {:.1} MiB",
        idle as f64 / 1024.0
    );

    // GetCitizen: gateway and direct, alternating, same ids.
    let country = bench_country();
    let ids = sample_ids(&country);
    let concurrency = 32;
    let mut gateway = Vec::new();
    let mut direct = Vec::new();
    let mut bare = Vec::new();
    // CPU per call, (server, client) in µs: GetCitizen through the edge, the bare Check.
    let mut gateway_cpu = Vec::new();
    let mut bare_cpu = Vec::new();
    let (bare_server, bare_port) = start_bare_health().await;
    health_round(bare_port, 2_000, concurrency).await; // warm-up
    get_citizen_round(
        running.edge,
        running.token.as_deref(),
        Arc::clone(&ids),
        2_000,
        concurrency,
    )
    .await; // warm-up
    get_citizen_round(running.citizen, None, Arc::clone(&ids), 2_000, concurrency).await;
    for _ in 0..rounds {
        let (round, server, client) = cpu_per_call(
            running.child.id(),
            requests,
            get_citizen_round(
                running.edge,
                running.token.as_deref(),
                Arc::clone(&ids),
                requests,
                concurrency,
            ),
        )
        .await;
        gateway.push(round);
        gateway_cpu.push((server, client));
        direct.push(
            get_citizen_round(
                running.citizen,
                None,
                Arc::clone(&ids),
                requests,
                concurrency,
            )
            .await,
        );
        let (round, server, client) = cpu_per_call(
            bare_server.child.id(),
            requests,
            health_round(bare_port, requests, concurrency),
        )
        .await;
        bare.push(round);
        bare_cpu.push((server, client));
    }
    let summarize = |v: &[(f64, Duration, Duration)]| {
        (
            median(v.iter().map(|r| r.0).collect()),
            median(v.iter().map(|r| r.1.as_secs_f64() * 1e3).collect()),
            median(v.iter().map(|r| r.2.as_secs_f64() * 1e3).collect()),
        )
    };
    let (g_rps, g_p50, g_p99) = summarize(&gateway);
    let (d_rps, d_p50, d_p99) = summarize(&direct);
    println!(
        "GetCitizen via gateway: {g_rps:.0} req/s, p50 {g_p50:.2} ms, p99 {g_p99:.2} ms ({requests} requests x {rounds} rounds, {concurrency} in flight)"
    );
    println!("GetCitizen direct:      {d_rps:.0} req/s, p50 {d_p50:.2} ms, p99 {d_p99:.2} ms");
    let (b_rps, b_p50, b_p99) = summarize(&bare);
    println!("bare tonic health Check: {b_rps:.0} req/s, p50 {b_p50:.2} ms, p99 {b_p99:.2} ms");
    println!("gateway / direct throughput: {:.0}%", 100.0 * g_rps / d_rps);
    println!(
        "GetCitizen via the edge / bare health Check: {:.2}x",
        g_rps / b_rps
    );
    // The client shares the cores: what each side spends per call tells the server's own
    // cost apart from the load's.
    let cpu = |v: &[(f64, f64)]| {
        (
            median(v.iter().map(|c| c.0).collect()),
            median(v.iter().map(|c| c.1).collect()),
        )
    };
    let ((g_server, g_client), (b_server, b_client)) = (cpu(&gateway_cpu), cpu(&bare_cpu));
    println!(
        "CPU per call, server / client: GetCitizen via the edge {g_server:.0} / {g_client:.0} µs, bare health Check {b_server:.0} / {b_client:.0} µs"
    );

    // MatchCitizens records per second.
    let records = Arc::new(match_requests(&country, records));
    let mut via_gateway = Vec::new();
    let mut via_direct = Vec::new();
    for _ in 0..rounds {
        via_gateway
            .push(match_round(running.edge, running.token.as_deref(), Arc::clone(&records)).await);
        via_direct.push(match_round(running.citizen, None, Arc::clone(&records)).await);
    }
    println!(
        "MatchCitizens via gateway: {:.0} records/s ({} records per stream)",
        median(via_gateway),
        records.len()
    );
    println!(
        "MatchCitizens direct:      {:.0} records/s",
        median(via_direct)
    );
    drop(running);

    lodging::benchmarks(
        Arc::new(records[..declarations.min(records.len())].to_vec()),
        rounds,
    )
    .await;
    lgsp::benchmarks(
        Arc::new(records[..declarations.min(records.len())].to_vec()),
        rounds,
    )
    .await;
}
