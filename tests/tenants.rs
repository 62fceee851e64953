//! Parallel jobs through the edge: each job naming itself with `x-sandbox06-tenant` keeps its own
//! state in every component. A death one job records, its reset and its snapshots are its own;
//! a VNeID lockout in one job locks no other; the operator's reset (no tenant) clears every
//! job's. The state tests run on the memory store, and on Redis when
//! `SANDBOX06_TEST_REDIS_URL` is set.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use figment::{Figment, providers::Serialized};
use sandbox06_proto::admin::{self as admin, admin_service_client::AdminServiceClient};
use sandbox06_proto::citizen::GetCitizenRequest;
use sandbox06_proto::types::LifeStatus;
use sandbox06_proto::vneid::{
    AuthenticateRequest, authenticate_request::Method, vneid_service_client::VneidServiceClient,
};
use sandbox06_runtime::error::reason_of;
use sandbox06_testkit::{Harness, personas, start, start_with, test_config_with};

const TENANT_HEADER: &str = "x-sandbox06-tenant";

/// `message` as a call of `tenant` (none: the operator's, or a job's that names none).
fn of<T>(tenant: Option<&str>, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(tenant) = tenant {
        request
            .metadata_mut()
            .insert(TENANT_HEADER, tenant.parse().unwrap());
    }
    request
}

/// The admin surface through the edge, without a token (the default access).
fn admin(h: &Harness) -> AdminServiceClient<tonic::transport::Channel> {
    AdminServiceClient::new(h.channel.clone())
}

