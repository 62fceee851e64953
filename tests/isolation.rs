//! One client's traffic, or one slow upstream, cannot fail another client's calls: reproductions
//! of a burst of streams and of a stalled population database with trickling clients, with an
//! unrelated caller watching for collateral damage.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::time::Duration;

use figment::Figment;
use futures::StreamExt;
use sandbox06_proto::citizen::{
    GetCitizenRequest, MatchCitizensRequest, MatchCitizensResponse,
    citizen_service_client::CitizenServiceClient, match_citizens_response::Result as Outcome,
};
use sandbox06_testkit::{
    Answer, Bearer, Edge, FakeUpstream, citizen_in_front_of, edge_in_front_of, personas,
};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tonic::{Code, transport::Channel};

/// A record answered by the citizen service alone, without its population database.
fn malformed(key: &str) -> MatchCitizensRequest {
    MatchCitizensRequest {
        record_key: key.into(),
        citizen_id: "12345".into(),
        ..Default::default()
    }
}

/// A record the population database must be asked about.
fn claim(key: &str) -> MatchCitizensRequest {
    MatchCitizensRequest {
        record_key: key.into(),
        citizen_id: personas::HAPPY_PATH.into(),
        full_name: "Nguyễn Văn Hùng".into(),
        ..Default::default()
    }
}

/// A new connection to `url`, apart from every other client's, calling with `token` (an edge
/// that enforces none takes calls without).
async fn connect(url: &str, token: Option<&str>) -> CitizenServiceClient<Edge> {
    let channel = Channel::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let bearer = token.map_or_else(Bearer::none, Bearer::new);
    CitizenServiceClient::with_interceptor(channel, bearer)
}

/// An unrelated caller, on its own connection, while `while_running` goes on: one long
/// MatchCitizens stream answered record by record, and unary calls beside it. Every answer
/// must be the citizen service's own (INVALID_ARGUMENT), never a failure of the path to it.
async fn watch_unrelated_caller<F: std::future::Future>(
    url: &str,
    token: Option<&str>,
    while_running: F,
) -> F::Output {
    let mut client = connect(url, token).await;
    let (records, inbound) = tokio::sync::mpsc::channel::<MatchCitizensRequest>(16);
    let mut outbound = client
        .match_citizens(tokio_stream::wrappers::ReceiverStream::new(inbound))
        .await
        .unwrap()
        .into_inner();
    let watcher = async {
        let mut sent = 0usize;
        let mut unary = client.clone();
        loop {
            if records.send(malformed(&sent.to_string())).await.is_err() {
                let ended = outbound.next().await;
                panic!("the unrelated stream was closed: {ended:?}");
            }
            sent += 1;
            let answer: MatchCitizensResponse =
                tokio::time::timeout(Duration::from_secs(10), outbound.next())
                    .await
                    .expect("the unrelated stream answers in time")
                    .expect("the unrelated stream goes on")
                    .expect("the unrelated stream is not failed");
            assert!(
                matches!(answer.result, Some(Outcome::Error(_))),
                "{answer:?}"
            );
            let status = unary
                .get_citizen(GetCitizenRequest {
                    citizen_id: "12345".into(),
                    read_mask: None,
                })
                .await
                .unwrap_err();
            assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::select! {
        output = while_running => output,
        () = watcher => unreachable!("the watcher only ends by failing"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_thousand_match_streams_leave_other_callers_untouched() {
    let harness = sandbox06_testkit::start().await;
    let edge = format!("http://{}", harness.suite.edge);
    let burst = async {
        // One client's burst, over its own connection.
        let client = connect(&edge, Some(&harness.token)).await;
        let mut streams = JoinSet::new();
        for stream in 0..3_000 {
            let mut client = client.clone();
            streams.spawn(async move {
                // A frame per record, as a client writing each record as it has it does.
                let records = futures::stream::iter(0..8).then(move |i| async move {
                    tokio::task::yield_now().await;
                    claim(&format!("{stream}-{i}"))
                });
                let answers: Vec<_> = client
                    .match_citizens(records)
                    .await?
                    .into_inner()
                    .collect()
                    .await;
                Ok::<_, tonic::Status>(answers.len())
            });
        }
        let mut failed = Vec::new();
        while let Some(done) = streams.join_next().await {
            match done.unwrap() {
                Ok(8) => {}
                other => failed.push(format!("{other:?}")),
            }
        }
        failed
    };
    let failed = watch_unrelated_caller(&edge, Some(&harness.token), burst).await;
    // The burst's own streams are served too: the edge pushes back, it does not reset.
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(3)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_population_database_and_trickling_clients_leave_other_callers_untouched() {
    let stalled = FakeUpstream::start(Answer::Stall).await;
    let citizen = citizen_in_front_of(&stalled.url()).await;
    let gateway = edge_in_front_of(&citizen.url(), Figment::new()).await;
    let edge = gateway.url();
    let trickle = async {
        // Clients whose records wait on the stalled database, sent one at a time, so that
        // each is its own small frame all the way to the citizen service.
        let client = connect(&edge, None).await;
        let mut streams = JoinSet::new();
        for stream in 0..40 {
            let mut client = client.clone();
            streams.spawn(async move {
                let records = futures::stream::iter(0..150).then(move |i| async move {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    claim(&format!("{stream}-{i}"))
                });
                // They are never answered while the database stalls; the caller gives up.
                let _ = tokio::time::timeout(Duration::from_secs(4), async move {
                    let mut answers = client.match_citizens(records).await?.into_inner();
                    while answers.message().await?.is_some() {}
                    Ok::<_, tonic::Status>(())
                })
                .await;
            });
        }
        while streams.join_next().await.is_some() {}
    };
    watch_unrelated_caller(&edge, None, trickle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_open_when_the_suite_stops_finishes_with_every_answer() {
    let harness = sandbox06_testkit::start().await;
    let edge_addr = harness.suite.edge;
    let mut client = connect(&format!("http://{edge_addr}"), Some(&harness.token)).await;
    let (records, inbound) = tokio::sync::mpsc::channel::<MatchCitizensRequest>(16);
    let mut answers = client
        .match_citizens(tokio_stream::wrappers::ReceiverStream::new(inbound))
        .await
        .unwrap()
        .into_inner();
    records.send(claim("before")).await.unwrap();
    let first = answers.message().await.unwrap().unwrap();
    assert!(matches!(first.result, Some(Outcome::Match(_))), "{first:?}");

    // Told to stop (as SIGTERM does) while the stream is open.
    let stopping = tokio::spawn(harness.suite.stop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        TcpStream::connect(edge_addr).await.is_err(),
        "the edge no longer accepts connections"
    );
    // The open call goes on: its service and the population database still answer it.
    for key in ["after-1", "after-2"] {
        records.send(claim(key)).await.unwrap();
        let answer = answers.message().await.unwrap().unwrap();
        assert_eq!(answer.record_key, key);
        assert!(
            matches!(answer.result, Some(Outcome::Match(_))),
            "{answer:?}"
        );
    }
    drop(records);
    assert!(answers.message().await.unwrap().is_none());
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("stopped once the call ended")
        .unwrap()
        .unwrap();
}
