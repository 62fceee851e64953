//! Writes that hold: concurrent life events on one replica and on two sharing Redis record
//! exactly one of what only one may be, a retried event with an idempotency key is answered
//! once (also across a restart), and a citizen with a long history stays small to read.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::time::{Duration, Instant};

use figment::{Figment, providers::Serialized};
use futures::StreamExt;
use sandbox06_proto::{
    citizen::{GetCitizenRequest, MatchCitizensRequest, match_citizens_response::Result as Match},
    population::{
        self as pop, life_event::Change, population_service_client::PopulationServiceClient,
    },
    types,
};
use sandbox06_runtime::error::reason_of;
use sandbox06_testkit::{
    Harness, personas, redis_url, single_women, start, start_with, test_config_with,
};
use sandbox06_world::{Country, View};
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

fn moved(street: &str) -> Change {
    Change::Moved(pop::Moved {
        commune_code: "22366".into(),
        street: street.into(),
    })
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

/// The answers of a MatchCitizens stream of `requests`, through the edge.
async fn match_all(
    h: &Harness,
    requests: Vec<MatchCitizensRequest>,
) -> Vec<Result<sandbox06_proto::citizen::MatchCitizensResponse, Status>> {
    h.citizens()
        .match_citizens(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner()
        .collect()
        .await
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
    let config = redis_config(&url, &sandbox06_testkit::unique_namespace("writes"));
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
    sandbox06_testkit::clear_stores(&config).await;
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
    let config = redis_config(&url, &sandbox06_testkit::unique_namespace("writes"));
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
    let store = config
        .store
        .for_component("population-db")
        .open()
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
    sandbox06_testkit::clear_stores(&config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_with_600_attempted_moves_keeps_100_and_stays_small_to_read() {
    let h = start().await;
    let mut client = population(&h).await;
    let citizen = personas::NO_VNEID;
    let (mut stored, mut full) = (0, 0);
    for n in 0..600 {
        let street = format!("Số {n} đường Trần Phú");
        match client
            .create_life_event(request(citizen, moved(&street), ""))
            .await
        {
            Ok(_) => stored += 1,
            Err(e) => {
                assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
                assert_eq!(reason_of(&e).as_deref(), Some("HISTORY_FULL"));
                full += 1;
            }
        }
    }
    assert_eq!((stored, full), (100, 500));

    // One read, through the suite: small and quick.
    let started = Instant::now();
    let record = h
        .citizens()
        .get_citizen(GetCitizenRequest {
            citizen_id: citizen.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        prost::Message::encoded_len(&record) < 256 * 1024,
        "{}",
        prost::Message::encoded_len(&record)
    );
    let full_record = client
        .get_citizen(pop::GetCitizenRequest {
            citizen_id: citizen.into(),
            view: pop::RecordView::Full as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .citizen
        .unwrap();
    assert_eq!(full_record.previous_addresses.len(), 100);
    let one = prost::Message::encoded_len(&full_record);

    // Batches of it: the full view of many would pass the 4 MiB a client takes, so it is
    // refused at once, naming the limit; the basic view of the largest batch fits.
    let many = |n: usize, view: pop::RecordView| pop::BatchGetCitizensRequest {
        citizen_ids: vec![citizen.to_owned(); n],
        view: view as i32,
    };
    let count = 4 * 1024 * 1024 / one + 1;
    let started = Instant::now();
    let e = client
        .batch_get_citizens(many(count.max(100), pop::RecordView::Full))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    assert_eq!(reason_of(&e).as_deref(), Some("RESPONSE_TOO_LARGE"));
    let fits = client
        .batch_get_citizens(many(count / 2, pop::RecordView::Full))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fits.results.len(), count / 2);
    let basic = client
        .batch_get_citizens(many(
            sandbox06_population_db::MAX_BATCH,
            pop::RecordView::Basic,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(basic.results.len(), sandbox06_population_db::MAX_BATCH);

    // A stream of records of it, matched through the suite in batches.
    let p = h
        .suite
        .country
        .person(
            sandbox06_vn::CitizenId::parse_field(citizen, "citizen_id").unwrap(),
            View::Basic,
        )
        .unwrap();
    let requests: Vec<_> = (0..2_000)
        .map(|n| MatchCitizensRequest {
            record_key: format!("r{n}"),
            citizen_id: citizen.into(),
            full_name: p.full_name.clone(),
            date_of_birth: full_record.date_of_birth,
            sex: full_record.sex,
        })
        .collect();
    let started = Instant::now();
    let responses = match_all(&h, requests).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(responses.len(), 2_000);
    for response in responses {
        assert!(matches!(response.unwrap().result, Some(Match::Match(_))));
    }
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_batch_too_large_for_one_answer_is_asked_for_in_parts() {
    // A size limit that 512 basic records exceed: the citizen service splits its batches.
    let h = start_with(&test_config_with(
        Figment::new().merge(Serialized::default("limits.max_request_bytes", 16 * 1024)),
    ))
    .await;
    let country = h.suite.country.clone();
    let requests: Vec<_> = (0..600u64)
        .map(|n| {
            let id = country.citizen_at(n * 1_000).unwrap();
            let p = country.person(id, View::Basic).unwrap();
            MatchCitizensRequest {
                record_key: format!("r{n}"),
                citizen_id: id.to_string(),
                full_name: p.full_name,
                ..Default::default()
            }
        })
        .collect();
    let responses = match_all(&h, requests).await;
    assert_eq!(responses.len(), 600);
    for (n, response) in responses.into_iter().enumerate() {
        let response = response.unwrap();
        assert_eq!(response.index, n as i64);
        assert!(
            matches!(response.result, Some(Match::Match(_))),
            "{response:?}"
        );
    }
    h.suite.stop().await.unwrap();
}
