//! Writes that hold: concurrent life events on one replica and on two sharing Redis record
//! exactly one of what only one may be, and a retried event with an idempotency key is
//! answered once (also across a restart).

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use figment::{Figment, providers::Serialized};
use sandbox06_proto::{
    population::{
        self as pop, life_event::Change, population_service_client::PopulationServiceClient,
    },
    types,
};
use sandbox06_runtime::error::reason_of;
use sandbox06_testkit::{
    Harness, personas, redis_url, single_women, start, start_with, test_config_with,
};
use sandbox06_world::Country;
use tonic::{Code, Status, transport::Channel};

type Population = PopulationServiceClient<Channel>;

async fn population(h: &Harness) -> Population {
    PopulationServiceClient::connect(h.url_of("population-db"))
        .await
        .unwrap()
}

fn married(spouse: &str) -> Change {
    Change::Married(pop::Married {
        spouse_citizen_id: spouse.into(),
    })
}

fn died() -> Change {
    Change::Died(pop::Died {})
}

fn request(citizen: &str, change: Change, request_id: &str) -> pop::CreateLifeEventRequest {
    pop::CreateLifeEventRequest {
        citizen_id: citizen.into(),
        event: Some(pop::LifeEvent {
            effective_date: None,
            change: Some(change),
        }),
        request_id: request_id.into(),
    }
}

