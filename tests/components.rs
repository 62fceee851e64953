//! The components run alone, as containers run them (`sandbox06 serve <component>`): each
//! finds its peers through its own configuration section, and says which key is missing.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use figment::{Figment, providers::Serialized};
use sandbox06_proto::citizen::{GetCitizenRequest, citizen_service_client::CitizenServiceClient};
use sandbox06_runtime::{component::StartError, error::reason_of};
use sandbox06_testkit::{Answer, FakeUpstream, personas, serve_alone, test_config};
use tonic::Code;

fn get(citizen_id: &str) -> GetCitizenRequest {
    GetCitizenRequest {
        citizen_id: citizen_id.into(),
        read_mask: None,
    }
}

#[tokio::test]
async fn each_component_alone_answers_through_the_edge() {
    let population = serve_alone("population-db", Figment::new()).await;
    let citizen = serve_alone(
        "citizen",
        Figment::new().merge(Serialized::default(
            "citizen.population_url",
            population.url(),
        )),
    )
    .await;
    let gateway = serve_alone(
        "gateway",
        Figment::new().merge(Serialized::default(
            "gateway.backends.citizen",
            citizen.url(),
        )),
    )
    .await;
    let mut client = CitizenServiceClient::connect(gateway.url()).await.unwrap();
    let citizen_record = client
        .get_citizen(get(personas::HAPPY_PATH))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(citizen_record.citizen.unwrap().full_name, "Nguyễn Văn Hùng");
    gateway.stop().await.unwrap();
    citizen.stop().await.unwrap();
    population.stop().await.unwrap();
}

#[tokio::test]
async fn a_service_in_front_of_a_failing_upstream_says_so() {
    let upstream = FakeUpstream::start(Answer::Status(Code::Unavailable, "down".into())).await;
    let citizen = serve_alone(
        "citizen",
        Figment::new().merge(Serialized::default(
            "citizen.population_url",
            upstream.url(),
        )),
    )
    .await;
    let mut client = CitizenServiceClient::connect(citizen.url()).await.unwrap();
    let status = client
        .get_citizen(get(personas::HAPPY_PATH))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(reason_of(&status).as_deref(), Some("UPSTREAM_UNAVAILABLE"));
    assert_eq!(
        upstream.calls(),
        ["/sandbox06.upstream.population.v1.PopulationService/GetCitizen"]
    );
}

#[tokio::test]
async fn a_component_alone_without_its_peers_url_names_the_key() {
    let config = test_config();
    for (name, key) in [
        ("citizen", "citizen.population_url"),
        ("gateway", "gateway.backends.citizen"),
    ] {
        let alone = sandbox06::Alone::bind(&config, name).await.unwrap();
        let error = alone
            .serve(&config, Box::pin(std::future::pending()))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, StartError::MissingPeer { key: k, .. } if k == key),
            "{name}: {error}"
        );
        assert!(error.to_string().contains(key), "{error}");
    }
}
