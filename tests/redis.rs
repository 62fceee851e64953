//! The suite on Redis: changes survive a restart and are shared by replicas.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use figment::{Figment, providers::Serialized};
use sandbox06_proto::{
    citizen::{Verdict, VerifyCitizenRequest, citizen_service_client::CitizenServiceClient},
    population::{self as pop, population_service_client::PopulationServiceClient},
    vneid::{self, vneid_service_client::VneidServiceClient},
};
use sandbox06_runtime::error::reason_of;
use sandbox06_testkit::personas;
use sandbox06_testkit::{Bearer, redis_url, start_with, test_config_with, unique_namespace};

/// The test suite's configuration on the Redis at `url`, under a namespace of its own.
fn redis_config(url: &str, label: &str) -> sandbox06::Config {
    test_config_with(
        Figment::new()
            .merge(Serialized::default("store.url", url))
            .merge(Serialized::default(
                "store.namespace",
                unique_namespace(label),
            )),
    )
}

/// The population database's record of `citizen_id`'s death, dated today.
fn died(citizen_id: &str) -> pop::CreateLifeEventRequest {
    pop::CreateLifeEventRequest {
        citizen_id: citizen_id.into(),
        request_id: String::new(),
        event: Some(pop::LifeEvent {
            effective_date: None,
            change: Some(pop::life_event::Change::Died(pop::Died {})),
        }),
    }
}

#[tokio::test]
#[cfg_attr(
    not(redis_url_set),
    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
)]
async fn a_recorded_death_survives_a_restart_and_is_seen_by_a_second_replica() {
    let Some(url) =
        redis_url("a_recorded_death_survives_a_restart_and_is_seen_by_a_second_replica")
    else {
        return;
    };
    let config = redis_config(&url, "redis");
    let first = start_with(&config).await;
    let mut upstream = PopulationServiceClient::connect(first.url_of("population-db"))
        .await
        .unwrap();
    upstream
        .create_life_event(died(personas::VNEID_LEVEL_1))
        .await
        .unwrap();
    // A second replica on the same Redis sees it while the first still runs.
    let second = start_with(&config).await;
    let verify = VerifyCitizenRequest {
        citizen_id: personas::VNEID_LEVEL_1.into(),
        full_name: "Lê Thị Hoa".into(),
        ..Default::default()
    };
    let r = second
        .citizens()
        .verify_citizen(verify.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.verdict(), Verdict::Deceased);
    first.suite.stop().await.unwrap();
    second.suite.stop().await.unwrap();

    // And after both stopped, a fresh start still has it.
    let third = start_with(&config).await;
    let r = third
        .citizens()
        .verify_citizen(verify)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.verdict(), Verdict::Deceased);
    third.suite.stop().await.unwrap();
    sandbox06_testkit::clear_stores(&config).await;
}

