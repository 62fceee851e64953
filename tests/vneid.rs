//! The VNeID mock, called directly as the sign-in service will call it: accounts from the
//! population database, the three ways to authenticate, locking after wrong attempts,
//! unlocking, and the changes recorded on the population database (a death, a new level).

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use sandbox06_proto::{
    population::{self as pop, population_service_client::PopulationServiceClient},
    types::VneidLevel,
    vneid::{
        Account, AccountStatus, AppApproval, AuthenticateRequest, GetAccountRequest,
        ListPersonaAccountsRequest, UnlockAccountRequest, authenticate_request::Method,
        vneid_service_client::VneidServiceClient,
    },
};
use sandbox06_runtime::error::reason_of;
use sandbox06_testkit::{Harness, personas, start};
use sandbox06_vneid::{MAX_FAILED_ATTEMPTS, SANDBOX_ONE_TIME_CODE, SANDBOX_PASSWORD};
use tonic::{Code, Status, transport::Channel};
use tonic_types::StatusExt;

async fn client(h: &Harness) -> VneidServiceClient<Channel> {
    VneidServiceClient::connect(h.url_of("vneid"))
        .await
        .unwrap()
}

async fn sign_in(
    client: &mut VneidServiceClient<Channel>,
    citizen_id: &str,
    method: Method,
) -> Result<Vec<String>, Status> {
    client
        .authenticate(AuthenticateRequest {
            citizen_id: citizen_id.into(),
            method: Some(method),
        })
        .await
        .map(|r| r.into_inner().amr)
}

fn password(p: &str) -> Method {
    Method::Password(p.into())
}

fn app() -> Method {
    Method::AppApproval(AppApproval {
        purpose: "Đăng nhập Cổng dịch vụ công".into(),
    })
}

async fn get_account(
    client: &mut VneidServiceClient<Channel>,
    citizen_id: &str,
) -> Result<Account, Status> {
    client
        .get_account(GetAccountRequest {
            citizen_id: citizen_id.into(),
        })
        .await
        .map(|r| r.into_inner().account.unwrap())
}

fn refused(result: Result<Vec<String>, Status>) -> (Code, String) {
    let status = result.unwrap_err();
    (status.code(), reason_of(&status).unwrap_or_default())
}

#[tokio::test]
async fn accounts_come_from_the_population_record() {
    let h = start().await;
    let mut c = client(&h).await;
    let happy = get_account(&mut c, personas::HAPPY_PATH).await.unwrap();
    assert_eq!(happy.full_name, "Nguyễn Văn Hùng");
    assert_eq!(happy.level(), VneidLevel::VneidLevel2);
    assert_eq!(happy.status(), AccountStatus::Active);
    assert_eq!(happy.max_failed_attempts, MAX_FAILED_ATTEMPTS as i32);
    let level_1 = get_account(&mut c, personas::VNEID_LEVEL_1).await.unwrap();
    assert_eq!(level_1.level(), VneidLevel::VneidLevel1);
    // No account: never registered, a child without one, a malformed number.
    for (id, code, reason) in [
        (personas::NO_VNEID, Code::NotFound, "ACCOUNT_NOT_FOUND"),
        (personas::MINOR_NO_CARD, Code::NotFound, "ACCOUNT_NOT_FOUND"),
        ("12345", Code::InvalidArgument, "INVALID_CITIZEN_ID"),
    ] {
        let status = get_account(&mut c, id).await.unwrap_err();
        assert_eq!(
            (status.code(), reason_of(&status).as_deref()),
            (code, Some(reason)),
            "{id}: {status:?}"
        );
    }
}

/// The sign-in page's picker asks the mock for the personas: every hand-written persona once, in
/// the table's order, with the level the account answers with (none without an account).
#[tokio::test]
async fn the_personas_are_listed_with_their_accounts_level() {
    let h = start().await;
    let mut c = client(&h).await;
    let listed = c
        .list_persona_accounts(ListPersonaAccountsRequest {})
        .await
        .unwrap()
        .into_inner()
        .personas;
    let ids: Vec<&str> = listed.iter().map(|p| p.citizen_id.as_str()).collect();
    let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "each persona once: {ids:?}");
    let level_of = |id: &str| {
        listed
            .iter()
            .find(|p| p.citizen_id == id)
            .unwrap_or_else(|| panic!("{id} is listed"))
            .level()
    };
    assert_eq!(level_of(personas::NO_VNEID), VneidLevel::None);
    for id in [personas::HAPPY_PATH, personas::VNEID_LEVEL_1] {
        let account = get_account(&mut c, id).await.unwrap();
        assert_eq!(level_of(id), account.level(), "{id}");
    }
    let happy = listed
        .iter()
        .find(|p| p.citizen_id == personas::HAPPY_PATH)
        .unwrap();
    assert_eq!(
        (happy.persona_key.as_str(), happy.full_name.as_str()),
        ("happy-path", "Nguyễn Văn Hùng")
    );
}

