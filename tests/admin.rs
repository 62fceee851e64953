//! The sandbox controls through the edge port, as a CI test drives them: fault rules that make
//! the population database fail, slow or answer for one call; reset and snapshots after life
//! events; the journal with its verification; finding citizens; and who may use them. The
//! state tests run on the memory store, and on Redis when `SANDBOX06_TEST_REDIS_URL` is set.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::time::{Duration, Instant};

use figment::{Figment, providers::Serialized};
use sandbox06_proto::admin::{self as admin, admin_service_client::AdminServiceClient};
use sandbox06_proto::citizen::GetCitizenRequest;
use sandbox06_proto::population::{
    self as pop, population_service_client::PopulationServiceClient,
};
use sandbox06_proto::types::LifeStatus;
use sandbox06_runtime::error::reason_of;
use sandbox06_testkit::{Bearer, Harness, personas, start, start_with, test_config_with};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// The admin surface through the edge, without a token (the default access).
fn admin(h: &Harness) -> AdminServiceClient<Channel> {
    AdminServiceClient::new(h.channel.clone())
}

/// GetCitizen through the edge with the admin client's token.
async fn get(
    h: &Harness,
    citizen_id: &str,
) -> Result<sandbox06_proto::citizen::Citizen, tonic::Status> {
    h.citizens()
        .get_citizen(GetCitizenRequest {
            citizen_id: citizen_id.to_owned(),
            read_mask: None,
        })
        .await
        .map(|answer| answer.into_inner().citizen.unwrap())
}

fn metadata_of(status: &tonic::Status, key: &str) -> Option<String> {
    use tonic_types::StatusExt as _;
    status
        .get_details_error_info()
        .and_then(|info| info.metadata.get(key).cloned())
}

fn rule(component: &str, method: &str) -> admin::FaultRule {
    admin::FaultRule {
        component: component.to_owned(),
        method: method.to_owned(),
        ..admin::FaultRule::default()
    }
}

const POPULATION_GET: &str = "sandbox06.upstream.population.v1.PopulationService/GetCitizen";
const CITIZEN_GET: &str = "sandbox06.citizen.v1.CitizenService/GetCitizen";

