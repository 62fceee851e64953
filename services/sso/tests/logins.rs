//! The person's claims live once, on the login: the grants made from it (codes, refresh
//! tokens) and the browser's session refer to it by its id, the grants keep their claims after
//! the browser's session ends, and a grant whose login is gone gives no tokens. A browser's
//! session cookie is a random value of its own, never the login's id that tokens carry. A
//! browser cookie counts only when the provider made it (on any replica sharing the store).

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::sync::Arc;
use std::time::Duration;

use sandbox06_sso::claims::{Person, TechIdKey};
use sandbox06_sso::clients::registry;
use sandbox06_sso::identity::Identity;
use sandbox06_sso::keys::Keys;
use sandbox06_sso::oauth::browser::BrowserKey;
use sandbox06_sso::oauth::outcome::LogoutOutcome;
use sandbox06_sso::oauth::records::{BrowserSession, Session};
use sandbox06_sso::provider::{Grant, Lifetimes, Provider, Throttle};
use sandbox06_testkit::FailingStore;
use serde_json::Value;

fn provider() -> Provider {
    provider_on(Arc::new(FailingStore::new()))
}

fn provider_on(store: Arc<FailingStore>) -> Provider {
    // Nothing listens there: no test reaches VNeID or the population database.
    let nowhere = || tonic::transport::Endpoint::from_static("http://127.0.0.1:9").connect_lazy();
    Provider {
        issuer: "http://127.0.0.1:4606".to_owned(),
        clients: registry(&[]).unwrap(),
        keys: Keys::new(store.clone(), Duration::from_secs(3600)),
        store,
        identity: Identity::new(nowhere(), nowhere()),
        lifetimes: Lifetimes::default(),
        tech_ids: TechIdKey::default(),
        throttle: Throttle::default(),
        browser_key: BrowserKey::default(),
        clock: sandbox06_runtime::clock::Clock::system(),
    }
}

fn login() -> Session {
    Session {
        sub: "001095012345".to_owned(),
        acr: Some("LoA2".to_owned()),
        amr: vec!["pwd".to_owned()],
        auth_time: time::OffsetDateTime::now_utc().unix_timestamp(),
        sid: "sid-of-this-login".to_owned(),
        person: Person {
            citizen_id: "001095012345".to_owned(),
            full_name: "Nguyễn Thị Thu Hà".to_owned(),
            birthdate: "1995-03-07".to_owned(),
            ..Person::default()
        },
    }
}

fn grant(sid: &str) -> Grant {
    Grant {
        client_id: "demo-portal".to_owned(),
        sub: "001095012345".to_owned(),
        scopes: vec!["openid".to_owned(), "profile".to_owned()],
        sid: Some(sid.to_owned()),
        gid: "family".to_owned(),
        ..Grant::default()
    }
}

fn id_token_name(token: &str) -> Value {
    sandbox06_jose::decode_unverified(token).unwrap().claims["name"].clone()
}

#[tokio::test]
async fn a_grant_takes_the_claims_from_its_login_and_keeps_them_after_logout() {
    let p = provider();
    let client = p.client("demo-portal").unwrap();
    let login = login();
    let cookie = p.start_session(&login).await.unwrap();
    assert_eq!(
        p.browser_session(&cookie).await.unwrap().unwrap().sub,
        login.sub
    );
    let grant = grant(&login.sid);
    // The grant, as the store keeps it, holds no personal data.
    let stored = serde_json::to_string(&grant).unwrap();
    assert!(
        !stored.contains("Nguyễn") && !stored.contains("person"),
        "{stored}"
    );
    let tokens = p.issue(client, &grant).await.unwrap();
    assert_eq!(
        id_token_name(tokens.id_token.as_deref().unwrap()),
        "Nguyễn Thị Thu Hà"
    );
    assert!(tokens.refresh_token.is_some());
    // The browser's session ends; the grant's tokens keep their claims.
    p.end_session(&cookie).await.unwrap();
    assert!(p.browser_session(&cookie).await.unwrap().is_none());
    assert!(p.load::<BrowserSession>(&cookie).await.unwrap().is_none());
    let again = p.issue(client, &grant).await.unwrap();
    assert_eq!(
        id_token_name(again.id_token.as_deref().unwrap()),
        "Nguyễn Thị Thu Hà"
    );
}

#[tokio::test]
async fn a_grant_whose_login_is_gone_gives_no_tokens() {
    let p = provider();
    let client = p.client("demo-portal").unwrap();
    let error = p.issue(client, &grant("no-such-login")).await.unwrap_err();
    assert_eq!(error.code(), "invalid_grant");
}

#[tokio::test]
async fn a_browser_session_older_than_its_lifetime_logs_nobody_in() {
    let p = provider();
    let mut old = login();
    old.auth_time = time::OffsetDateTime::now_utc().unix_timestamp() - 9 * 3600;
    let cookie = p.start_session(&old).await.unwrap();
    p.keep_login(&old, Duration::from_secs(3600)).await.unwrap();
    assert!(p.browser_session(&cookie).await.unwrap().is_none());
    // …while its grants still find it.
    assert_eq!(p.login_of(&old.sid).await.unwrap().sub, old.sub);
}

