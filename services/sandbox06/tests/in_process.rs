//! Hops between the components of one process (`up`) are in-process: no HTTP/2 and no socket
//! between the edge, the citizen service and the population database, every server layer
//! still run (a caller's deadline still ends the call as DEADLINE_EXCEEDED and travels to the
//! last hop). With `limits.in_process_hops = false`, or for a component served alone, every hop
//! crosses its socket.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::sync::Arc;
use std::time::{Duration, Instant};

use figment::{Figment, providers::Serialized};
use sandbox06::{Alone, Config, Suite, components};
use sandbox06_proto::citizen::GetCitizenRequest;
use sandbox06_proto::citizen::citizen_service_client::CitizenServiceClient;
use sandbox06_proto::population as pop;
use sandbox06_runtime::component::Component;
use sandbox06_runtime::in_process::is_registered;
use sandbox06_testkit::{Answer, Fake, test_config_with};
use sandbox06_world::personas::ids::HAPPY_PATH;
use tonic::Code;

/// The suite's test config with no tokens asked at the edge.
fn config(extra: Figment) -> Config {
    test_config_with(
        Figment::new()
            .merge(Serialized::default("gateway.enforce_auth", false))
            .merge(extra),
    )
}

async fn started(config: &Config, list: Vec<Arc<dyn Component>>) -> Suite {
    let mut suite = Suite::start_with(config, list).await.unwrap();
    suite.wait_ready(Duration::from_secs(20)).await.unwrap();
    suite
}

async fn citizens(suite: &Suite) -> CitizenServiceClient<tonic::transport::Channel> {
    CitizenServiceClient::connect(format!("http://{}", suite.edge))
        .await
        .unwrap()
}

fn get(citizen_id: &str) -> GetCitizenRequest {
    GetCitizenRequest {
        citizen_id: citizen_id.to_owned(),
        read_mask: None,
    }
}

#[tokio::test]
async fn under_up_every_hop_is_in_process_and_answers() {
    let suite = started(&config(Figment::new()), components()).await;
    for name in ["gateway", "citizen", "population-db", "vneid", "sso"] {
        let addr = suite.addr(name).unwrap();
        assert!(is_registered(addr), "{name} at {addr} is not in-process");
        let channel = sandbox06_runtime::peer_channel(&format!("http://{addr}")).unwrap();
        assert!(channel.is_in_process(), "{name}");
    }
    let answer = citizens(&suite)
        .await
        .get_citizen(get(HAPPY_PATH))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.citizen.unwrap().citizen_id, HAPPY_PATH);
    let citizen = suite.addr("citizen").unwrap();
    suite.stop().await.unwrap();
    // Stopped, it is gone from the registry: a call fails as at a closed socket.
    assert!(!is_registered(citizen));
    let mut closed = CitizenServiceClient::new(
        sandbox06_runtime::peer_channel(&format!("http://{citizen}")).unwrap(),
    );
    let status = closed.get_citizen(get(HAPPY_PATH)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
}

#[tokio::test]
async fn with_in_process_hops_off_every_hop_takes_its_socket() {
    let config = config(Figment::new().merge(Serialized::default("limits.in_process_hops", false)));
    let suite = started(&config, components()).await;
    for name in ["gateway", "citizen", "population-db"] {
        assert!(!is_registered(suite.addr(name).unwrap()), "{name}");
    }
    let answer = citizens(&suite)
        .await
        .get_citizen(get(HAPPY_PATH))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.citizen.unwrap().citizen_id, HAPPY_PATH);
    suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_component_served_alone_is_called_over_tcp() {
    let config = config(Figment::new());
    let population = components()
        .into_iter()
        .find(|c| c.spec().name == "population-db")
        .unwrap();
    let alone = Alone::bind_component(&config, population, components())
        .await
        .unwrap();
    let addr = alone.addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn({
        let config = config.clone();
        async move {
            alone
                .serve(
                    &config,
                    Box::pin(async {
                        let _ = stopped.await;
                    }),
                )
                .await
        }
    });
    let url = format!("http://{addr}");
    let channel = sandbox06_runtime::peer_channel(&url).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = sandbox06_runtime::client::health_status(channel.clone(), "").await;
        if status.is_ok_and(|status| status == "SERVING") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "population-db alone never served"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!is_registered(addr));
    assert!(!channel.is_in_process());
    let mut client =
        sandbox06_proto::population::population_service_client::PopulationServiceClient::new(
            channel,
        );
    let answer = client
        .get_citizen(pop::GetCitizenRequest {
            citizen_id: HAPPY_PATH.to_owned(),
            view: pop::RecordView::Basic as i32,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(answer.citizen.is_some());
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_callers_deadline_ends_the_call_through_the_in_process_hops() {
    // A population database that never answers, noting the deadline each call arrived with.
    let stalled = Fake::new(Answer::Stall);
    let list: Vec<Arc<dyn Component>> = components()
        .into_iter()
        .map(|c| {
            if c.spec().name == "population-db" {
                stalled.component(&sandbox06_population_db::component::SPEC)
            } else {
                c
            }
        })
        .collect();
    let suite = started(&config(Figment::new()), list).await;
    assert!(is_registered(suite.addr("citizen").unwrap()));
    assert!(is_registered(suite.addr("population-db").unwrap()));
    let mut request = tonic::Request::new(get(HAPPY_PATH));
    request.set_timeout(Duration::from_millis(500));
    let started_at = Instant::now();
    let status = tokio::time::timeout(
        Duration::from_secs(10),
        citizens(&suite).await.get_citizen(request),
    )
    .await
    .expect("an answer, not a hang")
    .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(started_at.elapsed() < Duration::from_secs(5));
    // The deadline travelled to the last hop as what was left of it.
    let deadlines = stalled.deadlines();
    assert!(!deadlines.is_empty());
    for deadline in deadlines {
        let deadline = deadline.expect("a grpc-timeout on the population call");
        assert!(deadline <= Duration::from_millis(500), "{deadline:?}");
    }
    suite.stop().await.unwrap();
}