/// The life status of `citizen_id`, read through the edge as a call of `tenant`.
async fn life_status(h: &Harness, tenant: Option<&str>, citizen_id: &str) -> LifeStatus {
    h.citizens()
        .get_citizen(of(
            tenant,
            GetCitizenRequest {
                citizen_id: citizen_id.to_owned(),
                read_mask: None,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .citizen
        .unwrap()
        .life_status()
}

/// Records the death of `citizen_id` through the admin surface over gRPC, as `tenant`.
async fn record_death(h: &Harness, tenant: Option<&str>, citizen_id: &str) {
    admin(h)
        .create_life_event(of(
            tenant,
            admin::CreateLifeEventRequest {
                citizen_id: citizen_id.to_owned(),
                event: Some(admin::LifeEvent {
                    effective_date: None,
                    change: Some(admin::life_event::Change::Died(admin::LifeEventDied {})),
                }),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap();
}

/// Records the death of `citizen_id` over REST (`POST /v1/admin/lifeEvents`), as a CI script
/// of `tenant` sends it.
async fn record_death_over_rest(h: &Harness, tenant: &str, citizen_id: &str) {
    let body = serde_json::json!({"citizenId": citizen_id, "event": {"died": {}}});
    let request = http::Request::post("/v1/admin/lifeEvents")
        .header("content-type", "application/json")
        .header(TENANT_HEADER, tenant)
        .body(body.to_string())
        .unwrap();
    let (status, text) = sandbox06_testkit::http1(h.suite.edge, request).await;
    assert_eq!(status, 200, "{text}");
}

/// `ResetSandbox` of the whole sandbox, as `tenant`.
async fn reset(h: &Harness, tenant: Option<&str>) -> admin::ResetSandboxResponse {
    admin(h)
        .reset_sandbox(of(tenant, admin::ResetSandboxRequest::default()))
        .await
        .unwrap()
        .into_inner()
}

/// The names of the snapshots `tenant` sees.
async fn snapshots(h: &Harness, tenant: Option<&str>) -> Vec<String> {
    admin(h)
        .list_snapshots(of(tenant, admin::ListSnapshotsRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .snapshots
        .into_iter()
        .map(|snapshot| snapshot.name)
        .collect()
}

/// Two jobs on one suite: each records a death the other does not see, and resets, saves and
/// restores its own state alone.
async fn deaths_are_each_jobs_own(h: &Harness) {
    use LifeStatus::{Alive, Deceased};
    let (a, b) = (Some("job-a"), Some("job-b"));
    let (died_in_a, died_in_b) = (personas::NO_VNEID, personas::HAPPY_PATH);
    for tenant in [a, b, None] {
        assert_eq!(life_status(h, tenant, died_in_a).await, Alive);
    }

    record_death(h, a, died_in_a).await;
    assert_eq!(life_status(h, a, died_in_a).await, Deceased);
    assert_eq!(life_status(h, b, died_in_a).await, Alive);
    assert_eq!(life_status(h, None, died_in_a).await, Alive);
    record_death_over_rest(h, "job-b", died_in_b).await;
    assert_eq!(life_status(h, b, died_in_b).await, Deceased);
    assert_eq!(life_status(h, a, died_in_b).await, Alive);
    assert_eq!(life_status(h, None, died_in_b).await, Alive);

    // A job's snapshot is its own.
    admin(h)
        .save_snapshot(of(
            a,
            admin::SaveSnapshotRequest {
                name: "a-dead".to_owned(),
            },
        ))
        .await
        .unwrap();
    assert_eq!(snapshots(h, a).await, ["a-dead"]);
    assert!(snapshots(h, b).await.is_empty());
    assert!(snapshots(h, None).await.is_empty());
    let missing = admin(h)
        .restore_snapshot(of(
            b,
            admin::RestoreSnapshotRequest {
                name: "a-dead".to_owned(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason_of(&missing).as_deref(), Some("SNAPSHOT_NOT_FOUND"));

    // A job's reset brings its citizen back and leaves the other job's death.
    let reset = reset(h, a).await;
    assert!(
        reset.components.iter().any(|c| c == "population-db"),
        "{reset:?}"
    );
    assert_eq!(life_status(h, a, died_in_a).await, Alive);
    assert_eq!(life_status(h, b, died_in_b).await, Deceased);

    // Its snapshot brings its death back, to it alone.
    admin(h)
        .restore_snapshot(of(
            a,
            admin::RestoreSnapshotRequest {
                name: "a-dead".to_owned(),
            },
        ))
        .await
        .unwrap();
    assert_eq!(life_status(h, a, died_in_a).await, Deceased);
    assert_eq!(life_status(h, b, died_in_a).await, Alive);
    assert_eq!(life_status(h, None, died_in_a).await, Alive);
    let deleted = admin(h)
        .delete_snapshot(of(
            a,
            admin::DeleteSnapshotRequest {
                name: "a-dead".to_owned(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(deleted.deleted);
}

#[tokio::test]
async fn a_death_one_job_records_is_its_own_and_its_reset_brings_the_citizen_back() {
    let h = start().await;
    deaths_are_each_jobs_own(&h).await;
    h.suite.stop().await.unwrap();
}

#[tokio::test]
#[cfg_attr(
    not(redis_url_set),
    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
)]
async fn a_death_one_job_records_is_its_own_on_redis() {
    let Some(url) = sandbox06_testkit::redis_url("a_death_one_job_records_is_its_own_on_redis")
    else {
        return;
    };
    let config = test_config_with(
        Figment::new()
            .merge(Serialized::default("store.url", url))
            .merge(Serialized::default(
                "store.namespace",
                sandbox06_testkit::unique_namespace("tenants"),
            )),
    );
    let h = start_with(&config).await;
    deaths_are_each_jobs_own(&h).await;
    // A second suite on the same Redis (a replica) sees each job's state as the first does.
    let replica = start_with(&config).await;
    assert_eq!(
        life_status(&replica, Some("job-b"), personas::HAPPY_PATH).await,
        LifeStatus::Deceased
    );
    assert_eq!(
        life_status(&replica, None, personas::HAPPY_PATH).await,
        LifeStatus::Alive
    );
    replica.suite.stop().await.unwrap();
    h.suite.stop().await.unwrap();
    sandbox06_testkit::clear_stores(&config).await;
}

#[tokio::test]
async fn the_operators_reset_clears_every_jobs_state() {
    let h = start().await;
    let who = personas::NO_VNEID;
    record_death(&h, Some("job-a"), who).await;
    record_death(&h, Some("job-b"), who).await;
    record_death(&h, None, personas::HAPPY_PATH).await;
    assert_eq!(
        life_status(&h, Some("job-b"), who).await,
        LifeStatus::Deceased
    );
    let reset = reset(&h, None).await;
    assert!(
        reset.components.iter().any(|c| c == "population-db"),
        "{reset:?}"
    );
    for tenant in [Some("job-a"), Some("job-b"), None] {
        assert_eq!(life_status(&h, tenant, who).await, LifeStatus::Alive);
    }
    assert_eq!(
        life_status(&h, None, personas::HAPPY_PATH).await,
        LifeStatus::Alive
    );
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_vneid_lockout_in_one_job_locks_no_other() {
    let h = start().await;
    let mut vneid = VneidServiceClient::connect(h.url_of("vneid"))
        .await
        .unwrap();
    let who = personas::VNEID_LEVEL_1;
    let sign_in = |tenant: Option<&str>, password: &str| {
        of(
            tenant,
            AuthenticateRequest {
                citizen_id: who.to_owned(),
                method: Some(Method::Password(password.to_owned())),
            },
        )
    };
    let a = Some("job-a");
    for _ in 0..sandbox06_vneid::MAX_FAILED_ATTEMPTS {
        let wrong = vneid.authenticate(sign_in(a, "wrong")).await.unwrap_err();
        let reason = reason_of(&wrong).unwrap_or_default();
        assert!(
            ["WRONG_CREDENTIALS", "ACCOUNT_LOCKED"].contains(&reason.as_str()),
            "{wrong:?}"
        );
    }
    let locked = vneid
        .authenticate(sign_in(a, sandbox06_vneid::SANDBOX_PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(reason_of(&locked).as_deref(), Some("ACCOUNT_LOCKED"));
    // Another job, and a call naming none, sign in.
    for tenant in [Some("job-b"), None] {
        let amr = vneid
            .authenticate(sign_in(tenant, sandbox06_vneid::SANDBOX_PASSWORD))
            .await
            .unwrap()
            .into_inner()
            .amr;
        assert_eq!(amr, ["pwd"], "{tenant:?}");
    }
    // The job unlocks its own account through the admin surface.
    let unlocked = admin(&h)
        .unlock_account(of(
            a,
            admin::UnlockAccountRequest {
                citizen_id: who.to_owned(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(unlocked.active, "{unlocked:?}");
    vneid
        .authenticate(sign_in(a, sandbox06_vneid::SANDBOX_PASSWORD))
        .await
        .unwrap();
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn the_single_sign_ons_state_is_every_jobs_and_a_jobs_reset_leaves_it() {
    let h = start().await;
    // A token fetched by a job (its token endpoint sees no tenant) is good for every job,
    // and still after a job's reset and snapshot restore.
    let token = sandbox06_testkit::client_token(
        h.suite.edge,
        sandbox06_testkit::ADMIN_CLIENT,
        sandbox06_testkit::ADMIN_SECRET,
        None,
    )
    .await;
    let job = reset(&h, Some("job-a")).await;
    // Every stateful component but the single sign-on keeps the job's state.
    assert!(!job.components.iter().any(|c| c == "sso"), "{job:?}");
    for component in ["population-db", "vneid"] {
        assert!(job.components.iter().any(|c| c == component), "{job:?}");
    }
    let saved = admin(&h)
        .save_snapshot(of(
            Some("job-a"),
            admin::SaveSnapshotRequest {
                name: "before".to_owned(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(saved.snapshot.is_some(), "{saved:?}");
    admin(&h)
        .restore_snapshot(of(
            Some("job-a"),
            admin::RestoreSnapshotRequest {
                name: "before".to_owned(),
            },
        ))
        .await
        .unwrap();
    let mut introspect = sandbox06_proto::sso::sso_service_client::SsoServiceClient::new(
        tonic::service::interceptor::InterceptedService::new(
            h.channel.clone(),
            sandbox06_testkit::Bearer::new(&h.token),
        ),
    );
    for tenant in [Some("job-a"), Some("job-b"), None] {
        let answer = introspect
            .introspect_token(of(
                tenant,
                sandbox06_proto::sso::IntrospectTokenRequest {
                    token: token.clone(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(answer.active, "{tenant:?}: {answer:?}");
    }
    // The operator's reset is the single sign-on's too.
    let all = reset(&h, None).await;
    assert!(all.components.iter().any(|c| c == "sso"), "{all:?}");
    h.suite.stop().await.unwrap();
}