/// Sends the requests at once, spread over the replicas' clients; the answers, in order.
async fn race(
    replicas: &[Population],
    requests: Vec<pop::CreateLifeEventRequest>,
) -> Vec<Result<pop::Citizen, Status>> {
    let tasks: Vec<_> = requests
        .into_iter()
        .enumerate()
        .map(|(n, request)| {
            let mut client = replicas[n % replicas.len()].clone();
            tokio::spawn(async move {
                client
                    .create_life_event(request)
                    .await
                    .map(|r| r.into_inner().citizen.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// Exactly one success; every other answer the rules' refusal containing `refusal`.
fn one_success(answers: &[Result<pop::Citizen, Status>], refusal: &str) {
    let won = answers.iter().filter(|a| a.is_ok()).count();
    assert_eq!(won, 1, "{answers:?}");
    for answer in answers {
        if let Err(status) = answer {
            assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
            assert_eq!(reason_of(status).as_deref(), Some("INVALID_ARGUMENT"));
            assert!(status.message().contains(refusal), "{status:?}");
        }
    }
}

/// Ten marriages of one man to ten women, half asked by him, half by the brides.
fn ten_marriages(country: &Country, man: &str) -> Vec<pop::CreateLifeEventRequest> {
    single_women(country, 10)
        .iter()
        .enumerate()
        .map(|(n, bride)| {
            if n % 2 == 0 {
                request(man, married(bride), "")
            } else {
                request(bride, married(man), "")
            }
        })
        .collect()
}

/// The man's record and the brides': one wife, married to him; the others single.
async fn one_wife(client: &mut Population, man: &str, brides: &[pop::CreateLifeEventRequest]) {
    let get = |id: String| pop::GetCitizenRequest {
        citizen_id: id,
        view: pop::RecordView::Full as i32,
    };
    let husband = client
        .get_citizen(get(man.into()))
        .await
        .unwrap()
        .into_inner()
        .citizen
        .unwrap();
    assert_eq!(husband.marital_status, types::MaritalStatus::Married as i32);
    let wife = husband.spouse.unwrap().citizen_id;
    let mut wives = 0;
    for request in brides {
        let bride = match &request.event.as_ref().unwrap().change {
            Some(Change::Married(m)) if m.spouse_citizen_id != man => m.spouse_citizen_id.clone(),
            _ => request.citizen_id.clone(),
        };
        let record = client
            .get_citizen(get(bride.clone()))
            .await
            .unwrap()
            .into_inner()
            .citizen
            .unwrap();
        if bride == wife {
            wives += 1;
            assert_eq!(record.spouse.unwrap().citizen_id, man);
        } else {
            assert_eq!(
                record.marital_status,
                types::MaritalStatus::Single as i32,
                "{bride}"
            );
        }
    }
    assert_eq!(wives, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_one_replica_one_of_ten_concurrent_marriages_or_deaths_is_recorded() {
    let h = start().await;
    let client = population(&h).await;
    let man = personas::NO_VNEID;
    let marriages = ten_marriages(&h.suite.country, man);
    let answers = race(std::slice::from_ref(&client), marriages.clone()).await;
    one_success(&answers, "already married");
    one_wife(&mut client.clone(), man, &marriages).await;

    let deaths = (0..10)
        .map(|_| request(personas::VNEID_LEVEL_1, died(), ""))
        .collect();
    let answers = race(std::slice::from_ref(&client), deaths).await;
    one_success(&answers, "death is registered");
    h.suite.stop().await.unwrap();
}

fn namespace() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("sandbox06-writes-{}-{nanos}", std::process::id())
}

fn redis_config(url: &str, namespace: &str) -> sandbox06::Config {
    test_config_with(
        Figment::new()
            .merge(Serialized::default("store.url", url))
            .merge(Serialized::default("store.namespace", namespace)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(redis_url_set),
    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
)]
async fn on_two_replicas_sharing_redis_one_of_ten_concurrent_marriages_or_deaths_is_recorded() {
    let Some(url) = redis_url(
        "on_two_replicas_sharing_redis_one_of_ten_concurrent_marriages_or_deaths_is_recorded",
    ) else {
        return;
    };
    let config = redis_config(&url, &namespace());
    let first = start_with(&config).await;
    let second = start_with(&config).await;
    let replicas = [population(&first).await, population(&second).await];
    let man = personas::NO_VNEID;
    let marriages = ten_marriages(&first.suite.country, man);
    let answers = race(&replicas, marriages.clone()).await;
    one_success(&answers, "already married");
    one_wife(&mut replicas[1].clone(), man, &marriages).await;

    let deaths = (0..10)
        .map(|_| request(personas::VNEID_LEVEL_1, died(), ""))
        .collect();
    let answers = race(&replicas, deaths).await;
    one_success(&answers, "death is registered");
    first.suite.stop().await.unwrap();
    second.suite.stop().await.unwrap();
    let store = sandbox06_store::open(&url, &config.store.namespace)
        .await
        .unwrap();
    store.clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(redis_url_set),
    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
)]
async fn a_retried_life_event_is_recorded_once_across_replicas_and_a_restart() {
    let Some(url) =
        redis_url("a_retried_life_event_is_recorded_once_across_replicas_and_a_restart")
    else {
        return;
    };
    let config = redis_config(&url, &namespace());
    let first = start_with(&config).await;
    let second = start_with(&config).await;
    let replicas = [population(&first).await, population(&second).await];
    let key = "marriage-0001";
    let marriage = || request(personas::NO_VNEID, married(personas::VNEID_LEVEL_1), key);
    // Ten concurrent copies of one request, on two replicas: every answer is the marriage.
    let answers = race(&replicas, (0..10).map(|_| marriage()).collect()).await;
    for answer in &answers {
        let citizen = answer.as_ref().unwrap();
        assert_eq!(
            citizen.spouse.as_ref().unwrap().citizen_id,
            personas::VNEID_LEVEL_1
        );
    }
    first.suite.stop().await.unwrap();
    second.suite.stop().await.unwrap();

    // After a restart the key is still known: a retry succeeds, another request under it
    // is refused, and the marriage is recorded once.
    let third = start_with(&config).await;
    let mut client = population(&third).await;
    let again = client.create_life_event(marriage()).await.unwrap();
    assert_eq!(
        again.into_inner().citizen.unwrap().marital_status,
        types::MaritalStatus::Married as i32
    );
    let e = client
        .create_life_event(request(personas::NO_VNEID, died(), key))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists, "{e:?}");
    assert_eq!(reason_of(&e).as_deref(), Some("REQUEST_ID_REUSED"));
    let store = sandbox06_store::open(&url, &config.store.namespace)
        .await
        .unwrap();
    let events = store
        .list(&format!(
            "population:{{overlay}}:events:{}",
            personas::NO_VNEID
        ))
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    third.suite.stop().await.unwrap();
    store.clear().await.unwrap();
}
