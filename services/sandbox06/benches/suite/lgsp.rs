//! Exchanges through the data-sharing platform via the edge, as agencies' systems send them:
//! exchanges per second and their latency to the local provider (the citizen check, answered
//! by the citizen service through the edge) and to a national one (marital status, through the
//! NDXP mock and the population database), each judged, counted against its quota and written
//! to the hash-chained audit log; and a province's population statistics through the platform,
//! one call at a time, over the country of 100 million. On the memory store and, when one
//! answers, on Redis.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use sandbox06_proto::{
    citizen::{MatchCitizensRequest, VerifyCitizenRequest},
    lgsp::{
        self as pb, exchange_request::Request as Typed, lgsp_service_client::LgspServiceClient,
    },
    types,
};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use super::{Bearer, channels, client_token, median, percentile, start_binary_with};

/// Calls in flight.
const CONCURRENCY: usize = 32;
/// Statistics calls, one after the other.
const STATISTICS_CALLS: usize = 200;

type Client = LgspServiceClient<InterceptedService<Channel, Bearer>>;

/// The exchange of record `i` with `service`.
fn request(
    service: &str,
    record: &MatchCitizensRequest,
    transaction: String,
) -> pb::ExchangeRequest {
    let typed = if service == "lgsp.citizen.verify" {
        Typed::CitizenVerify(VerifyCitizenRequest {
            citizen_id: record.citizen_id.clone(),
            full_name: record.full_name.clone(),
            date_of_birth: record.date_of_birth,
            ..Default::default()
        })
    } else {
        Typed::Citizen(types::CitizenQuery {
            citizen_id: record.citizen_id.clone(),
        })
    };
    pb::ExchangeRequest {
        service_code: service.to_owned(),
        purpose: String::new(),
        transaction_id: transaction,
        request: Some(typed),
    }
}

/// One round of `records.len()` exchanges from [`CONCURRENCY`] tasks: (exchanges per second,
/// p50, p99).
async fn round(
    edge: u16,
    token: &str,
    service: &'static str,
    records: Arc<Vec<MatchCitizensRequest>>,
    tag: &str,
) -> (f64, Duration, Duration) {
    let connected = channels(edge, CONCURRENCY).await;
    let began = Instant::now();
    let mut tasks = Vec::new();
    for (t, channel) in connected.into_iter().enumerate() {
        let mut client: Client =
            LgspServiceClient::with_interceptor(channel, Bearer::new(Some(token)));
        let records = Arc::clone(&records);
        let tag = tag.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for i in (t..records.len()).step_by(CONCURRENCY) {
                let start = Instant::now();
                client
                    .exchange(request(service, &records[i], format!("{tag}-{i}")))
                    .await
                    .unwrap();
                latencies.push(start.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let rate = records.len() as f64 / began.elapsed().as_secs_f64();
    latencies.sort();
    (
        rate,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
    )
}

/// A province's statistics through the platform, one call at a time: (p50, p99).
async fn statistics(edge: u16, token: &str, tag: &str) -> (Duration, Duration) {
    let channel = channels(edge, 1).await.remove(0);
    let mut client: Client = LgspServiceClient::with_interceptor(channel, Bearer::new(Some(token)));
    let mut latencies = Vec::new();
    for i in 0..STATISTICS_CALLS {
        let start = Instant::now();
        client
            .exchange(pb::ExchangeRequest {
                service_code: "gso.population.statistics".into(),
                purpose: String::new(),
                transaction_id: format!("{tag}-{i}"),
                request: Some(Typed::PopulationStatistics(
                    types::PopulationStatisticsRequest {
                        province_code: "56".into(),
                        era: types::AdminEra::Current as i32,
                        band_years: 5,
                    },
                )),
            })
            .await
            .unwrap();
        latencies.push(start.elapsed());
    }
    latencies.sort();
    (percentile(&latencies, 0.50), percentile(&latencies, 0.99))
}

/// The platform's figures on `store` (`memory` or a Redis URL).
async fn on_store(
    store: &str,
    records: &Arc<Vec<MatchCitizensRequest>>,
    rounds: usize,
) -> Option<()> {
    let namespace = format!("bench-lgsp-{}", std::process::id());
    let (running, _) = start_binary_with(
        super::BINARY,
        &[
            ("SANDBOX06_STORE__URL", store),
            ("SANDBOX06_STORE__NAMESPACE", &namespace),
        ],
    )
    .await;
    let hospital = client_token(running.edge, "demo-hospital", "demo-hospital-secret").await?;
    let console = client_token(running.edge, "sandbox06-admin", "sandbox06-admin-secret").await?;
    let analyst = client_token(running.edge, "demo-statistics", "demo-statistics-secret").await?;
    let warm = Arc::new(records[..records.len().min(500)].to_vec());
    round(
        running.edge,
        &hospital,
        "lgsp.citizen.verify",
        Arc::clone(&warm),
        "warm-l",
    )
    .await;
    round(
        running.edge,
        &console,
        "moj.civil-status.marital",
        warm,
        "warm-n",
    )
    .await;
    let (mut local, mut national, mut stats) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..rounds {
        // Local and national alternate, so the machine's noise falls on both.
        local.push(
            round(
                running.edge,
                &hospital,
                "lgsp.citizen.verify",
                Arc::clone(records),
                &format!("l{r}"),
            )
            .await,
        );
        national.push(
            round(
                running.edge,
                &console,
                "moj.civil-status.marital",
                Arc::clone(records),
                &format!("n{r}"),
            )
            .await,
        );
        stats.push(statistics(running.edge, &analyst, &format!("s{r}")).await);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let backend = if store == "memory" { "memory" } else { "Redis" };
    for (name, results) in [
        ("local provider (lgsp.citizen.verify)", &local),
        (
            "national provider via NDXP (moj.civil-status.marital)",
            &national,
        ),
    ] {
        println!(
            "LGSP Exchange via the edge, {name} ({backend}): {:.0} exchanges/s, p50 {:.2} ms, p99 {:.2} ms ({} exchanges x {rounds} rounds, {CONCURRENCY} in flight, each audited)",
            median(results.iter().map(|r| r.0).collect()),
            median(results.iter().map(|r| ms(r.1)).collect()),
            median(results.iter().map(|r| ms(r.2)).collect()),
            records.len(),
        );
    }
    println!(
        "LGSP population statistics of a province (56, 2025 units) via the edge ({backend}): p50 {:.2} ms, p99 {:.2} ms ({STATISTICS_CALLS} calls one at a time x {rounds} rounds, country of 100 million)",
        median(stats.iter().map(|r| ms(r.0)).collect()),
        median(stats.iter().map(|r| ms(r.1)).collect()),
    );
    drop(running);
    super::clear_bench_state(store, &namespace).await;
    Some(())
}

/// The platform's figures: on memory, then on the Redis at `SANDBOX06_BENCH_REDIS_URL` (default
/// `redis://127.0.0.1:6379`) when it answers.
pub async fn benchmarks(records: Arc<Vec<MatchCitizensRequest>>, rounds: usize) {
    super::on_memory_then_redis("lgsp", |store| {
        let records = Arc::clone(&records);
        async move { on_store(&store, &records, rounds).await }
    })
    .await;
}
