//! Lodging declarations through the edge, as a hotel's software sends them: declarations per
//! second and their latency, and the outbox's lag (from a declaration's record to the
//! registry's answer committed, both on the suite's clock, read from the watch of events),
//! on the memory store and, when one answers, on Redis.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use futures::StreamExt;
use sandbox06_proto::{
    citizen::MatchCitizensRequest,
    lodging::{self as pb, DeclarationEventType, lodging_service_client::LodgingServiceClient},
    types::ReasonOfStay,
};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use super::{Bearer, channels, client_token, median, percentile, start_binary_with};

const HOTEL: &str = "demo-hotel-phan-rang";
/// Calls in flight.
const CONCURRENCY: usize = 32;

type Client = LodgingServiceClient<InterceptedService<Channel, Bearer>>;

fn timestamp(at: std::time::SystemTime) -> prost_types::Timestamp {
    prost_types::Timestamp::from(at)
}

/// A declaration of one citizen, as the population database records them, in room `n`.
fn declaration(record: &MatchCitizensRequest, n: usize) -> pb::Declaration {
    let now = std::time::SystemTime::now();
    pb::Declaration {
        guests: vec![pb::Guest {
            identity: Some(pb::guest::Identity::Citizen(pb::CitizenGuest {
                citizen_id: record.citizen_id.clone(),
                full_name: record.full_name.clone(),
                date_of_birth: record.date_of_birth,
                sex: record.sex,
                ..Default::default()
            })),
            reason_of_stay: ReasonOfStay::Tourism as i32,
            ..Default::default()
        }],
        place: Some(pb::Place {
            kind: Some(pb::place::Kind::Room(pb::RoomPlace {
                room: format!("{}", n % 500 + 1),
            })),
        }),
        arrival_time: Some(timestamp(now - Duration::from_secs(3_600))),
        expected_departure_time: Some(timestamp(now + Duration::from_secs(86_400))),
        ..Default::default()
    }
}

/// The steady rate the lag is also measured at, declarations per second: a hotel chain's
/// busy evening, well under what the service takes.
const PACED: f64 = 500.0;