#[tokio::test]
async fn a_fault_rule_makes_get_citizen_unavailable_for_three_calls_then_clears() {
    let h = start().await;
    let mut admin = admin(&h);
    let created = admin
        .create_fault_rule(admin::CreateFaultRuleRequest {
            rule: Some(admin::FaultRule {
                action: Some(admin::fault_rule::Action::Status(admin::StatusFault {
                    code: Code::Unavailable as i32,
                    ..admin::StatusFault::default()
                })),
                times: 3,
                ..rule("population-db", POPULATION_GET)
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(created.id.starts_with("population-db."), "{created:?}");
    for call in 0..3 {
        let status = get(&h, personas::HAPPY_PATH).await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "call {call}: {status:?}");
        assert_eq!(reason_of(&status).as_deref(), Some("UPSTREAM_UNAVAILABLE"));
        assert_eq!(
            metadata_of(&status, "backend").as_deref(),
            Some("population-db")
        );
    }
    let citizen = get(&h, personas::HAPPY_PATH).await.unwrap();
    assert_eq!(citizen.citizen_id, personas::HAPPY_PATH);
    let rules = admin
        .list_fault_rules(admin::ListFaultRulesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .rules;
    assert!(rules.is_empty(), "the rule ended after 3 calls: {rules:?}");
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_status_fault_speaks_the_systems_own_reason_and_rules_are_listed_and_removed() {
    let h = start().await;
    let mut admin = admin(&h);
    let created = admin
        .create_fault_rule(admin::CreateFaultRuleRequest {
            rule: Some(admin::FaultRule {
                action: Some(admin::fault_rule::Action::Status(admin::StatusFault {
                    code: Code::NotFound as i32,
                    reason: "CITIZEN_NOT_FOUND".to_owned(),
                    message: String::new(),
                })),
                citizen_id: personas::HAPPY_PATH.to_owned(),
                ..rule("citizen", CITIZEN_GET)
            }),
        })
        .await
        .unwrap()
        .into_inner();
    // Only the named citizen is affected, with the citizen service's own reason.
    let status = get(&h, personas::HAPPY_PATH).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(reason_of(&status).as_deref(), Some("CITIZEN_NOT_FOUND"));
    assert!(get(&h, personas::NO_VNEID).await.is_ok());
    let listed = admin
        .list_fault_rules(admin::ListFaultRulesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .rules;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, created.id);
    assert_eq!(listed[0].applied, 1);
    admin
        .delete_fault_rule(admin::DeleteFaultRuleRequest {
            id: created.id.clone(),
        })
        .await
        .unwrap();
    assert!(get(&h, personas::HAPPY_PATH).await.is_ok());
    let again = admin
        .delete_fault_rule(admin::DeleteFaultRuleRequest { id: created.id })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::NotFound);
    // A rule for a component the suite does not have names the field.
    let unknown = admin
        .create_fault_rule(admin::CreateFaultRuleRequest {
            rule: Some(rule("land-registry", "")),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert!(
        unknown.message().starts_with("rule.component"),
        "{unknown:?}"
    );
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_latency_rule_delays_the_call_by_its_delay() {
    let h = start().await;
    admin(&h)
        .create_fault_rule(admin::CreateFaultRuleRequest {
            rule: Some(admin::FaultRule {
                action: Some(admin::fault_rule::Action::Latency(admin::LatencyFault {
                    delay: Some(admin::latency_fault::Delay::Fixed(prost_types::Duration {
                        seconds: 0,
                        nanos: 400_000_000,
                    })),
                })),
                times: 1,
                ..rule("population-db", POPULATION_GET)
            }),
        })
        .await
        .unwrap();
    let began = Instant::now();
    get(&h, personas::HAPPY_PATH).await.unwrap();
    let slowed = began.elapsed();
    assert!(slowed >= Duration::from_millis(400), "{slowed:?}");
    // The rule was for one call.
    let began = Instant::now();
    get(&h, personas::HAPPY_PATH).await.unwrap();
    assert!(began.elapsed() < slowed, "{:?}", began.elapsed());
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_fault_header_fails_that_call_alone_deep_in_the_path() {
    let h = start().await;
    let mut request = tonic::Request::new(GetCitizenRequest {
        citizen_id: personas::HAPPY_PATH.to_owned(),
        read_mask: None,
    });
    request.metadata_mut().insert(
        "x-sandbox06-fault",
        "population-db: unavailable".parse().unwrap(),
    );
    let status = h.citizens().get_citizen(request).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(
        metadata_of(&status, "backend").as_deref(),
        Some("population-db")
    );
    assert!(get(&h, personas::HAPPY_PATH).await.is_ok());
    h.suite.stop().await.unwrap();
}

/// Records the death of `citizen_id` on the population database's own port, as the national
/// system would.
async fn record_death(h: &Harness, citizen_id: &str) {
    PopulationServiceClient::connect(h.url_of("population-db"))
        .await
        .unwrap()
        .create_life_event(pop::CreateLifeEventRequest {
            citizen_id: citizen_id.to_owned(),
            request_id: String::new(),
            event: Some(pop::LifeEvent {
                effective_date: None,
                change: Some(pop::life_event::Change::Died(pop::Died {})),
            }),
        })
        .await
        .unwrap();
}

async fn life_status(h: &Harness, citizen_id: &str) -> LifeStatus {
    get(h, citizen_id).await.unwrap().life_status()
}

/// Reset and snapshots on the store `extra` configures.
async fn reset_and_snapshots(extra: Figment) {
    let h = start_with(&test_config_with(extra)).await;
    let mut admin = admin(&h);
    let who = personas::NO_VNEID;
    assert_eq!(life_status(&h, who).await, LifeStatus::Alive);
    admin
        .save_snapshot(admin::SaveSnapshotRequest {
            name: "seeded".to_owned(),
        })
        .await
        .unwrap();
    record_death(&h, who).await;
    assert_eq!(life_status(&h, who).await, LifeStatus::Deceased);
    admin
        .save_snapshot(admin::SaveSnapshotRequest {
            name: "after-death".to_owned(),
        })
        .await
        .unwrap();

    // A reset forgets the death, and the fault rules.
    admin
        .create_fault_rule(admin::CreateFaultRuleRequest {
            rule: Some(admin::FaultRule {
                action: Some(admin::fault_rule::Action::Status(admin::StatusFault {
                    code: Code::Unavailable as i32,
                    ..admin::StatusFault::default()
                })),
                ..rule("vneid", "")
            }),
        })
        .await
        .unwrap();
    let reset = admin
        .reset_sandbox(admin::ResetSandboxRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(
        reset.components.iter().any(|c| c == "population-db"),
        "{reset:?}"
    );
    assert_eq!(reset.fault_rules_removed, 1);
    assert_eq!(life_status(&h, who).await, LifeStatus::Alive);

    // Snapshots outlive the reset, and bring either state back.
    let names: Vec<String> = admin
        .list_snapshots(admin::ListSnapshotsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .snapshots
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["after-death", "seeded"]);
    admin
        .restore_snapshot(admin::RestoreSnapshotRequest {
            name: "after-death".to_owned(),
        })
        .await
        .unwrap();
    assert_eq!(life_status(&h, who).await, LifeStatus::Deceased);
    admin
        .restore_snapshot(admin::RestoreSnapshotRequest {
            name: "seeded".to_owned(),
        })
        .await
        .unwrap();
    assert_eq!(life_status(&h, who).await, LifeStatus::Alive);

    // The admin's own token still works after all that: the provider's keys are not state.
    assert!(get(&h, who).await.is_ok());

    let missing = admin
        .restore_snapshot(admin::RestoreSnapshotRequest {
            name: "never-saved".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(reason_of(&missing).as_deref(), Some("SNAPSHOT_NOT_FOUND"));
    for name in ["seeded", "after-death"] {
        admin
            .delete_snapshot(admin::DeleteSnapshotRequest {
                name: name.to_owned(),
            })
            .await
            .unwrap();
    }
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn reset_and_snapshots_on_the_memory_store() {
    reset_and_snapshots(Figment::new()).await;
}

#[tokio::test]
#[cfg_attr(
    not(redis_url_set),
    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
)]
async fn reset_and_snapshots_on_redis() {
    let Some(url) = sandbox06_testkit::redis_url("reset_and_snapshots_on_redis") else {
        return;
    };
    let namespace = sandbox06_testkit::unique_namespace("admin-state");
    reset_and_snapshots(
        Figment::new()
            .merge(Serialized::default("store.url", url))
            .merge(Serialized::default("store.namespace", namespace)),
    )
    .await;
}

#[tokio::test]
async fn the_journal_lists_and_verifies_calls_with_no_id_number_in_the_clear() {
    let h = start().await;
    let mut admin = admin(&h);
    admin
        .clear_journal(admin::ClearJournalRequest::default())
        .await
        .unwrap();
    for _ in 0..2 {
        get(&h, personas::HAPPY_PATH).await.unwrap();
    }
    let _ = get(&h, "000000000000").await.unwrap_err();
    let filter = admin::CallFilter {
        method: CITIZEN_GET.to_owned(),
        code: Some(0),
        ..admin::CallFilter::default()
    };
    let verified = admin
        .verify_journal(admin::VerifyJournalRequest {
            filter: Some(filter.clone()),
            comparison: admin::Comparison::Exactly as i32,
            expected_count: 2,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(verified.matched, "{verified:?}");
    assert_eq!(verified.count, 2);
    let all = admin
        .list_journal(admin::ListJournalRequest {
            filter: Some(admin::CallFilter {
                method: CITIZEN_GET.to_owned(),
                ..admin::CallFilter::default()
            }),
            page_size: 10,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.entries.len(), 3, "{all:?}");
    let text = format!("{all:?}");
    assert!(
        !text.contains(personas::HAPPY_PATH),
        "an ID number in the clear: {text}"
    );
    assert!(
        all.entries
            .iter()
            .any(|e| e.code == Code::InvalidArgument as u32 || e.code == Code::NotFound as u32)
    );
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn found_citizens_are_what_their_records_say() {
    let h = start().await;
    let found = admin(&h)
        .find_citizens(admin::FindCitizensRequest {
            filter: Some(admin::CitizenFilter {
                sex: sandbox06_proto::types::Sex::Female as i32,
                min_age: Some(30),
                max_age: Some(40),
                ..admin::CitizenFilter::default()
            }),
            page_size: 5,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.citizen_ids.len(), 5, "{found:?}");
    for id in &found.citizen_ids {
        let citizen = get(&h, id).await.unwrap();
        assert_eq!(citizen.sex(), sandbox06_proto::types::Sex::Female, "{id}");
        let born = citizen.date_of_birth.unwrap();
        // On the tests' reference date, 2026-11-27.
        let age = 2026 - born.year - i32::from((born.month, born.day) > (11, 27));
        assert!((30..=40).contains(&age), "{id}: {age}");
    }
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn the_admin_surface_refuses_a_relying_party_and_follows_the_operators_choice() {
    let h = start().await;
    let hospital = sandbox06_testkit::client_token(
        h.suite.edge,
        "demo-hospital",
        "demo-hospital-secret",
        None,
    )
    .await;
    let mut as_hospital = AdminServiceClient::new(InterceptedService::new(
        h.channel.clone(),
        Bearer::new(&hospital),
    ));
    let refused = as_hospital
        .list_fault_rules(admin::ListFaultRulesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert_eq!(reason_of(&refused).as_deref(), Some("SCOPE_MISSING"));
    // The admin client's token, which carries the scope, is taken.
    AdminServiceClient::new(h.edge.clone())
        .list_fault_rules(admin::ListFaultRulesRequest::default())
        .await
        .unwrap();
    h.suite.stop().await.unwrap();

    for (access, code, reason) in [
        ("token", Code::Unauthenticated, "TOKEN_MISSING"),
        ("off", Code::PermissionDenied, "ADMIN_DISABLED"),
    ] {
        let h = start_with(&test_config_with(
            Figment::new().merge(Serialized::default("admin.access", access)),
        ))
        .await;
        let status = admin(&h)
            .list_snapshots(admin::ListSnapshotsRequest::default())
            .await
            .unwrap_err();
        assert_eq!(status.code(), code, "{access}: {status:?}");
        assert_eq!(reason_of(&status).as_deref(), Some(reason), "{access}");
        let with_token = AdminServiceClient::new(h.edge.clone())
            .list_snapshots(admin::ListSnapshotsRequest::default())
            .await;
        assert_eq!(with_token.is_ok(), access == "token", "{access}");
        h.suite.stop().await.unwrap();
    }
}

#[tokio::test]
async fn the_control_services_behind_the_admin_surface_take_only_its_calls() {
    let h = start().await;
    // The edge's own controls, on the port every client reaches, even with the admin's token.
    let fault = admin::fault_control_client::FaultControlClient::new(h.edge.clone())
        .create_fault_rule(admin::CreateFaultRuleRequest {
            rule: Some(admin::FaultRule {
                action: Some(admin::fault_rule::Action::Down(admin::DownFault {})),
                ..rule("gateway", "")
            }),
        })
        .await
        .unwrap_err();
    let journal = admin::journal_control_client::JournalControlClient::new(h.channel.clone())
        .clear_journal(admin::ClearJournalRequest::default())
        .await
        .unwrap_err();
    // A stateful component's, on its own port.
    let state = admin::state_control_client::StateControlClient::connect(h.url_of("population-db"))
        .await
        .unwrap()
        .reset(admin::ResetRequest::default())
        .await
        .unwrap_err();
    for status in [fault, journal, state] {
        assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
        assert_eq!(reason_of(&status).as_deref(), Some("CONTROL_KEY_MISSING"));
    }
    // The edge still answers: no rule was set.
    assert!(get(&h, personas::HAPPY_PATH).await.is_ok());
    h.suite.stop().await.unwrap();
}

/// `POST path` on the edge with the JSON `body`, as curl sends it (no token): its status and
/// JSON answer.
async fn post_json(
    h: &Harness,
    path: &str,
    body: serde_json::Value,
) -> (http::StatusCode, serde_json::Value) {
    let request = http::Request::post(path)
        .header("content-type", "application/json")
        .body(body.to_string())
        .unwrap();
    let (status, text) = sandbox06_testkit::http1(h.suite.edge, request).await;
    let answer = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, answer)
}

fn field_violations(status: &tonic::Status) -> Vec<String> {
    sandbox06_runtime::error::field_violations_of(status)
        .into_iter()
        .map(|v| v.field)
        .collect()
}

fn life_event(
    citizen_id: &str,
    change: admin::life_event::Change,
) -> admin::CreateLifeEventRequest {
    admin::CreateLifeEventRequest {
        citizen_id: citizen_id.to_owned(),
        event: Some(admin::LifeEvent {
            effective_date: None,
            change: Some(change),
        }),
        request_id: String::new(),
    }
}

/// The first citizen FindCitizens finds for `filter` through the edge, a page at a time.
async fn first_found(h: &Harness, filter: admin::CitizenFilter) -> String {
    let mut request = admin::FindCitizensRequest {
        filter: Some(filter),
        page_size: 1,
        page_token: String::new(),
    };
    loop {
        let page = admin(h)
            .find_citizens(request.clone())
            .await
            .unwrap()
            .into_inner();
        if let Some(id) = page.citizen_ids.into_iter().next() {
            return id;
        }
        assert!(!page.next_page_token.is_empty(), "nobody: {request:?}");
        request.page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn a_move_and_a_marriage_recorded_through_the_edge_are_read_back() {
    use sandbox06_proto::types::{MaritalStatus, Sex};
    let h = start().await;
    // A move over REST, as a CI script sends it.
    let (status, answer) = post_json(
        &h,
        "/v1/admin/lifeEvents",
        serde_json::json!({
            "citizenId": personas::HAPPY_PATH,
            "event": {"moved": {"communeCode": "22366", "street": "Số 1 đường Trần Phú"}},
        }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["citizenId"], personas::HAPPY_PATH);
    assert_eq!(
        answer["permanentAddress"]["current"]["communeCode"], "22366",
        "{answer}"
    );
    let address = get(&h, personas::HAPPY_PATH)
        .await
        .unwrap()
        .permanent_address
        .unwrap()
        .current
        .unwrap();
    assert_eq!(address.commune_code, "22366");
    assert_eq!(address.street, "Số 1 đường Trần Phú");

    // A marriage over gRPC, of two single citizens the admin finds: recorded on both.
    let mut admin = admin(&h);
    let single = |sex: Sex| admin::CitizenFilter {
        sex: sex as i32,
        min_age: Some(25),
        max_age: Some(40),
        marital_status: MaritalStatus::Single as i32,
        deceased: Some(false),
        ..admin::CitizenFilter::default()
    };
    let man = first_found(&h, single(Sex::Male)).await;
    let woman = first_found(&h, single(Sex::Female)).await;
    let married = admin
        .create_life_event(admin::CreateLifeEventRequest {
            request_id: "wedding-1".to_owned(),
            ..life_event(
                &man,
                admin::life_event::Change::Married(admin::LifeEventMarried {
                    spouse_citizen_id: woman.clone(),
                }),
            )
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(married.citizen_id, man);
    assert_eq!(married.marital_status(), MaritalStatus::Married);
    assert_eq!(married.spouse_citizen_id, woman);
    for (id, spouse) in [(&man, &woman), (&woman, &man)] {
        let citizen = get(&h, id).await.unwrap();
        assert_eq!(citizen.marital_status(), MaritalStatus::Married, "{id}");
        assert_eq!(&citizen.spouse.unwrap().citizen_id, spouse, "{id}");
    }
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_bad_life_event_is_refused_with_the_population_databases_reason_and_field() {
    let h = start().await;
    let mut admin = admin(&h);
    let mut upstream = PopulationServiceClient::connect(h.url_of("population-db"))
        .await
        .unwrap();
    let unknown_commune = life_event(
        personas::VNEID_LEVEL_1,
        admin::life_event::Change::Moved(admin::LifeEventMoved {
            commune_code: "99999".to_owned(),
            street: "x".to_owned(),
        }),
    );
    let through_edge = admin
        .create_life_event(unknown_commune.clone())
        .await
        .unwrap_err();
    let direct = upstream
        .create_life_event(sandbox06_admin::records::life_event_request(
            unknown_commune,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        through_edge.code(),
        Code::InvalidArgument,
        "{through_edge:?}"
    );
    assert_eq!(
        reason_of(&through_edge).as_deref(),
        Some("INVALID_ARGUMENT")
    );
    assert_eq!(
        field_violations(&through_edge),
        ["event.moved.commune_code"]
    );
    assert_eq!(through_edge.message(), direct.message());
    assert_eq!(reason_of(&through_edge), reason_of(&direct));

    // Over REST too: the error's reason and field as the database gave them.
    let (status, answer) = post_json(
        &h,
        "/v1/admin/lifeEvents",
        serde_json::json!({"citizenId": personas::DECEASED, "event": {"died": {}}}),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    let text = answer.to_string();
    assert!(text.contains("\"citizen_id\""), "{text}");
    assert!(text.contains("INVALID_ARGUMENT"), "{text}");

    // A key used again for another event: the database's own reason.
    let death = admin::CreateLifeEventRequest {
        request_id: "key-1".to_owned(),
        ..life_event(
            personas::NO_VNEID,
            admin::life_event::Change::Died(admin::LifeEventDied {}),
        )
    };
    let recorded = admin.create_life_event(death.clone()).await.unwrap();
    assert_eq!(recorded.into_inner().life_status(), LifeStatus::Deceased);
    // The same request again is a retry, answered without recording it twice.
    admin.create_life_event(death).await.unwrap();
    let reused = admin
        .create_life_event(admin::CreateLifeEventRequest {
            request_id: "key-1".to_owned(),
            ..life_event(
                personas::HAPPY_PATH,
                admin::life_event::Change::CardReplaced(admin::LifeEventCardReplaced {}),
            )
        })
        .await
        .unwrap_err();
    assert_eq!(reused.code(), Code::AlreadyExists, "{reused:?}");
    assert_eq!(reason_of(&reused).as_deref(), Some("REQUEST_ID_REUSED"));
    assert_eq!(field_violations(&reused), ["request_id"]);
    // An event without a change.
    let empty = admin
        .create_life_event(admin::CreateLifeEventRequest {
            citizen_id: personas::HAPPY_PATH.to_owned(),
            event: Some(admin::LifeEvent::default()),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(field_violations(&empty), ["event.change"]);
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn an_account_locked_by_wrong_passwords_is_unlocked_through_the_edge() {
    use sandbox06_proto::vneid::{
        AuthenticateRequest, authenticate_request::Method, vneid_service_client::VneidServiceClient,
    };
    let h = start().await;
    let mut vneid = VneidServiceClient::connect(h.url_of("vneid"))
        .await
        .unwrap();
    let who = personas::VNEID_LEVEL_1;
    let sign_in = |password: &str| AuthenticateRequest {
        citizen_id: who.to_owned(),
        method: Some(Method::Password(password.to_owned())),
    };
    for _ in 0..sandbox06_vneid::MAX_FAILED_ATTEMPTS {
        // Each says how many are left; the last locks the account.
        let wrong = vneid.authenticate(sign_in("wrong")).await.unwrap_err();
        let reason = reason_of(&wrong).unwrap_or_default();
        assert!(
            ["WRONG_CREDENTIALS", "ACCOUNT_LOCKED"].contains(&reason.as_str()),
            "{wrong:?}"
        );
    }
    let locked = vneid
        .authenticate(sign_in(sandbox06_vneid::SANDBOX_PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(reason_of(&locked).as_deref(), Some("ACCOUNT_LOCKED"));

    let unlocked = admin(&h)
        .unlock_account(admin::UnlockAccountRequest {
            citizen_id: who.to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unlocked.citizen_id, who);
    assert!(unlocked.active, "{unlocked:?}");
    assert_eq!(
        unlocked.level(),
        sandbox06_proto::types::VneidLevel::VneidLevel1
    );
    let amr = vneid
        .authenticate(sign_in(sandbox06_vneid::SANDBOX_PASSWORD))
        .await
        .unwrap()
        .into_inner()
        .amr;
    assert_eq!(amr, ["pwd"]);

    // The persona that starts locked, over REST; and an account that does not exist.
    let locked_persona = sandbox06_world::personas::ids::VNEID_LOCKED;
    let (status, answer) = post_json(
        &h,
        &format!("/v1/admin/accounts/{locked_persona}:unlock"),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["active"], true, "{answer}");
    vneid
        .authenticate(AuthenticateRequest {
            citizen_id: locked_persona.to_owned(),
            method: Some(Method::Password(
                sandbox06_vneid::SANDBOX_PASSWORD.to_owned(),
            )),
        })
        .await
        .unwrap();
    let none = admin(&h)
        .unlock_account(admin::UnlockAccountRequest {
            citizen_id: personas::NO_VNEID.to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(none.code(), Code::NotFound, "{none:?}");
    assert_eq!(reason_of(&none).as_deref(), Some("ACCOUNT_NOT_FOUND"));
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn life_events_and_unlocks_follow_the_admins_access() {
    // A relying party's token is refused, whatever it may do elsewhere.
    let h = start().await;
    let hospital = sandbox06_testkit::client_token(
        h.suite.edge,
        "demo-hospital",
        "demo-hospital-secret",
        None,
    )
    .await;
    let mut as_hospital = AdminServiceClient::new(InterceptedService::new(
        h.channel.clone(),
        Bearer::new(&hospital),
    ));
    let death = life_event(
        personas::NO_VNEID,
        admin::life_event::Change::Died(admin::LifeEventDied {}),
    );
    let refused = as_hospital
        .create_life_event(death.clone())
        .await
        .unwrap_err();
    assert_eq!(reason_of(&refused).as_deref(), Some("SCOPE_MISSING"));
    let refused = as_hospital
        .unlock_account(admin::UnlockAccountRequest {
            citizen_id: personas::HAPPY_PATH.to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason_of(&refused).as_deref(), Some("SCOPE_MISSING"));
    assert_eq!(life_status(&h, personas::NO_VNEID).await, LifeStatus::Alive);
    h.suite.stop().await.unwrap();

    // Turned off: refused with or without the admin's token, and nothing is recorded.
    let h = start_with(&test_config_with(
        Figment::new().merge(Serialized::default("admin.access", "off")),
    ))
    .await;
    for mut client in [admin(&h), AdminServiceClient::new(h.channel.clone())] {
        let status = client.create_life_event(death.clone()).await.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
        assert_eq!(reason_of(&status).as_deref(), Some("ADMIN_DISABLED"));
    }
    let status = AdminServiceClient::new(h.edge.clone())
        .unlock_account(admin::UnlockAccountRequest {
            citizen_id: sandbox06_world::personas::ids::VNEID_LOCKED.to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason_of(&status).as_deref(), Some("ADMIN_DISABLED"));
    let (status, answer) = post_json(
        &h,
        "/v1/admin/lifeEvents",
        serde_json::json!({"citizenId": personas::NO_VNEID, "event": {"died": {}}}),
    )
    .await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(life_status(&h, personas::NO_VNEID).await, LifeStatus::Alive);
    h.suite.stop().await.unwrap();
}

// Parallel jobs: the x-sandbox06-tenant header.

const TENANT_HEADER: &str = "x-sandbox06-tenant";

/// `message` as a call of `tenant`.
fn of_tenant<T>(tenant: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert(TENANT_HEADER, tenant.parse().unwrap());
    request
}

/// GetCitizen through the edge as a call of `tenant` (none: the operator's).
async fn get_of(
    h: &Harness,
    tenant: Option<&str>,
    citizen_id: &str,
) -> Result<sandbox06_proto::citizen::Citizen, tonic::Status> {
    let message = GetCitizenRequest {
        citizen_id: citizen_id.to_owned(),
        read_mask: None,
    };
    let request = match tenant {
        Some(tenant) => of_tenant(tenant, message),
        None => tonic::Request::new(message),
    };
    h.citizens()
        .get_citizen(request)
        .await
        .map(|answer| answer.into_inner().citizen.unwrap())
}

/// A status fault of `code` on `method` of `component`, as created by `tenant`.
async fn tenant_rule(
    h: &Harness,
    tenant: &str,
    component: &str,
    method: &str,
    code: Code,
) -> admin::FaultRule {
    admin(h)
        .create_fault_rule(of_tenant(
            tenant,
            admin::CreateFaultRuleRequest {
                rule: Some(admin::FaultRule {
                    action: Some(admin::fault_rule::Action::Status(admin::StatusFault {
                        code: code as i32,
                        ..admin::StatusFault::default()
                    })),
                    ..rule(component, method)
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner()
}

/// The fault rules listed to `tenant` (none: the operator).
async fn rules_of(h: &Harness, tenant: Option<&str>) -> Vec<admin::FaultRule> {
    let message = admin::ListFaultRulesRequest::default();
    let request = match tenant {
        Some(tenant) => of_tenant(tenant, message),
        None => tonic::Request::new(message),
    };
    admin(h)
        .list_fault_rules(request)
        .await
        .unwrap()
        .into_inner()
        .rules
}

#[tokio::test]
async fn two_tenants_each_meet_and_list_their_own_fault_only() {
    let h = start().await;
    let a = tenant_rule(&h, "job-a", "citizen", CITIZEN_GET, Code::NotFound).await;
    let b = tenant_rule(&h, "job-b", "citizen", CITIZEN_GET, Code::Unavailable).await;
    assert_eq!((a.tenant.as_str(), b.tenant.as_str()), ("job-a", "job-b"));
    // Each job's call meets its own rule, and only its own.
    let hit =
        |status: &tonic::Status| format!("citizen.{}", metadata_of(status, "fault_rule").unwrap());
    let status = get_of(&h, Some("job-a"), personas::HAPPY_PATH)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert_eq!(hit(&status), a.id);
    let status = get_of(&h, Some("job-b"), personas::HAPPY_PATH)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(hit(&status), b.id);
    // A call of no tenant, or of another, meets neither.
    get_of(&h, None, personas::HAPPY_PATH).await.unwrap();
    get_of(&h, Some("job-c"), personas::HAPPY_PATH)
        .await
        .unwrap();
    // Each lists its own rule; the operator lists both.
    let ids = |rules: Vec<admin::FaultRule>| rules.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(rules_of(&h, Some("job-a")).await), [a.id.as_str()]);
    assert_eq!(ids(rules_of(&h, Some("job-b")).await), [b.id.as_str()]);
    let all = rules_of(&h, None).await;
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all.iter().all(|r| r.applied == 1), "{all:?}");
    // Another job's rule is not found, as an unknown id is; clearing takes one's own.
    let status = admin(&h)
        .delete_fault_rule(of_tenant(
            "job-a",
            admin::DeleteFaultRuleRequest { id: b.id.clone() },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    let cleared = admin(&h)
        .clear_fault_rules(of_tenant("job-a", admin::ClearFaultRulesRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cleared.removed, 1);
    get_of(&h, Some("job-a"), personas::HAPPY_PATH)
        .await
        .unwrap();
    let status = get_of(&h, Some("job-b"), personas::HAPPY_PATH)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_tenants_rule_on_the_population_database_fails_that_tenants_get_citizen_only() {
    let h = start().await;
    tenant_rule(
        &h,
        "job-a",
        "population-db",
        POPULATION_GET,
        Code::Unavailable,
    )
    .await;
    // The tenant travels from the edge through the citizen service to the database.
    let status = get_of(&h, Some("job-a"), personas::HAPPY_PATH)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(reason_of(&status).as_deref(), Some("UPSTREAM_UNAVAILABLE"));
    assert_eq!(
        metadata_of(&status, "backend").as_deref(),
        Some("population-db")
    );
    get_of(&h, Some("job-b"), personas::HAPPY_PATH)
        .await
        .unwrap();
    get_of(&h, None, personas::HAPPY_PATH).await.unwrap();
    h.suite.stop().await.unwrap();
}

/// The count of GetCitizen calls in the journal as `tenant` (none: the operator) verifies it
/// with `filter_tenant`, once it is `expected` (entries are committed as answers end).
async fn journal_count(
    h: &Harness,
    tenant: Option<&str>,
    filter_tenant: &str,
    expected: u64,
) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let message = admin::VerifyJournalRequest {
            filter: Some(admin::CallFilter {
                method: CITIZEN_GET.to_owned(),
                tenant: filter_tenant.to_owned(),
                ..admin::CallFilter::default()
            }),
            comparison: admin::Comparison::Exactly as i32,
            expected_count: expected,
        };
        let request = match tenant {
            Some(tenant) => of_tenant(tenant, message),
            None => tonic::Request::new(message),
        };
        let verified = admin(h).verify_journal(request).await.unwrap().into_inner();
        if verified.matched || Instant::now() >= deadline {
            return verified.count;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_journals_of_two_tenants_do_not_mix_and_the_operator_sees_both() {
    let h = start().await;
    admin(&h)
        .clear_journal(admin::ClearJournalRequest::default())
        .await
        .unwrap();
    for _ in 0..2 {
        get_of(&h, Some("job-a"), personas::HAPPY_PATH)
            .await
            .unwrap();
    }
    for _ in 0..3 {
        get_of(&h, Some("job-b"), personas::HAPPY_PATH)
            .await
            .unwrap();
    }
    // REST calls carry their tenant too.
    let request = http::Request::get(format!("/v1/citizens/{}", personas::HAPPY_PATH))
        .header("authorization", format!("Bearer {}", h.token))
        .header(TENANT_HEADER, "job-b")
        .body(String::new())
        .unwrap();
    let (status, text) = sandbox06_testkit::http1(h.suite.edge, request).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(journal_count(&h, Some("job-a"), "", 2).await, 2);
    assert_eq!(journal_count(&h, Some("job-b"), "", 4).await, 4);
    assert_eq!(journal_count(&h, None, "", 6).await, 6);
    assert_eq!(journal_count(&h, None, "job-a", 2).await, 2);
    // A job's list holds its own calls only, each naming it; the operator's holds both.
    let listed = admin(&h)
        .list_journal(of_tenant(
            "job-a",
            admin::ListJournalRequest {
                page_size: 100,
                ..admin::ListJournalRequest::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.entries.len(), 2, "{listed:?}");
    assert!(listed.entries.iter().all(|e| e.tenant == "job-a"));
    let all = admin(&h)
        .list_journal(admin::ListJournalRequest {
            page_size: 100,
            ..admin::ListJournalRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    let tenants: std::collections::BTreeSet<&str> =
        all.entries.iter().map(|e| e.tenant.as_str()).collect();
    assert!(
        tenants.contains("job-a") && tenants.contains("job-b"),
        "{tenants:?}"
    );
    // A job names no other tenant's calls.
    let status = admin(&h)
        .verify_journal(of_tenant(
            "job-a",
            admin::VerifyJournalRequest {
                filter: Some(admin::CallFilter {
                    tenant: "job-b".to_owned(),
                    ..admin::CallFilter::default()
                }),
                comparison: admin::Comparison::AtLeast as i32,
                expected_count: 0,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    // A job's clear forgets its own calls only.
    let cleared = admin(&h)
        .clear_journal(of_tenant("job-a", admin::ClearJournalRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cleared.cleared, 2);
    assert_eq!(journal_count(&h, Some("job-b"), "", 4).await, 4);
    assert_eq!(journal_count(&h, None, "", 4).await, 4);
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_tenants_reset_clears_its_rules_journal_and_state_only() {
    let h = start().await;
    tenant_rule(&h, "job-a", "citizen", CITIZEN_GET, Code::NotFound).await;
    tenant_rule(&h, "job-b", "citizen", CITIZEN_GET, Code::NotFound).await;
    let _ = get_of(&h, Some("job-a"), personas::HAPPY_PATH).await;
    let _ = get_of(&h, Some("job-b"), personas::HAPPY_PATH).await;
    assert_eq!(journal_count(&h, None, "", 2).await, 2);
    let reset = admin(&h)
        .reset_sandbox(of_tenant("job-a", admin::ResetSandboxRequest::default()))
        .await
        .unwrap()
        .into_inner();
    // Its own state in every stateful component (tests/tenants.rs says which state).
    assert!(
        reset.components.iter().any(|c| c == "population-db"),
        "{reset:?}"
    );
    assert_eq!(reset.fault_rules_removed, 1);
    assert_eq!(reset.journal_entries_cleared, 1);
    assert!(rules_of(&h, Some("job-a")).await.is_empty());
    assert_eq!(rules_of(&h, Some("job-b")).await.len(), 1);
    assert_eq!(journal_count(&h, Some("job-b"), "", 1).await, 1);
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_malformed_tenant_is_refused_naming_the_header() {
    let h = start().await;
    for bad in ["job a", "job/a", "ä"] {
        let mut request = tonic::Request::new(GetCitizenRequest {
            citizen_id: personas::HAPPY_PATH.to_owned(),
            read_mask: None,
        });
        let value = tonic::metadata::MetadataValue::try_from(bad.as_bytes())
            .unwrap_or_else(|_| tonic::metadata::MetadataValue::from_static("job,a"));
        request.metadata_mut().insert(TENANT_HEADER, value);
        let status = h.citizens().get_citizen(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{bad}: {status:?}");
        assert_eq!(
            metadata_of(&status, "header").as_deref(),
            Some(TENANT_HEADER),
            "{bad}"
        );
    }
    // The admin surface refuses it too, and so does REST.
    let status = admin(&h)
        .list_fault_rules(of_tenant(
            &"x".repeat(65),
            admin::ListFaultRulesRequest::default(),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(
        metadata_of(&status, "header").as_deref(),
        Some(TENANT_HEADER)
    );
    let request = http::Request::get("/v1/admin/faultRules")
        .header(TENANT_HEADER, "job a")
        .body(String::new())
        .unwrap();
    let (status, text) = sandbox06_testkit::http1(h.suite.edge, request).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains(TENANT_HEADER), "{text}");
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_grpc_web_call_carries_its_tenant_to_the_population_database_and_the_journal() {
    use base64::Engine as _;
    let h = start().await;
    tenant_rule(
        &h,
        "job-a",
        "population-db",
        POPULATION_GET,
        Code::Unavailable,
    )
    .await;
    let message = prost::Message::encode_to_vec(&GetCitizenRequest {
        citizen_id: personas::HAPPY_PATH.to_owned(),
        read_mask: None,
    });
    let mut framed = vec![0u8];
    framed.extend(u32::try_from(message.len()).unwrap().to_be_bytes());
    framed.extend(message);
    let payload = base64::engine::general_purpose::STANDARD.encode(framed);
    let url = format!(
        "http://{}/sandbox06.citizen.v1.CitizenService/GetCitizen",
        h.suite.edge
    );
    // The call's grpc-status, from its headers (an error alone) or its trailers frame.
    let status_of = |tenant: &'static str| {
        let (url, payload, token) = (url.clone(), payload.clone(), h.token.clone());
        async move {
            let response = openidconnect::reqwest::Client::new()
                .post(&url)
                .header("content-type", "application/grpc-web-text")
                .header("accept", "application/grpc-web-text")
                .header("x-grpc-web", "1")
                .header(TENANT_HEADER, tenant)
                .bearer_auth(token)
                .body(payload)
                .send()
                .await
                .unwrap();
            if let Some(status) = response.headers().get("grpc-status") {
                return status.to_str().unwrap().to_owned();
            }
            let text = response.text().await.unwrap();
            let body: Vec<u8> = text
                .split_inclusive('=')
                .flat_map(|chunk| {
                    base64::engine::general_purpose::STANDARD
                        .decode(chunk)
                        .unwrap()
                })
                .collect();
            let body = String::from_utf8_lossy(&body);
            body.split("grpc-status:")
                .nth(1)
                .and_then(|rest| rest.split(['\r', '\n']).next())
                .unwrap_or_default()
                .trim()
                .to_owned()
        }
    };
    assert_eq!(status_of("job-a").await, "14");
    assert_eq!(status_of("job-b").await, "0");
    // The journal has each call as its tenant's, over gRPC-Web.
    assert_eq!(journal_count(&h, Some("job-a"), "", 1).await, 1);
    let listed = admin(&h)
        .list_journal(of_tenant("job-a", admin::ListJournalRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.entries.len(), 1, "{listed:?}");
    assert_eq!(listed.entries[0].protocol, admin::Protocol::GrpcWeb as i32);
    assert_eq!(listed.entries[0].code, Code::Unavailable as u32);
    assert_eq!(journal_count(&h, Some("job-b"), "", 1).await, 1);
    h.suite.stop().await.unwrap();
}
