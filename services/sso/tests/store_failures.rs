//! A state store that fails is answered as such (`temporarily_unavailable`, 503; gRPC
//! UNAVAILABLE naming the store), never read as no session, no consent, an expired page or an
//! unknown token; a stored record that does not parse is the provider's own failure.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http::{Request, Response, StatusCode};
use sandbox06_proto::sso::{self as pb, sso_service_server::SsoService};
use sandbox06_sso::claims::TechIdKey;
use sandbox06_sso::clients::registry;
use sandbox06_sso::grpc::SsoApi;
use sandbox06_sso::identity::Identity;
use sandbox06_sso::keys::Keys;
use sandbox06_sso::oauth::browser::BrowserKey;
use sandbox06_sso::oauth::records::{BrowserSession, key};
use sandbox06_sso::provider::{Lifetimes, Provider, Throttle};
use sandbox06_store::Store;
use sandbox06_testkit::FailingStore;
use tonic::Code;
use tonic_types::StatusExt;
use tower::ServiceExt;

const ISSUER: &str = "http://127.0.0.1:4606";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn provider(store: Arc<FailingStore>) -> Arc<Provider> {
    // Nothing listens there: no test reaches VNeID or the population database.
    let nowhere = || tonic::transport::Endpoint::from_static("http://127.0.0.1:9").connect_lazy();
    Arc::new(Provider {
        issuer: ISSUER.to_owned(),
        clients: registry(&[]).unwrap(),
        keys: Keys::new(store.clone(), Duration::from_secs(3600)),
        store,
        identity: Identity::new(nowhere(), nowhere()),
        lifetimes: Lifetimes::default(),
        tech_ids: TechIdKey::default(),
        throttle: Throttle::default(),
        browser_key: BrowserKey::default(),
        clock: sandbox06_runtime::clock::Clock::system(),
    })
}

async fn call(p: &Arc<Provider>, request: Request<Body>) -> Response<Body> {
    sandbox06_sso::http::router(p.clone())
        .oneshot(request)
        .await
        .unwrap()
}

async fn body_text(response: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn location_params(response: &Response<Body>) -> HashMap<String, String> {
    let location = response.headers()["location"].to_str().unwrap();
    let query = location.split_once('?').unwrap().1;
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// The portal's authorization request (a loopback redirect), from a browser with a session cookie.
fn authorize_with_session() -> Request<Body> {
    let redirect = "http://127.0.0.1:8765/callback";
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", "demo-portal")
        .append_pair("redirect_uri", redirect)
        .append_pair("scope", "openid profile")
        .append_pair("state", "s1")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256")
        .finish();
    Request::get(format!("/oidc/authorize?{query}"))
        .header("cookie", "sandbox06_sso=session-of-this-browser-1234")
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn a_session_the_store_cannot_read_is_an_error_redirect_not_a_login_page() {
    let store = Arc::new(FailingStore::new());
    let p = provider(store.clone());
    store.fail("get");
    let response = call(&p, authorize_with_session()).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let params = location_params(&response);
    assert_eq!(params["error"], "temporarily_unavailable", "{params:?}");
    assert_eq!(params["state"], "s1");
    assert_eq!(params["iss"], ISSUER);
    // Healed, the same request shows the login page: no session was there.
    store.heal();
    let response = call(&p, authorize_with_session()).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_session_record_that_does_not_parse_is_a_server_error() {
    let store = Arc::new(FailingStore::new());
    let p = provider(store.clone());
    let key = key::<BrowserSession>("session-of-this-browser-1234");
    store.put(&key, b"{not json", None).await.unwrap();
    let response = call(&p, authorize_with_session()).await;
    let params = location_params(&response);
    assert_eq!(params["error"], "server_error", "{params:?}");
    assert!(!params["error_description"].contains("line"), "{params:?}");
}

#[tokio::test]
async fn a_login_form_the_store_cannot_check_is_a_503_page_not_an_expired_one() {
    let store = Arc::new(FailingStore::new());
    let p = provider(store.clone());
    store.fail("get");
    let response = call(
        &p,
        Request::post("/oidc/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", "sandbox06_sso_browser=browser-of-this-user-1234")
            .body(Body::from("request=abc&citizen_id=001095012345&secret=x"))
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let page = body_text(response).await;
    assert!(page.contains("temporarily_unavailable"), "{page}");
    assert!(!page.contains("expired"), "{page}");
}

#[tokio::test]
async fn a_refresh_while_the_store_fails_is_temporarily_unavailable_not_invalid_grant() {
    let store = Arc::new(FailingStore::new());
    let p = provider(store.clone());
    store.fail("get");
    store.fail("put_if_absent");
    let response = call(
        &p,
        Request::post("/oidc/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(
                "grant_type=refresh_token&client_id=demo-portal&refresh_token=abc",
            ))
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
}

#[tokio::test]
async fn introspection_over_grpc_while_the_store_fails_is_unavailable_naming_the_store() {
    let store = Arc::new(FailingStore::new());
    let p = provider(store.clone());
    store.fail("get");
    let status = SsoApi::new(p)
        .introspect_token(tonic::Request::new(pb::IntrospectTokenRequest {
            token: "an-opaque-refresh-token".to_owned(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    let info = status.get_details_error_info().unwrap();
    assert_eq!(info.reason, "UPSTREAM_UNAVAILABLE");
    assert_eq!(info.metadata["backend"], "store");
    assert!(
        status.message().starts_with("temporarily_unavailable"),
        "{status:?}"
    );
}