#[tokio::test]
#[cfg_attr(
    not(redis_url_set),
    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
)]
async fn a_locked_vneid_account_is_locked_for_every_replica_until_unlocked() {
    let Some(url) = redis_url("a_locked_vneid_account_is_locked_for_every_replica_until_unlocked")
    else {
        return;
    };
    let config = redis_config(&url, "redis");
    let sign_in = |password: &str| vneid::AuthenticateRequest {
        citizen_id: personas::MARRIED_WIFE.into(),
        method: Some(vneid::authenticate_request::Method::Password(
            password.into(),
        )),
    };
    let first = start_with(&config).await;
    let mut one = VneidServiceClient::connect(first.url_of("vneid"))
        .await
        .unwrap();
    for _ in 0..sandbox06_vneid::MAX_FAILED_ATTEMPTS {
        one.authenticate(sign_in("wrong")).await.unwrap_err();
    }
    // A second replica on the same Redis refuses the right password too.
    let second = start_with(&config).await;
    let mut two = VneidServiceClient::connect(second.url_of("vneid"))
        .await
        .unwrap();
    let status = two
        .authenticate(sign_in(sandbox06_vneid::SANDBOX_PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(reason_of(&status).as_deref(), Some("ACCOUNT_LOCKED"));
    two.unlock_account(vneid::UnlockAccountRequest {
        citizen_id: personas::MARRIED_WIFE.into(),
    })
    .await
    .unwrap();
    first.suite.stop().await.unwrap();
    second.suite.stop().await.unwrap();
    // After a restart, the account is unlocked.
    let third = start_with(&config).await;
    let mut three = VneidServiceClient::connect(third.url_of("vneid"))
        .await
        .unwrap();
    three
        .authenticate(sign_in(sandbox06_vneid::SANDBOX_PASSWORD))
        .await
        .unwrap();
    third.suite.stop().await.unwrap();
    sandbox06_testkit::clear_stores(&config).await;
}

#[tokio::test]
#[cfg_attr(
    not(redis_url_set),
    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
)]
async fn replicas_on_one_redis_accept_each_others_tokens_codes_and_refresh_tokens() {
    let Some(url) =
        redis_url("replicas_on_one_redis_accept_each_others_tokens_codes_and_refresh_tokens")
    else {
        return;
    };
    // One issuer for both, as behind one load balancer.
    let config = test_config_with(
        Figment::new()
            .merge(Serialized::default("store.url", &url))
            .merge(Serialized::default(
                "store.namespace",
                unique_namespace("redis"),
            ))
            .merge(Serialized::default(
                "sso.issuer",
                "http://sandbox06.test:4606",
            )),
    );
    let first = start_with(&config).await;
    let second = start_with(&config).await;
    // The first replica's token, at the second's edge.
    let mut citizens =
        CitizenServiceClient::with_interceptor(second.channel.clone(), Bearer::new(&first.token));
    citizens
        .verify_citizen(VerifyCitizenRequest {
            citizen_id: personas::HAPPY_PATH.into(),
            full_name: "Nguyễn Văn Hùng".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // A code from the first, redeemed at the second; its refresh token used at the first.
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let verifier = "sandbox06-replica-test-verifier-0123456789abcdef";
    let challenge = sandbox06_jose::s256(verifier.as_bytes());
    let redirect = "http://127.0.0.1:8765/cb";
    let response = http
        .get(format!("http://{}/oidc/authorize", first.suite.edge))
        .query(&[
            ("response_type", "code"),
            ("client_id", "demo-ci"),
            ("redirect_uri", redirect),
            ("scope", "openid profile"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("login_hint", personas::HAPPY_PATH),
        ])
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let code = openidconnect::url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "code")
        .unwrap()
        .1
        .into_owned();
    let token = |edge: std::net::SocketAddr, form: Vec<(&'static str, String)>| {
        let http = http.clone();
        async move {
            let text = http
                .post(format!("http://{edge}/oidc/token"))
                .form(&form)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            serde_json::from_str::<serde_json::Value>(&text).unwrap()
        }
    };
    let tokens = token(
        second.suite.edge,
        vec![
            ("grant_type", "authorization_code".into()),
            ("client_id", "demo-ci".into()),
            ("code", code),
            ("redirect_uri", redirect.into()),
            ("code_verifier", verifier.into()),
        ],
    )
    .await;
    assert_eq!(tokens["token_type"], "Bearer", "{tokens}");
    let refreshed = token(
        first.suite.edge,
        vec![
            ("grant_type", "refresh_token".into()),
            ("client_id", "demo-ci".into()),
            (
                "refresh_token",
                tokens["refresh_token"].as_str().unwrap().into(),
            ),
        ],
    )
    .await;
    assert!(refreshed["access_token"].is_string(), "{refreshed}");
    // A replica of another issuer on the same store signs with the same keys: its edge still
    // refuses the first's tokens for their issuer.
    let foreign = start_with(&test_config_with(
        Figment::new()
            .merge(Serialized::default("store.url", &url))
            .merge(Serialized::default(
                "store.namespace",
                &config.store.namespace,
            ))
            .merge(Serialized::default(
                "sso.issuer",
                "http://elsewhere.test:4606",
            )),
    ))
    .await;
    let refused =
        CitizenServiceClient::with_interceptor(foreign.channel.clone(), Bearer::new(&first.token))
            .verify_citizen(VerifyCitizenRequest {
                citizen_id: personas::HAPPY_PATH.into(),
                full_name: "Nguyễn Văn Hùng".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
    assert_eq!(reason_of(&refused).as_deref(), Some("TOKEN_INVALID"));
    assert!(refused.message().contains("issuer"), "{refused:?}");
    foreign.suite.stop().await.unwrap();
    first.suite.stop().await.unwrap();
    second.suite.stop().await.unwrap();
    sandbox06_testkit::clear_stores(&config).await;
}

#[tokio::test]
async fn an_unreachable_redis_fails_the_start_with_a_clear_error() {
    let config = test_config_with(
        Figment::new().merge(Serialized::default("store.url", "redis://127.0.0.1:1")),
    );
    let mut suite = sandbox06::Suite::start(&config).await.unwrap();
    let err = suite
        .wait_ready(std::time::Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("redis"), "{err}");
}

/// `host:port` of a `redis://[user:password@]host:port[/db]` URL.
fn redis_addr(url: &str) -> std::net::SocketAddr {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    let host_port = rest.split('/').next().unwrap();
    std::net::ToSocketAddrs::to_socket_addrs(host_port)
        .unwrap()
        .next()
        .unwrap()
}

/// The edge's health of the citizen service, polled until it is `want` (or 15 s pass).
async fn wait_for_health(edge: &tonic::transport::Channel, want: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let status = sandbox06_runtime::client::health_status(
            edge.clone(),
            "sandbox06.citizen.v1.CitizenService",
        )
        .await;
        if status.as_ref().is_ok_and(|status| *status == want) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "health still {status:?}, not {want}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
#[cfg_attr(
    not(redis_url_set),
    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
)]
async fn with_redis_gone_calls_fail_at_once_and_health_follows_it_back() {
    use sandbox06_testkit::{Fault, FaultProxy};
    let Some(url) = redis_url("with_redis_gone_calls_fail_at_once_and_health_follows_it_back")
    else {
        return;
    };
    let proxy = FaultProxy::start(redis_addr(&url)).await;
    let config = test_config_with(
        Figment::new()
            .merge(Serialized::default(
                "store.url",
                format!("redis://{}", proxy.addr),
            ))
            .merge(Serialized::default(
                "store.namespace",
                unique_namespace("redis"),
            )),
    );
    let harness = start_with(&config).await;
    let mut citizens = harness.citizens();
    let get = || sandbox06_proto::citizen::GetCitizenRequest {
        citizen_id: personas::HAPPY_PATH.into(),
        read_mask: None,
    };
    citizens.get_citizen(get()).await.unwrap();

    for fault in [Fault::BlackHole, Fault::Refuse] {
        proxy.set(fault);
        // The population database notices, and the citizen service with it.
        wait_for_health(&harness.channel, "NOT_SERVING").await;
        let started = std::time::Instant::now();
        let status = citizens.get_citizen(get()).await.unwrap_err();
        let took = started.elapsed();
        assert_eq!(
            status.code(),
            tonic::Code::Unavailable,
            "{fault:?}: {status:?}"
        );
        assert!(
            sandbox06_runtime::error::reason_of(&status).is_some(),
            "{fault:?}: a reason: {status:?}"
        );
        assert!(
            took < std::time::Duration::from_millis(500),
            "{fault:?}: failed after {took:?}, not at once"
        );

        proxy.set(Fault::None);
        wait_for_health(&harness.channel, "SERVING").await;
        citizens.get_citizen(get()).await.unwrap();
    }
}

#[tokio::test]
#[cfg_attr(
    not(redis_url_set),
    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
)]
async fn each_component_resets_and_snapshots_only_its_own_state_on_a_shared_redis() {
    use sandbox06_proto::admin::{self as admin, admin_service_client::AdminServiceClient};
    let Some(url) =
        redis_url("each_component_resets_and_snapshots_only_its_own_state_on_a_shared_redis")
    else {
        return;
    };
    let config = redis_config(&url, "redis-own");
    let h = start_with(&config).await;
    let mut upstream = PopulationServiceClient::connect(h.url_of("population-db"))
        .await
        .unwrap();
    upstream
        .create_life_event(died(personas::VNEID_LEVEL_1))
        .await
        .unwrap();
    // The record as the population database reads it, over the one connection.
    let status = || {
        let mut upstream = upstream.clone();
        async move {
            upstream
                .get_citizen(pop::GetCitizenRequest {
                    citizen_id: personas::VNEID_LEVEL_1.into(),
                    view: pop::RecordView::Basic as i32,
                })
                .await
                .unwrap()
                .into_inner()
                .citizen
                .unwrap()
                .life_status
        }
    };
    let deceased = status().await;
    let mut admin = AdminServiceClient::new(h.channel.clone());
    // Resetting VNeID or the single sign-on leaves the population database's events.
    for component in ["vneid", "sso"] {
        admin
            .reset_sandbox(admin::ResetSandboxRequest {
                component: component.to_owned(),
            })
            .await
            .unwrap();
        assert_eq!(status().await, deceased, "{component}'s reset");
    }
    // The admin's token, signed before every reset, stays good well past the key cache's
    // re-read: the signing keys were never deleted.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    admin
        .reset_sandbox(admin::ResetSandboxRequest::default())
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let mut citizens =
        CitizenServiceClient::new(tonic::service::interceptor::InterceptedService::new(
            h.channel.clone(),
            Bearer::new(&h.token),
        ));
    citizens
        .verify_citizen(VerifyCitizenRequest {
            citizen_id: personas::HAPPY_PATH.into(),
            full_name: "Nguyễn Văn Hùng".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_ne!(status().await, deceased, "a whole reset forgets the event");
    h.suite.stop().await.unwrap();
}
