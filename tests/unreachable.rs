//! A component whose upstream or store cannot be reached, or fails, says so in the suite's own
//! words: what cannot be reached (`metadata.backend` names it) and "retry later", or the code
//! and reason the upstream answered; never the transport's or a client library's text, which is
//! logged instead.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::sync::Arc;

use figment::{Figment, providers::Serialized};
use sandbox06_country::CountryConfig;
use sandbox06_population_db::PopulationDb;
use sandbox06_proto::{
    citizen::{
        GetCitizenRequest, MatchCitizensRequest, citizen_service_client::CitizenServiceClient,
        match_citizens_response::Result as MatchResult,
    },
    population::{self as pop, population_service_server::PopulationService},
    vneid::{
        AuthenticateRequest, GetAccountRequest, authenticate_request::Method,
        vneid_service_client::VneidServiceClient, vneid_service_server::VneidService,
    },
};
use sandbox06_runtime::error::reason_of;
use sandbox06_store::RedisStore;
use sandbox06_testkit::{
    Answer, FailingStore, FakeUpstream, REFERENCE_DATE, citizen_in_front_of, personas, serve_alone,
};
use sandbox06_vneid::{GrpcHolders, Vneid};
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

/// Words of a transport, a protocol or a client library, none of which a client may read.
const LIBRARY_WORDS: &[&str] = &[
    "transport",
    "tcp connect",
    "os error",
    "connection refused",
    "h2",
    "hyper",
    "dns",
    "status:",
    "tonic",
    "redis",
    "ioerror",
];

/// The library words in `text`, whatever their case.
fn library_words(text: &str) -> Vec<&'static str> {
    let text = text.to_lowercase();
    LIBRARY_WORDS
        .iter()
        .copied()
        .filter(|word| text.contains(word))
        .collect()
}

/// `status` is `code` with `reason`, names `backend`, and quotes no library anywhere: not in
/// its message, its details (ErrorInfo metadata, field violations) or its metadata.
fn assert_in_the_suites_words(status: &Status, code: Code, reason: &str, backend: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(reason_of(status).as_deref(), Some(reason), "{status:?}");
    let info = status.get_details_error_info().unwrap();
    assert_eq!(
        info.metadata.get("backend").map(String::as_str),
        Some(backend),
        "{status:?}"
    );
    let details = String::from_utf8_lossy(status.details());
    let metadata = format!("{:?}", status.metadata());
    for (what, text) in [
        ("message", status.message()),
        ("details", &details),
        ("metadata", &metadata),
    ] {
        assert!(
            library_words(text).is_empty(),
            "the {what} quotes {:?}: {text}",
            library_words(text)
        );
    }
}

/// The URL of a loopback port nothing listens on: a connection to it is refused.
async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

fn get_citizen() -> GetCitizenRequest {
    GetCitizenRequest {
        citizen_id: personas::HAPPY_PATH.into(),
        read_mask: None,
    }
}