#[tokio::test]
async fn a_browser_session_cookie_is_a_random_value_of_its_own_naming_the_login() {
    let p = provider();
    let login = login();
    let cookie = p.start_session(&login).await.unwrap();
    // At least 128 bits, URL-safe, and nothing a token carries.
    assert!(cookie.len() >= 22, "{cookie}");
    assert!(
        cookie
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{cookie}"
    );
    assert!(!cookie.contains(&login.sid) && !login.sid.contains(&cookie));
    assert_ne!(cookie, p.start_session(&login).await.unwrap());
    // The login's id, which every ID token carries as `sid`, logs nobody in.
    assert!(p.browser_session(&login.sid).await.unwrap().is_none());
    // The browser's session holds the login's id and no claims.
    let record = p.load::<BrowserSession>(&cookie).await.unwrap().unwrap();
    assert_eq!(record.login, login.sid);
    let stored = serde_json::to_string(&record).unwrap();
    assert!(
        !stored.contains("Nguyễn") && !stored.contains(&login.sub),
        "{stored}"
    );
}

#[tokio::test]
async fn a_browser_session_reads_the_login_it_names_and_a_store_failure_is_no_logout() {
    let store = Arc::new(FailingStore::new());
    let p = provider_on(store.clone());
    let mut login = login();
    let cookie = p.start_session(&login).await.unwrap();
    // The claims come from the login, as it is now: one copy.
    login.person.full_name = "Nguyễn Thị Hà".to_owned();
    p.keep_login(&login, p.lifetimes.session).await.unwrap();
    assert_eq!(
        p.browser_session(&cookie)
            .await
            .unwrap()
            .unwrap()
            .person
            .full_name,
        "Nguyễn Thị Hà"
    );
    // The browser's session cannot be read: an error, not "no session".
    store.fail("get");
    let error = p.browser_session(&cookie).await.unwrap_err();
    assert_eq!(error.code(), "temporarily_unavailable");
    // Nor can the login behind it.
    store.heal();
    store.fail("get");
    store.only_keys_containing("sso:session:");
    let error = p.browser_session(&cookie).await.unwrap_err();
    assert_eq!(error.code(), "temporarily_unavailable");
    // A login gone from behind a browser's session: no session.
    store.heal();
    p.remove::<Session>(&login.sid).await.unwrap();
    assert!(p.browser_session(&cookie).await.unwrap().is_none());
}

#[tokio::test]
async fn a_browser_cookie_counts_only_when_a_replica_of_the_store_made_it() {
    let store = Arc::new(FailingStore::new());
    let (one, other) = (provider_on(store.clone()), provider_on(store));
    let (made, new) = one.browser_or_new(None).await.unwrap();
    assert!(new);
    // The other replica, sharing the store, takes it as it is.
    assert_eq!(
        other.browser_or_new(Some(&made)).await.unwrap(),
        (made.clone(), false)
    );
    assert_eq!(
        other.issued_browser(Some(&made)).await.unwrap(),
        Some(made.as_str())
    );
    // A value of the same form that no replica made is no browser: a fresh one replaces it.
    let planted = format!("{}.{}", "A".repeat(32), "B".repeat(43));
    assert_eq!(planted.len(), made.len());
    assert_eq!(other.issued_browser(Some(&planted)).await.unwrap(), None);
    let (fresh, new) = other.browser_or_new(Some(&planted)).await.unwrap();
    assert!(new);
    assert_ne!(fresh, planted);
    // A provider on another store does not take it either.
    assert_eq!(provider().issued_browser(Some(&made)).await.unwrap(), None);
}

#[tokio::test]
async fn a_logout_confirmation_is_taken_only_with_the_browser_cookie_it_was_given() {
    let p = provider();
    let session = p.start_session(&login()).await.unwrap();
    let planted = format!("{}.{}", "A".repeat(32), "B".repeat(43));
    let (outcome, fresh) = p
        .logout(&Default::default(), Some(&session), Some(&planted))
        .await;
    let LogoutOutcome::ConfirmationRequested { request, .. } = outcome else {
        panic!("a confirmation form, not {outcome:?}");
    };
    let fresh = fresh.expect("a fresh browser cookie with the form");
    assert_ne!(fresh, planted);
    let refused = p
        .confirmed_logout(&request, Some("logout"), Some(&session), Some(&planted))
        .await;
    assert!(matches!(refused, LogoutOutcome::Refused(_)), "{refused:?}");
    let confirmed = p
        .confirmed_logout(&request, Some("logout"), Some(&session), Some(&fresh))
        .await;
    assert!(
        matches!(confirmed, LogoutOutcome::LoggedOut { .. }),
        "{confirmed:?}"
    );
}