#[tokio::test]
async fn a_password_a_one_time_code_or_the_app_authenticates() {
    let h = start().await;
    let mut c = client(&h).await;
    let id = personas::HAPPY_PATH;
    assert_eq!(
        sign_in(&mut c, id, password(SANDBOX_PASSWORD))
            .await
            .unwrap(),
        ["pwd"]
    );
    assert_eq!(
        sign_in(
            &mut c,
            id,
            Method::OneTimeCode(SANDBOX_ONE_TIME_CODE.into())
        )
        .await
        .unwrap(),
        ["otp"]
    );
    assert_eq!(sign_in(&mut c, id, app()).await.unwrap(), ["swk"]);
    // The persona who rejects approvals in the app can still use a password.
    let rejects = personas::VNEID_APP_REJECTS;
    assert_eq!(
        refused(sign_in(&mut c, rejects, app()).await),
        (Code::PermissionDenied, "APPROVAL_REJECTED".into())
    );
    assert_eq!(
        sign_in(&mut c, rejects, password(SANDBOX_PASSWORD))
            .await
            .unwrap(),
        ["pwd"]
    );
    // No method at all.
    let status = c
        .authenticate(AuthenticateRequest {
            citizen_id: id.into(),
            method: None,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
}

#[tokio::test]
async fn five_wrong_attempts_lock_the_account_until_it_is_unlocked() {
    let h = start().await;
    let mut c = client(&h).await;
    let id = personas::MARRIED_WIFE;
    for left in (1..MAX_FAILED_ATTEMPTS).rev() {
        let status = sign_in(&mut c, id, password("wrong")).await.unwrap_err();
        assert_eq!(reason_of(&status).as_deref(), Some("WRONG_CREDENTIALS"));
        let info = status.get_details_error_info().unwrap();
        assert_eq!(
            info.metadata["attempts_left"],
            left.to_string(),
            "{status:?}"
        );
    }
    // The fifth wrong attempt locks; then even the right password is refused.
    assert_eq!(
        refused(sign_in(&mut c, id, Method::OneTimeCode("000000".into())).await),
        (Code::FailedPrecondition, "ACCOUNT_LOCKED".into())
    );
    assert_eq!(
        refused(sign_in(&mut c, id, password(SANDBOX_PASSWORD)).await).1,
        "ACCOUNT_LOCKED"
    );
    let unlocked = c
        .unlock_account(UnlockAccountRequest {
            citizen_id: id.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert_eq!(
        (unlocked.status(), unlocked.failed_attempts),
        (AccountStatus::Active, 0)
    );
    assert!(
        sign_in(&mut c, id, password(SANDBOX_PASSWORD))
            .await
            .is_ok()
    );

    // The locked persona is locked from the start, and unlocks the same way.
    let locked = personas::VNEID_LOCKED;
    assert_eq!(
        refused(sign_in(&mut c, locked, password(SANDBOX_PASSWORD)).await).1,
        "ACCOUNT_LOCKED"
    );
    c.unlock_account(UnlockAccountRequest {
        citizen_id: locked.into(),
    })
    .await
    .unwrap();
    assert!(
        sign_in(&mut c, locked, password(SANDBOX_PASSWORD))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn changes_recorded_on_the_population_database_reach_the_account() {
    let h = start().await;
    let mut c = client(&h).await;
    let mut population = PopulationServiceClient::connect(h.url_of("population-db"))
        .await
        .unwrap();
    let record = |citizen_id: &str, change: pop::life_event::Change| pop::CreateLifeEventRequest {
        citizen_id: citizen_id.into(),
        request_id: String::new(),
        event: Some(pop::LifeEvent {
            effective_date: None,
            change: Some(change),
        }),
    };
    // Level 1 registered at the police: level 2.
    population
        .create_life_event(record(
            personas::VNEID_LEVEL_1,
            pop::life_event::Change::VneidChanged(pop::VneidChanged {
                level: VneidLevel::VneidLevel2 as i32,
            }),
        ))
        .await
        .unwrap();
    let upgraded = get_account(&mut c, personas::VNEID_LEVEL_1).await.unwrap();
    assert_eq!(upgraded.level(), VneidLevel::VneidLevel2);
    // A death closes the account.
    population
        .create_life_event(record(
            personas::HAPPY_PATH,
            pop::life_event::Change::Died(pop::Died {}),
        ))
        .await
        .unwrap();
    assert_eq!(
        refused(sign_in(&mut c, personas::HAPPY_PATH, password(SANDBOX_PASSWORD)).await),
        (Code::FailedPrecondition, "ACCOUNT_CLOSED".into())
    );
}