#[tokio::test]
async fn the_citizen_service_names_an_unreachable_population_database_in_its_own_words() {
    let citizen = citizen_in_front_of(&closed_port().await).await;
    let mut client = CitizenServiceClient::connect(citizen.url()).await.unwrap();
    let status = client.get_citizen(get_citizen()).await.unwrap_err();
    assert_in_the_suites_words(
        &status,
        Code::Unavailable,
        "UPSTREAM_UNAVAILABLE",
        "population-db",
    );
    assert!(status.message().contains("retry"), "{status:?}");

    // One record of a match fails alone, in the same words.
    let mut answers = client
        .match_citizens(tokio_stream::iter([MatchCitizensRequest {
            record_key: "r1".into(),
            citizen_id: personas::HAPPY_PATH.into(),
            full_name: "Nguyễn Văn Hùng".into(),
            ..Default::default()
        }]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.message().await.unwrap().unwrap();
    let Some(MatchResult::Error(error)) = answer.result else {
        panic!("a record error: {answer:?}");
    };
    assert_eq!(error.reason, "UPSTREAM_UNAVAILABLE", "{error:?}");
    assert!(
        library_words(&error.message).is_empty(),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn the_citizen_service_names_a_failing_population_database_by_its_code() {
    // Bare statuses, as a library makes them from a protocol error: no ErrorInfo of the suite.
    let upstream = FakeUpstream::start(Answer::Status(
        Code::Internal,
        "h2 protocol error: error reading a body from connection".into(),
    ))
    .await;
    let citizen = citizen_in_front_of(&upstream.url()).await;
    let mut client = CitizenServiceClient::connect(citizen.url()).await.unwrap();
    let status = client.get_citizen(get_citizen()).await.unwrap_err();
    assert_in_the_suites_words(&status, Code::Internal, "UPSTREAM_FAILED", "population-db");
    assert!(status.message().contains("INTERNAL"), "{status:?}");

    // A refusal that is not the population database's own (a library's) says nothing of it.
    upstream.answer(Answer::Status(
        Code::InvalidArgument,
        "tonic: failed to decode Protobuf message: invalid wire type".into(),
    ));
    let status = client.get_citizen(get_citizen()).await.unwrap_err();
    assert_in_the_suites_words(&status, Code::Internal, "UPSTREAM_FAILED", "population-db");
    assert!(!status.message().contains("wire type"), "{status:?}");

    // So does an unreachable one that answers an unknown error.
    upstream.answer(Answer::Status(
        Code::Unknown,
        "transport error: hyper::Error(Io, Os { code: 104 })".into(),
    ));
    let status = client.get_citizen(get_citizen()).await.unwrap_err();
    assert_in_the_suites_words(
        &status,
        Code::Unavailable,
        "UPSTREAM_UNAVAILABLE",
        "population-db",
    );
}

#[tokio::test]
async fn vneid_names_an_unreachable_population_database_in_its_own_words() {
    let vneid = serve_alone(
        "vneid",
        Figment::new().merge(Serialized::default(
            "vneid.population_url",
            closed_port().await,
        )),
    )
    .await;
    let mut client = VneidServiceClient::connect(vneid.url()).await.unwrap();
    let status = client
        .get_account(GetAccountRequest {
            citizen_id: personas::HAPPY_PATH.into(),
        })
        .await
        .unwrap_err();
    assert_in_the_suites_words(
        &status,
        Code::Unavailable,
        "UPSTREAM_UNAVAILABLE",
        "population-db",
    );
    assert!(status.message().contains("retry"), "{status:?}");
}

/// A store whose every operation fails as a Redis that cannot be reached fails: with the error
/// the Redis client gave when the store tried to connect to a closed port.
async fn unreachable_redis() -> Arc<FailingStore> {
    let url = closed_port().await.replace("http://", "redis://");
    let error = RedisStore::connect(&url, "unreachable").await.unwrap_err();
    // The client's own text, which the component must not pass on.
    assert!(!library_words(&error.to_string()).is_empty(), "{error}");
    let store = FailingStore::new();
    store.fail_all_with(error);
    Arc::new(store)
}

/// The tests' synthetic country.
fn country() -> Arc<sandbox06_world::Country> {
    let date = time::Date::parse(
        REFERENCE_DATE,
        &time::format_description::well_known::Iso8601::DATE,
    )
    .unwrap();
    Arc::new(CountryConfig::default().country(date))
}

#[tokio::test]
async fn the_population_database_names_an_unreachable_store_in_its_own_words() {
    let db = PopulationDb::new(country(), unreachable_redis().await);
    let status = db
        .get_citizen(Request::new(pop::GetCitizenRequest {
            citizen_id: personas::HAPPY_PATH.into(),
            view: pop::RecordView::Full as i32,
        }))
        .await
        .unwrap_err();
    assert_in_the_suites_words(&status, Code::Unavailable, "UPSTREAM_UNAVAILABLE", "store");
    assert!(status.message().contains("retry"), "{status:?}");
}

#[tokio::test]
async fn vneid_names_an_unreachable_store_in_its_own_words() {
    let population = serve_alone("population-db", Figment::new()).await;
    let channel = tonic::transport::Channel::from_shared(population.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let vneid = Vneid::new(
        country(),
        Arc::new(GrpcHolders::new(channel)),
        unreachable_redis().await,
    );
    let status = VneidService::get_account(
        &vneid,
        Request::new(GetAccountRequest {
            citizen_id: personas::HAPPY_PATH.into(),
        }),
    )
    .await
    .unwrap_err();
    assert_in_the_suites_words(&status, Code::Unavailable, "UPSTREAM_UNAVAILABLE", "store");
    assert!(status.message().contains("retry"), "{status:?}");

    let status = VneidService::authenticate(
        &vneid,
        Request::new(AuthenticateRequest {
            citizen_id: personas::HAPPY_PATH.into(),
            method: Some(Method::Password("not the password".into())),
        }),
    )
    .await
    .unwrap_err();
    assert_in_the_suites_words(&status, Code::Unavailable, "UPSTREAM_UNAVAILABLE", "store");
}

/// The address of the Redis at `url`.
fn redis_addr(url: &str) -> std::net::SocketAddr {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    let host_port = rest.split('/').next().unwrap();
    std::net::ToSocketAddrs::to_socket_addrs(host_port)
        .unwrap()
        .next()
        .unwrap()
}

#[tokio::test]
#[cfg_attr(
    not(redis_url_set),
    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
)]
async fn with_redis_gone_the_mocks_name_their_store_in_their_own_words() {
    use sandbox06_testkit::{Fault, FaultProxy};
    let Some(url) = sandbox06_testkit::redis_url(
        "with_redis_gone_the_mocks_name_their_store_in_their_own_words",
    ) else {
        return;
    };
    // Each mock reaches Redis through a proxy of its own, so each can lose it alone.
    let population_redis = FaultProxy::start(redis_addr(&url)).await;
    let vneid_redis = FaultProxy::start(redis_addr(&url)).await;
    let store = |proxy: &FaultProxy| {
        Figment::new()
            .merge(Serialized::default(
                "store.url",
                format!("redis://{}", proxy.addr),
            ))
            .merge(Serialized::default(
                "store.namespace",
                format!("sandbox06-test-unreachable-{}", std::process::id()),
            ))
    };
    let population = serve_alone("population-db", store(&population_redis)).await;
    let vneid = serve_alone(
        "vneid",
        store(&vneid_redis).merge(Serialized::default(
            "vneid.population_url",
            population.url(),
        )),
    )
    .await;
    let mut records =
        pop::population_service_client::PopulationServiceClient::connect(population.url())
            .await
            .unwrap();
    let mut accounts = VneidServiceClient::connect(vneid.url()).await.unwrap();
    let record = || pop::GetCitizenRequest {
        citizen_id: personas::HAPPY_PATH.into(),
        view: pop::RecordView::Full as i32,
    };
    let account = || GetAccountRequest {
        citizen_id: personas::HAPPY_PATH.into(),
    };
    records.get_citizen(record()).await.unwrap();
    accounts.get_account(account()).await.unwrap();

    // The first call meets the Redis client's own error; the next, the store known to be down.
    vneid_redis.set(Fault::Refuse);
    for _ in 0..2 {
        let status = accounts.get_account(account()).await.unwrap_err();
        assert_in_the_suites_words(&status, Code::Unavailable, "UPSTREAM_UNAVAILABLE", "store");
    }
    vneid_redis.set(Fault::None);

    population_redis.set(Fault::Refuse);
    for _ in 0..2 {
        let status = records.get_citizen(record()).await.unwrap_err();
        assert_in_the_suites_words(&status, Code::Unavailable, "UPSTREAM_UNAVAILABLE", "store");
        // VNeID reads the record there: the population database is what it cannot reach.
        let status = accounts.get_account(account()).await.unwrap_err();
        assert_in_the_suites_words(
            &status,
            Code::Unavailable,
            "UPSTREAM_UNAVAILABLE",
            "population-db",
        );
    }
}