/// One round: `records.len()` declarations from [`CONCURRENCY`] tasks, each with its own
/// request id, as fast as they are answered or at `pace` per second; (declarations per
/// second, p50, p99 of a create, p50 and p99 of the lag to the registry's answer, answers per
/// second from the first create to the last answer).
async fn round(
    edge: u16,
    token: &str,
    records: Arc<Vec<MatchCitizensRequest>>,
    tag: &str,
    pace: Option<f64>,
) -> (f64, Duration, Duration, Duration, Duration, f64) {
    let connected = channels(edge, CONCURRENCY).await;
    let client = |channel: Channel| -> Client {
        LodgingServiceClient::with_interceptor(channel, Bearer::new(Some(token)))
    };
    // The registry's answers from now on.
    let mut watch = client(connected[0].clone())
        .watch_declaration_events(pb::WatchDeclarationEventsRequest {
            facility_id: HOTEL.into(),
            start_after_event_id: String::new(),
            event_types: vec![
                DeclarationEventType::DeliveryAccepted as i32,
                DeclarationEventType::DeliveryRejected as i32,
            ],
            stop_at_latest: false,
        })
        .await
        .unwrap()
        .into_inner();
    let total = records.len();
    let began = Instant::now();
    let mut tasks = Vec::new();
    for (t, channel) in connected.into_iter().enumerate() {
        let mut client = client(channel);
        let records = Arc::clone(&records);
        let tag = tag.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for i in (t..records.len()).step_by(CONCURRENCY) {
                if let Some(rate) = pace {
                    let due = began + Duration::from_secs_f64(i as f64 / rate);
                    tokio::time::sleep_until(due.into()).await;
                }
                let start = Instant::now();
                client
                    .create_declaration(pb::CreateDeclarationRequest {
                        facility_id: HOTEL.into(),
                        declaration: Some(declaration(&records[i], i)),
                        declaration_id: String::new(),
                        request_id: format!("{tag}-{i}"),
                        validate_only: false,
                    })
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
    let rate = total as f64 / began.elapsed().as_secs_f64();
    latencies.sort();
    // Every answer, with its lag.
    let mut lags = Vec::new();
    while lags.len() < total {
        let event = tokio::time::timeout(Duration::from_secs(60), watch.next())
            .await
            .expect("the registry answers every declaration within a minute")
            .unwrap()
            .unwrap();
        let declaration = event.declaration.unwrap();
        let (Some(answered), Some(created)) = (event.time, declaration.create_time) else {
            continue;
        };
        let nanos = (answered.seconds - created.seconds) as i128 * 1_000_000_000
            + i128::from(answered.nanos - created.nanos);
        lags.push(Duration::from_nanos(nanos.max(0) as u64));
    }
    let delivered = total as f64 / began.elapsed().as_secs_f64();
    lags.sort();
    (
        rate,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&lags, 0.50),
        percentile(&lags, 0.99),
        delivered,
    )
}

/// Declarations per second and the outbox's lag, on `store` (`memory` or a Redis URL).
async fn on_store(
    store: &str,
    records: &Arc<Vec<MatchCitizensRequest>>,
    rounds: usize,
) -> Option<()> {
    let namespace = format!("bench-lodging-{}", std::process::id());
    let (running, _) = start_binary_with(
        super::BINARY,
        &[
            ("SANDBOX06_STORE__URL", store),
            ("SANDBOX06_STORE__NAMESPACE", &namespace),
        ],
    )
    .await;
    let token = client_token(running.edge, "demo-hotel", "demo-hotel-secret").await?;
    // Warm-up.
    let warm = Arc::new(records[..records.len().min(500)].to_vec());
    round(running.edge, &token, warm, "warm", None).await;
    let mut results = Vec::new();
    let mut paced = Vec::new();
    for r in 0..rounds {
        results.push(
            round(
                running.edge,
                &token,
                Arc::clone(records),
                &format!("r{r}"),
                None,
            )
            .await,
        );
        // The burst's answers acknowledged and its events trimmed first: a steady evening,
        // not the tail of a burst.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let steady = Arc::new(records[..records.len().min(PACED as usize * 6)].to_vec());
        paced.push(round(running.edge, &token, steady, &format!("p{r}"), Some(PACED)).await);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let backend = if store == "memory" { "memory" } else { "Redis" };
    println!(
        "CreateDeclaration via the edge ({backend}): {:.0} declarations/s, p50 {:.2} ms, p99 {:.2} ms ({} declarations of one citizen x {rounds} rounds, {CONCURRENCY} in flight)",
        median(results.iter().map(|r| r.0).collect()),
        median(results.iter().map(|r| ms(r.1)).collect()),
        median(results.iter().map(|r| ms(r.2)).collect()),
        records.len(),
    );
    println!(
        "outbox lag to the registry's answer ({backend}), at that rate: p50 {:.1} ms, p99 {:.1} ms; all answered at {:.0} declarations/s",
        median(results.iter().map(|r| ms(r.3)).collect()),
        median(results.iter().map(|r| ms(r.4)).collect()),
        median(results.iter().map(|r| r.5).collect()),
    );
    println!(
        "outbox lag to the registry's answer ({backend}), at {PACED:.0} declarations/s: p50 {:.1} ms, p99 {:.1} ms (create p99 {:.2} ms)",
        median(paced.iter().map(|r| ms(r.3)).collect()),
        median(paced.iter().map(|r| ms(r.4)).collect()),
        median(paced.iter().map(|r| ms(r.2)).collect()),
    );
    drop(running);
    super::clear_bench_state(store, &namespace).await;
    Some(())
}

/// The lodging figures: on memory, then on the Redis at `SANDBOX06_BENCH_REDIS_URL` (default
/// `redis://127.0.0.1:6379`) when it answers.
pub async fn benchmarks(records: Arc<Vec<MatchCitizensRequest>>, rounds: usize) {
    super::on_memory_then_redis("lodging", |store| {
        let records = Arc::clone(&records);
        async move { on_store(&store, &records, rounds).await }
    })
    .await;
}
