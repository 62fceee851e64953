//! The single sign-on end to end, through the edge port only: a real OpenID Connect relying
//! party library runs the code flow with PKCE, systems get client-credentials tokens, and the
//! edge refuses every call without a valid token carrying the method's scope.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::collections::HashMap;

use figment::{Figment, providers::Serialized};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AccessTokenHash, AuthenticationContextClass, AuthorizationCode, ClientId, CsrfToken, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use sandbox06_jose::{Alg, SigningKey};
use sandbox06_proto::citizen::{self as api, citizen_service_client::CitizenServiceClient};
use sandbox06_proto::sso::{self as pb, sso_service_client::SsoServiceClient};
use sandbox06_runtime::error::reason_of;
use sandbox06_testkit::{
    ADMIN_CLIENT, ADMIN_SECRET, Bearer, Harness, client_token, personas, start, start_with,
    test_config_with,
};
use serde_json::Value;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic_types::StatusExt;

const REDIRECT: &str = "http://127.0.0.1:8765/callback";

fn http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn issuer(h: &Harness) -> String {
    format!("http://{}", h.suite.edge)
}

fn citizens_with(
    h: &Harness,
    token: &str,
) -> CitizenServiceClient<InterceptedService<tonic::transport::Channel, Bearer>> {
    CitizenServiceClient::with_interceptor(h.channel.clone(), Bearer::new(token))
}

fn verify_request(id: &str) -> api::VerifyCitizenRequest {
    api::VerifyCitizenRequest {
        citizen_id: id.to_owned(),
        full_name: "Nguyễn Văn An".to_owned(),
        ..Default::default()
    }
}

/// The query parameters of a redirect's `Location`.
fn location_params(response: &openidconnect::reqwest::Response) -> HashMap<String, String> {
    let location = response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("a redirect, got {}", response.status()))
        .to_str()
        .unwrap();
    let url = openidconnect::url::Url::parse(location).unwrap();
    url.query_pairs().into_owned().collect()
}

async fn json(response: openidconnect::reqwest::Response) -> Value {
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

/// The authorization endpoint's answer to a GET with `query`.
async fn authorize(h: &Harness, query: &[(&str, &str)]) -> openidconnect::reqwest::Response {
    http()
        .get(format!("{}/oidc/authorize", issuer(h)))
        .query(query)
        .send()
        .await
        .unwrap()
}

async fn discover(h: &Harness) -> CoreProviderMetadata {
    CoreProviderMetadata::discover_async(IssuerUrl::new(issuer(h)).unwrap(), &http())
        .await
        .unwrap()
}

async fn token_form(h: &Harness, form: &[(&str, &str)]) -> (u16, Value) {
    let response = http()
        .post(format!("{}/oidc/token", issuer(h)))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, json(response).await)
}

/// A headless code flow for `citizen` by `demo-ci`: (code, verifier).
async fn headless_code(h: &Harness, citizen: &str, extra: &[(&str, &str)]) -> (String, String) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut query = vec![
        ("response_type", "code"),
        ("client_id", "demo-ci"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile citizen.verify"),
        ("state", "s1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("login_hint", citizen),
    ];
    query.extend_from_slice(extra);
    let response = authorize(h, &query).await;
    assert_eq!(response.status().as_u16(), 302);
    let params = location_params(&response);
    assert_eq!(params["state"], "s1");
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("a code, got {params:?}"))
        .clone();
    (code, verifier.secret().clone())
}

async fn redeem(h: &Harness, code: &str, verifier: &str) -> (u16, Value) {
    token_form(
        h,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "demo-ci"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn introspect(h: &Harness, token: &str) -> Value {
    http()
        .post(format!("{}/oidc/introspect", issuer(h)))
        .basic_auth(ADMIN_CLIENT, Some(ADMIN_SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|text| serde_json::from_str::<Value>(&text).unwrap())
        .unwrap()
}

#[tokio::test]
async fn a_relying_party_library_runs_the_code_flow_with_pkce() {
    let h = start().await;
    let metadata = discover(&h).await;
    assert_eq!(metadata.issuer().as_str(), issuer(&h));
    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new("demo-ci".into()), None)
            .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("address".into()))
        .add_scope(Scope::new("phone".into()))
        .add_scope(Scope::new("national_sso".into()))
        .add_scope(Scope::new("citizen.verify".into()))
        .add_extra_param("login_hint", personas::HAPPY_PATH)
        .add_auth_context_value(AuthenticationContextClass::new("LoA2".into()))
        .set_pkce_challenge(challenge)
        .url();
    // The headless client: the authorization endpoint answers at once.
    let response = http().get(url).send().await.unwrap();
    let params = location_params(&response);
    assert_eq!(&params["state"], csrf.secret());
    assert_eq!(params["iss"], issuer(&h));
    let tokens = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await
        .unwrap();
    // The ID token, verified by the library against the JWKS.
    let id_token = tokens.id_token().unwrap();
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).unwrap();
    assert_eq!(claims.subject().as_str(), personas::HAPPY_PATH);
    assert_eq!(claims.auth_context_ref().unwrap().as_str(), "LoA2");
    assert!(claims.birthdate().is_some());
    let hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(Some(&hash), claims.access_token_hash());
    // Userinfo through the library, with the standard and national claims.
    let info: openidconnect::core::CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http())
        .await
        .unwrap();
    assert_eq!(info.subject().as_str(), personas::HAPPY_PATH);
    assert!(info.address().is_some());
    assert!(info.phone_number().unwrap().as_str().starts_with("+84"));
    let raw: Value = http()
        .get(format!("{}/oidc/userinfo", issuer(&h)))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|text| serde_json::from_str::<Value>(&text).unwrap())
        .unwrap();
    assert_eq!(raw["SoDinhDanh"], personas::HAPPY_PATH);
    assert_eq!(raw["NgayThangNamSinh"].as_str().unwrap().len(), 8);
    assert_eq!(raw["LoaiTaiKhoan"], "CongDan");
    // The access token calls the API its scope allows, through the edge.
    let answer = citizens_with(&h, tokens.access_token().secret())
        .verify_citizen(verify_request(personas::HAPPY_PATH))
        .await;
    assert!(answer.is_ok(), "{answer:?}");
}

#[tokio::test]
async fn client_credentials_tokens_carry_only_the_clients_scopes() {
    let h = start().await;
    let hotel = client_token(h.suite.edge, "demo-hotel", "demo-hotel-secret", None).await;
    let mut client = citizens_with(&h, &hotel);
    client
        .verify_citizen(verify_request(personas::HAPPY_PATH))
        .await
        .unwrap();
    // GetCitizen needs citizen.read, which a hotel is not given.
    let refused = client
        .get_citizen(api::GetCitizenRequest {
            citizen_id: personas::HAPPY_PATH.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert_eq!(reason_of(&refused).as_deref(), Some("SCOPE_MISSING"));
    let info = refused.get_error_details().error_info().cloned().unwrap();
    assert_eq!(info.metadata["required_scope"], "citizen.read");
    // Asking for a scope the client may not have is invalid_scope.
    let (status, body) = token_form(
        &h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "demo-hotel"),
            ("client_secret", "demo-hotel-secret"),
            ("scope", "citizen.read"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    // A wrong secret is invalid_client, 401.
    let (status, body) = token_form(
        &h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "demo-hotel"),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    // ES256 for the client registered so.
    let coach = client_token(h.suite.edge, "demo-coach", "demo-coach-secret", None).await;
    assert_eq!(
        sandbox06_jose::decode_unverified(&coach)
            .unwrap()
            .header
            .alg,
        "ES256"
    );
    citizens_with(&h, &coach)
        .verify_citizen(verify_request(personas::HAPPY_PATH))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_edge_refuses_missing_forged_and_expired_tokens() {
    let h = start().await;
    let refusal = |status: tonic::Status| {
        let info = status.get_error_details().error_info().cloned();
        (
            status.code(),
            reason_of(&status).unwrap_or_default(),
            info.and_then(|i| i.metadata.get("problem").cloned())
                .unwrap_or_default(),
        )
    };
    // No token.
    let status = CitizenServiceClient::new(h.channel.clone())
        .verify_citizen(verify_request(personas::HAPPY_PATH))
        .await
        .unwrap_err();
    assert_eq!(
        refusal(status),
        (Code::Unauthenticated, "TOKEN_MISSING".into(), String::new())
    );
    let call = |token: String| {
        let mut client = citizens_with(&h, &token);
        async move {
            refusal(
                client
                    .verify_citizen(verify_request(personas::HAPPY_PATH))
                    .await
                    .unwrap_err(),
            )
        }
    };
    // A tampered signature.
    let mut parts: Vec<String> = h.token.split('.').map(str::to_owned).collect();
    let middle = parts[2].len() / 2;
    let flipped = if &parts[2][middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    parts[2].replace_range(middle..=middle, flipped);
    assert_eq!(
        call(parts.join(".")).await,
        (
            Code::Unauthenticated,
            "TOKEN_INVALID".into(),
            "signature".into()
        )
    );
    // alg none, with the real claims.
    let claims = h.token.split('.').nth(1).unwrap();
    let none = format!(
        "{}.{claims}.",
        sandbox06_jose::base64url(br#"{"alg":"none","typ":"at+jwt"}"#)
    );
    assert_eq!(
        call(none).await,
        (Code::Unauthenticated, "TOKEN_INVALID".into(), "alg".into())
    );
    // Signed by a key the SSO never published (a foreign issuer).
    let stranger = SigningKey::generate(Alg::Es256).unwrap();
    let payload: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims).unwrap(),
    )
    .unwrap();
    let mut foreign = payload.clone();
    foreign["iss"] = "http://elsewhere.example".into();
    assert_eq!(
        call(stranger.sign("at+jwt", &foreign).unwrap()).await,
        (
            Code::Unauthenticated,
            "TOKEN_INVALID".into(),
            "unknown_key".into()
        )
    );
    // Expired, and for another audience: tokens on demand from the admin API.
    let mut sso = SsoServiceClient::new(h.edge.clone());
    let expired = sso
        .issue_token(pb::IssueTokenRequest {
            scope: "citizen.verify".into(),
            lifetime_seconds: -120,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .access_token;
    let (code, reason, _) = call(expired).await;
    assert_eq!(
        (code, reason.as_str()),
        (Code::Unauthenticated, "TOKEN_EXPIRED")
    );
    // The extremes of a lifetime are refused, naming the field.
    for lifetime_seconds in [i64::MIN, i64::MAX, 86_401] {
        let refused = sso
            .issue_token(pb::IssueTokenRequest {
                lifetime_seconds,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{lifetime_seconds}");
        assert!(
            refused.message().contains("lifetime_seconds"),
            "{lifetime_seconds}: {refused:?}"
        );
    }
    let elsewhere = sso
        .issue_token(pb::IssueTokenRequest {
            scope: "citizen.verify".into(),
            audience: vec!["another-api".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .access_token;
    assert_eq!(
        call(elsewhere).await,
        (
            Code::Unauthenticated,
            "TOKEN_INVALID".into(),
            "audience".into()
        )
    );
    // An ID token is not an access token.
    let (code, verifier) = headless_code(&h, personas::HAPPY_PATH, &[]).await;
    let (_, tokens) = redeem(&h, &code, &verifier).await;
    assert_eq!(
        call(tokens["id_token"].as_str().unwrap().to_owned()).await,
        (Code::Unauthenticated, "TOKEN_INVALID".into(), "type".into())
    );
    // Health and reflection stay public.
    let mut health = tonic_health::pb::health_client::HealthClient::new(h.channel.clone());
    health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_family() {
    // A reuse after the grace window (none here) is a real reuse.
    let h = start_with(&test_config_with(Figment::new().merge(
        Serialized::default("sso.refresh_token_reuse_grace_seconds", 0),
    )))
    .await;
    let (code, verifier) = headless_code(&h, personas::HAPPY_PATH, &[]).await;
    let (status, first) = redeem(&h, &code, &verifier).await;
    assert_eq!(status, 200, "{first}");
    let hr = &h;
    let refresh = |token: String| async move {
        token_form(
            hr,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "demo-ci"),
                ("refresh_token", &token),
            ],
        )
        .await
    };
    let first_refresh = first["refresh_token"].as_str().unwrap().to_owned();
    let (status, second) = refresh(first_refresh.clone()).await;
    assert_eq!(status, 200, "{second}");
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first_refresh, second_refresh);
    let access = second["access_token"].as_str().unwrap().to_owned();
    assert_eq!(introspect(&h, &access).await["active"], true);
    // The rotated token again: refused, and every token of the grant revoked.
    let (status, reused) = refresh(first_refresh).await;
    assert_eq!(
        (status, reused["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(introspect(&h, &access).await["active"], false);
    let (status, _) = refresh(second_refresh).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn codes_are_single_use_bound_to_the_verifier_and_the_redirect() {
    let h = start().await;
    // PKCE verifier mismatch.
    let (code, _) = headless_code(&h, personas::HAPPY_PATH, &[]).await;
    let wrong = "x".repeat(43);
    let (status, body) = redeem(&h, &code, &wrong).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Redeemed once, then again: refused, and the tokens from it revoked.
    let (code, verifier) = headless_code(&h, personas::HAPPY_PATH, &[]).await;
    let (status, tokens) = redeem(&h, &code, &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(introspect(&h, access).await["active"], true);
    let (status, body) = redeem(&h, &code, &verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(introspect(&h, access).await["active"], false);
    // A redirect URI not registered: shown, never redirected.
    let response = authorize(
        &h,
        &[
            ("response_type", "code"),
            ("client_id", "demo-ci"),
            ("redirect_uri", "https://attacker.example/cb"),
            ("scope", "openid"),
            ("code_challenge", &"a".repeat(43)),
            ("code_challenge_method", "S256"),
            ("login_hint", personas::HAPPY_PATH),
        ],
    )
    .await;
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.headers().get("location").is_none());
    assert!(response.text().await.unwrap().contains("redirect_uri"));
    // A public client without PKCE: redirected with invalid_request.
    let response = authorize(
        &h,
        &[
            ("response_type", "code"),
            ("client_id", "demo-ci"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("login_hint", personas::HAPPY_PATH),
        ],
    )
    .await;
    assert_eq!(location_params(&response)["error"], "invalid_request");
}

#[tokio::test]
async fn levels_locks_and_rejections_reach_the_client_as_oidc_errors() {
    let h = start().await;
    let error_of = |citizen: &'static str, extra: Vec<(&'static str, &'static str)>| {
        let h = &h;
        async move {
            let mut query = vec![
                ("response_type", "code"),
                ("client_id", "demo-ci"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                (
                    "code_challenge",
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                ),
                ("code_challenge_method", "S256"),
                ("login_hint", citizen),
            ];
            query.extend(extra);
            let response = authorize(h, &query).await;
            location_params(&response)
        }
    };
    // Without a session, prompt=none cannot log anyone in (a hint is no login).
    let response = authorize(
        &h,
        &[
            ("response_type", "code"),
            ("client_id", "demo-portal"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("state", "quiet"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
            ("prompt", "none"),
        ],
    )
    .await;
    let params = location_params(&response);
    assert_eq!(params["error"], "login_required");
    assert_eq!(params["state"], "quiet");
    let params = error_of(personas::VNEID_LEVEL_1, vec![("acr_values", "LoA2")]).await;
    assert_eq!(params["error"], "unmet_authentication_requirements");
    assert!(
        error_of(personas::VNEID_LEVEL_1, vec![("acr_values", "LoA1")])
            .await
            .contains_key("code")
    );
    let locked = sandbox06_world::personas::ids::VNEID_LOCKED;
    assert_eq!(error_of(locked, vec![]).await["error"], "access_denied");
    let rejects = sandbox06_world::personas::ids::VNEID_APP_REJECTS;
    assert_eq!(error_of(rejects, vec![]).await["error"], "access_denied");
    assert_eq!(
        error_of(personas::NO_VNEID, vec![]).await["error"],
        "access_denied"
    );
}

#[tokio::test]
async fn introspection_and_revocation_follow_rfc_7662_and_7009() {
    let h = start().await;
    let token = client_token(h.suite.edge, "demo-notary", "demo-notary-secret", None).await;
    let answer = introspect(&h, &token).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["client_id"], "demo-notary");
    assert_eq!(answer["token_type"], "access_token");
    let response = http()
        .post(format!("{}/oidc/revoke", issuer(&h)))
        .basic_auth("demo-notary", Some("demo-notary-secret"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let answer = introspect(&h, &token).await;
    assert_eq!(answer, serde_json::json!({"active": false}));
    // The gRPC API says why.
    let mut sso = SsoServiceClient::new(h.edge.clone());
    let why = sso
        .introspect_token(pb::IntrospectTokenRequest { token })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (why.active, why.inactive_reason.as_str()),
        (false, "revoked")
    );
    let client = sso
        .get_client(pb::GetClientRequest {
            client_id: "demo-ci".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .client
        .unwrap();
    assert!(client.auto_approve && client.public && client.loopback_redirects);
    assert_eq!(client.claims_profile, "standard");
    let national = sso
        .get_client(pb::GetClientRequest {
            client_id: "demo-national".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .client
        .unwrap();
    assert_eq!(national.claims_profile, "national");
    let missing = sso
        .get_client(pb::GetClientRequest {
            client_id: "nobody".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason_of(&missing).as_deref(), Some("CLIENT_NOT_FOUND"));
}

#[tokio::test]
async fn rotated_keys_keep_valid_tokens_valid() {
    let h = start().await;
    let before = client_token(h.suite.edge, "demo-hospital", "demo-hospital-secret", None).await;
    let old_kid = sandbox06_jose::decode_unverified(&before)
        .unwrap()
        .header
        .kid;
    let mut sso = SsoServiceClient::new(h.edge.clone());
    let keys = sso
        .rotate_signing_keys(pb::RotateSigningKeysRequest {})
        .await
        .unwrap()
        .into_inner()
        .keys;
    assert_eq!(keys.iter().filter(|k| k.active).count(), 2);
    assert_eq!(keys.iter().filter(|k| !k.active).count(), 2);
    let after = client_token(h.suite.edge, "demo-hospital", "demo-hospital-secret", None).await;
    let new_kid = sandbox06_jose::decode_unverified(&after)
        .unwrap()
        .header
        .kid;
    assert_ne!(old_kid, new_kid);
    for token in [&before, &after] {
        citizens_with(&h, token)
            .verify_citizen(verify_request(personas::HAPPY_PATH))
            .await
            .unwrap();
    }
    let jwks: Value = http()
        .get(format!("{}/oidc/jwks", issuer(&h)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|text| serde_json::from_str::<Value>(&text).unwrap())
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_client_authenticates_with_a_signed_assertion() {
    let key = SigningKey::generate(Alg::Es256).unwrap();
    let client = serde_json::json!({
        "client_id": "demo-lgsp",
        "name": "Nền tảng LGSP (thử)",
        "grant_types": ["client_credentials"],
        "scopes": ["citizen.verify"],
        "jwks": {"keys": [key.public_jwk()]},
    });
    let config =
        test_config_with(Figment::new().merge(Serialized::default("sso.clients", vec![client])));
    let h = start_with(&config).await;
    let endpoint = format!("{}/oidc/token", issuer(&h));
    let assertion = |jti: &str| {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        key.sign(
            "JWT",
            &serde_json::json!({"iss": "demo-lgsp", "sub": "demo-lgsp", "aud": endpoint, "jti": jti, "exp": now + 60, "iat": now}),
        )
        .unwrap()
    };
    let form = |assertion: String| {
        vec![
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            (
                "client_assertion_type".to_owned(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ),
            ("client_assertion".to_owned(), assertion),
        ]
    };
    let response = http()
        .post(&endpoint)
        .form(&form(assertion("one")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // The same assertion twice is a replay.
    let response = http()
        .post(&endpoint)
        .form(&form(assertion("one")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    // Signed by another key.
    let other = SigningKey::generate(Alg::Es256).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let forged = other
        .sign(
            "JWT",
            &serde_json::json!({"iss": "demo-lgsp", "sub": "demo-lgsp", "aud": endpoint, "jti": "two", "exp": now + 60}),
        )
        .unwrap();
    let response = http()
        .post(&endpoint)
        .form(&form(forged))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

#[tokio::test]
async fn discovery_tells_the_truth_and_errors_are_oauth_json() {
    let h = start().await;
    let doc: Value = http()
        .get(format!("{}/.well-known/openid-configuration", issuer(&h)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|text| serde_json::from_str::<Value>(&text).unwrap())
        .unwrap();
    assert_eq!(doc["issuer"], issuer(&h));
    for endpoint in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "introspection_endpoint",
        "revocation_endpoint",
        "end_session_endpoint",
    ] {
        assert!(
            doc[endpoint].as_str().unwrap().starts_with(&issuer(&h)),
            "{endpoint}"
        );
    }
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        doc["acr_values_supported"],
        serde_json::json!(["LoA1", "LoA2"])
    );
    let (status, body) =
        token_form(&h, &[("grant_type", "password"), ("client_id", "demo-ci")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let response = http()
        .post(format!("{}/oidc/token", issuer(&h)))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert!(response.headers().get("www-authenticate").is_some());
    assert_eq!(response.headers()["cache-control"], "no-store");
    // A single-page application's preflight, from another origin.
    let preflight = http()
        .request(
            openidconnect::reqwest::Method::OPTIONS,
            format!("{}/oidc/token", issuer(&h)),
        )
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status().as_u16(), 204);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    // The login page is never framed, cached or given a referrer.
    let page = authorize(
        &h,
        &[
            ("response_type", "code"),
            ("client_id", "demo-portal"),
            ("redirect_uri", "http://127.0.0.1:8765/cb"),
            ("scope", "openid"),
            ("code_challenge", &"a".repeat(43)),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(page.status().as_u16(), 200);
    for (name, value) in [
        ("cache-control", "no-store"),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
    ] {
        assert_eq!(page.headers()[name], value, "{name}");
    }
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
}

#[tokio::test]
async fn a_service_calls_through_the_edge_with_its_own_token() {
    use sandbox06_runtime::token::{Authenticated, TokenSource};
    let h = start().await;
    let source = std::sync::Arc::new(TokenSource::new(
        format!("{}/oidc/token", issuer(&h)),
        "demo-hotel",
        "demo-hotel-secret",
    ));
    let mut citizens = CitizenServiceClient::new(Authenticated::new(
        h.channel.clone(),
        std::sync::Arc::clone(&source),
    ));
    for _ in 0..3 {
        citizens
            .verify_citizen(verify_request(personas::HAPPY_PATH))
            .await
            .unwrap();
    }
    // One token for every call while it lives.
    assert_eq!(source.fetched(), 1);
    // A client the provider does not know gets no token, and the call says why.
    let stranger = std::sync::Arc::new(TokenSource::new(
        format!("{}/oidc/token", issuer(&h)),
        "svc-nobody",
        "secret",
    ));
    let refused = CitizenServiceClient::new(Authenticated::new(h.channel.clone(), stranger))
        .verify_citizen(verify_request(personas::HAPPY_PATH))
        .await
        .unwrap_err();
    assert!(refused.message().contains("invalid_client"), "{refused:?}");
}

/// The query of a login page for demo-portal.
const LOGIN_PAGE_QUERY: [(&str, &str); 6] = [
    ("response_type", "code"),
    ("client_id", "demo-portal"),
    ("redirect_uri", REDIRECT),
    ("scope", "openid"),
    (
        "code_challenge",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    ),
    ("code_challenge_method", "S256"),
];

/// The login page's picker lists the personas as the VNeID mock knows them (the single sign-on
/// reads no table of its own); with VNeID down the page still opens, without the picker.
#[tokio::test]
async fn the_login_page_offers_the_personas_vneid_lists() {
    let h = start().await;
    let page = authorize(&h, &LOGIN_PAGE_QUERY).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let option = |id: &str, key: &str, name: &str, note: &str| {
        format!("<option value=\"{id}\">{key} · {name} · {id} ({note})</option>")
    };
    for (id, key, name, note) in [
        (
            personas::HAPPY_PATH,
            "happy-path",
            "Nguyễn Văn Hùng",
            "LoA2",
        ),
        (
            personas::VNEID_LEVEL_1,
            "vneid-level-1",
            "Lê Thị Hoa",
            "LoA1",
        ),
        (personas::NO_VNEID, "no-vneid", "Phạm Văn Nam", "no VNeID"),
    ] {
        let wanted = option(id, key, name, note);
        assert!(html.contains(&wanted), "{wanted} in {html}");
    }

    let closed = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let sso = sandbox06_testkit::serve_alone(
        "sso",
        Figment::new()
            .merge(Serialized::default("sso.vneid_url", closed.clone()))
            .merge(Serialized::default("sso.population_url", closed)),
    )
    .await;
    let page = http()
        .get(format!("{}/oidc/authorize", sso.url()))
        .query(&LOGIN_PAGE_QUERY)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"citizen_id\""), "{html}");
    assert!(
        !html.contains(personas::HAPPY_PATH),
        "no picker while VNeID is down: {html}"
    );
}

#[tokio::test]
async fn the_login_form_is_taken_only_from_the_browser_that_opened_it() {
    let h = start().await;
    let page = authorize(&h, &LOGIN_PAGE_QUERY).await;
    let browser = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sandbox06_sso_browser="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    let marker = "name=\"request\" value=\"";
    let start_at = html.find(marker).unwrap() + marker.len();
    let request = &html[start_at..start_at + html[start_at..].find('"').unwrap()];
    let form = [
        ("request", request),
        ("citizen_id", personas::HAPPY_PATH),
        ("method", "password"),
        ("secret", sandbox06_vneid::SANDBOX_PASSWORD),
    ];
    // Posted from elsewhere (a page of another site auto-posting the form): refused.
    let forged = http()
        .post(format!("{}/oidc/login", issuer(&h)))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 400);
    assert!(forged.headers().get("set-cookie").is_none());
    // From the browser that opened it: on to consent.
    let genuine = http()
        .post(format!("{}/oidc/login", issuer(&h)))
        .header("cookie", &browser)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(genuine.status().as_u16(), 200);
    assert!(genuine.text().await.unwrap().contains("id=\"allow\""));
    // Credentials in the URL of the token endpoint are refused.
    let response = http()
        .post(format!(
            "{}/oidc/token?client_id=demo-hotel&client_secret=demo-hotel-secret",
            issuer(&h)
        ))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
}

/// A browser cookie the provider did not make (a value planted in the browser by someone
/// else, well formed as the provider's own) is no browser: the authorization request gives the
/// browser a fresh one, and the login form is taken only with that.
#[tokio::test]
async fn a_planted_browser_cookie_is_replaced_not_accepted() {
    let h = start().await;
    let planted = format!(
        "sandbox06_sso_browser={}.{}",
        "A".repeat(32),
        "B".repeat(43)
    );
    // The login page's authorization request, from a browser with `cookie`.
    let authorize_with = |cookie: &str| {
        http()
            .get(format!("{}/oidc/authorize", issuer(&h)))
            .query(&LOGIN_PAGE_QUERY)
            .header("cookie", cookie)
            .send()
    };
    let page = authorize_with(&planted).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let issued = set_cookie(&page, "sandbox06_sso_browser").expect("a fresh browser cookie");
    assert_ne!(issued, planted);
    let request = hidden(&page.text().await.unwrap(), "request");
    let form = [
        ("request", request.as_str()),
        ("citizen_id", personas::HAPPY_PATH),
        ("method", "password"),
        ("secret", sandbox06_vneid::SANDBOX_PASSWORD),
    ];
    let login = |cookie: String| {
        http()
            .post(format!("{}/oidc/login", issuer(&h)))
            .header("cookie", cookie)
            .form(&form)
            .send()
    };
    // With the planted value: refused, as from a browser that never opened the page.
    let refused = login(planted.clone()).await.unwrap();
    assert_eq!(refused.status().as_u16(), 400);
    assert!(refused.text().await.unwrap().contains("another browser"));
    // With the cookie the provider made: on to consent.
    let genuine = login(issued.clone()).await.unwrap();
    assert_eq!(genuine.status().as_u16(), 200);
    assert!(genuine.text().await.unwrap().contains("id=\"allow\""));
    // A browser cookie the provider made is kept: no new one.
    let again = authorize_with(&issued).await.unwrap();
    assert_eq!(again.status().as_u16(), 200);
    assert_eq!(set_cookie(&again, "sandbox06_sso_browser"), None);
}

#[tokio::test]
async fn a_narrower_refresh_keeps_the_grants_scopes_for_the_next_one() {
    let h = start().await;
    let (code, verifier) = headless_code(&h, personas::HAPPY_PATH, &[]).await;
    let (_, tokens) = redeem(&h, &code, &verifier).await;
    let narrow = token_form(
        &h,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "demo-ci"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("scope", "openid"),
        ],
    )
    .await
    .1;
    assert_eq!(narrow["scope"], "openid");
    let wide = token_form(
        &h,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "demo-ci"),
            ("refresh_token", narrow["refresh_token"].as_str().unwrap()),
        ],
    )
    .await
    .1;
    assert_eq!(wide["scope"], "openid profile citizen.verify");
    // An ID token is not active at introspection: no resource server may take it.
    assert_eq!(
        introspect(&h, wide["id_token"].as_str().unwrap()).await,
        serde_json::json!({"active": false})
    );
}

#[tokio::test]
async fn form_post_answers_with_a_page_that_posts_the_code() {
    let h = start().await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let response = authorize(
        &h,
        &[
            ("response_type", "code"),
            ("response_mode", "form_post"),
            ("client_id", "demo-ci"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("state", "posted"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("login_hint", personas::HAPPY_PATH),
        ],
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'nonce-"), "{csp}");
    let page = response.text().await.unwrap();
    assert!(page.contains(&format!("action=\"{REDIRECT}\"")), "{page}");
    assert!(page.contains("name=\"state\" value=\"posted\""), "{page}");
    let marker = "name=\"code\" value=\"";
    let at = page.find(marker).unwrap() + marker.len();
    let code = &page[at..at + page[at..].find('"').unwrap()];
    let (status, tokens) = redeem(&h, code, verifier.secret()).await;
    assert_eq!(status, 200, "{tokens}");
}

/// The `sandbox06_sso_browser` and `sandbox06_sso` cookies a response sets, as `name=value`.
fn set_cookie(response: &openidconnect::reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// The value of the hidden input `name` of a page.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    page[at..at + page[at..].find('"').unwrap()].to_owned()
}

/// A browser logged in on the login page of `demo-portal`, consent given: its cookies (the
/// browser's and the session's) and the ID token of its login (with the session's `sid`).
async fn browser_session(h: &Harness, citizen: &str) -> (String, String, String) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let query = [
        ("response_type", "code"),
        ("client_id", "demo-portal"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let page = authorize(h, &query).await;
    let browser = set_cookie(&page, "sandbox06_sso_browser").unwrap();
    let request = hidden(&page.text().await.unwrap(), "request");
    let login = http()
        .post(format!("{}/oidc/login", issuer(h)))
        .header("cookie", &browser)
        .form(&[
            ("request", request.as_str()),
            ("citizen_id", citizen),
            ("method", "password"),
            ("secret", sandbox06_vneid::SANDBOX_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let session = set_cookie(&login, "sandbox06_sso").unwrap();
    // Consent once per citizen and client; a later login goes straight back.
    let code = if login.status().as_u16() == 302 {
        location_params(&login)["code"].clone()
    } else {
        let consent = hidden(&login.text().await.unwrap(), "request");
        let allowed = http()
            .post(format!("{}/oidc/consent", issuer(h)))
            .header("cookie", &browser)
            .form(&[("request", consent.as_str()), ("decision", "allow")])
            .send()
            .await
            .unwrap();
        location_params(&allowed)["code"].clone()
    };
    let (status, tokens) = token_form(
        h,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "demo-portal"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.secret()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    (
        browser,
        session,
        tokens["id_token"].as_str().unwrap().to_owned(),
    )
}

/// Whether the browser with `cookies` still has a session: `prompt=none` answers
/// `login_required` without one.
async fn has_session(h: &Harness, cookies: &str) -> bool {
    let response = http()
        .get(format!("{}/oidc/authorize", issuer(h)))
        .header("cookie", cookies)
        .query(&[
            ("response_type", "code"),
            ("client_id", "demo-portal"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
            ("prompt", "none"),
        ])
        .send()
        .await
        .unwrap();
    let params = location_params(&response);
    params.get("error").map(String::as_str) != Some("login_required")
}

/// A logout request (`GET /oidc/logout` with `query`) from the browser with `cookies`.
async fn logout(
    h: &Harness,
    cookies: &str,
    query: &[(&str, &str)],
) -> openidconnect::reqwest::Response {
    http()
        .get(format!("{}/oidc/logout", issuer(h)))
        .header("cookie", cookies)
        .query(query)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn redirect_uris_with_a_userinfo_part_or_an_odd_form_are_refused() {
    let h = start().await;
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    for odd in [
        // The host is 127.0.0.1 only to a reader that skips the userinfo.
        "http://evil.example@127.0.0.1:8765/cb",
        "http://evil.example:x@localhost:8765/cb",
        "http://127.0.0.1:8765/cb#",
        "http://127.0.0.1:08765/cb",
        "http://127.0.0.1:8765/a/../cb",
    ] {
        let response = authorize(
            &h,
            &[
                ("response_type", "code"),
                ("client_id", "demo-ci"),
                ("redirect_uri", odd),
                ("scope", "openid"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
                ("login_hint", personas::HAPPY_PATH),
            ],
        )
        .await;
        assert_eq!(response.status().as_u16(), 400, "{odd}");
        assert!(response.headers().get("location").is_none(), "{odd}");
        assert!(response.text().await.unwrap().contains("redirect_uri"));
    }
    // Nor after logout.
    let response = http()
        .get(format!("{}/oidc/logout", issuer(&h)))
        .query(&[
            ("client_id", "demo-ci"),
            (
                "post_logout_redirect_uri",
                "http://evil.example@127.0.0.1:8765/",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.headers().get("location").is_none());
}

#[tokio::test]
async fn pkce_values_outside_the_unreserved_characters_are_refused() {
    let h = start().await;
    let bang = "!".repeat(43);
    let response = authorize(
        &h,
        &[
            ("response_type", "code"),
            ("client_id", "demo-ci"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("code_challenge", &bang),
            ("code_challenge_method", "S256"),
            ("login_hint", personas::HAPPY_PATH),
        ],
    )
    .await;
    let params = location_params(&response);
    assert_eq!(params["error"], "invalid_request", "{params:?}");
    assert!(!params.contains_key("code"));
    assert!(params["error_description"].contains("code_challenge"));
    // A malformed verifier is refused before the code is touched: the right one still works.
    let (code, verifier) = headless_code(&h, personas::HAPPY_PATH, &[]).await;
    for bad in [bang.as_str(), &"a".repeat(42), &"a".repeat(129)] {
        let (status, body) = redeem(&h, &code, bad).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_request")),
            "{bad}"
        );
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("code_verifier")
        );
    }
    let (status, tokens) = redeem(&h, &code, &verifier).await;
    assert_eq!(status, 200, "{tokens}");
}

#[tokio::test]
async fn logout_without_proof_of_the_session_asks_the_user() {
    let h = start().await;
    let (browser, session, id_token) = browser_session(&h, personas::HAPPY_PATH).await;
    let cookies = format!("{browser}; {session}");
    assert!(has_session(&h, &cookies).await);
    // A GET without id_token_hint (an image on another site): the user is asked, nothing ends.
    let asked = logout(&h, &cookies, &[]).await;
    assert_eq!(asked.status().as_u16(), 200);
    assert!(set_cookie(&asked, "sandbox06_sso").is_none());
    let page = asked.text().await.unwrap();
    assert!(
        page.contains("id=\"logout\"") && page.contains("Đăng xuất"),
        "{page}"
    );
    assert!(page.contains("Log out"), "{page}");
    assert!(
        has_session(&h, &cookies).await,
        "a forged logout ended the session"
    );
    // The same with a hint of another session (the attacker's own ID token).
    let (_, _, other_token) = browser_session(&h, personas::MARRIED_WIFE).await;
    let asked = logout(&h, &cookies, &[("id_token_hint", other_token.as_str())]).await;
    assert!(asked.text().await.unwrap().contains("id=\"logout\""));
    assert!(has_session(&h, &cookies).await);
    // The confirmation form, posted from elsewhere (without the browser cookie): refused.
    let request = hidden(&page, "logout_request");
    let forged = http()
        .post(format!("{}/oidc/logout", issuer(&h)))
        .header("cookie", &session)
        .form(&[("logout_request", request.as_str()), ("decision", "logout")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 400);
    assert!(has_session(&h, &cookies).await);
    // Confirmed in the browser: logged out.
    let confirmed = http()
        .post(format!("{}/oidc/logout", issuer(&h)))
        .header("cookie", &cookies)
        .form(&[("logout_request", request.as_str()), ("decision", "logout")])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status().as_u16(), 200);
    assert!(!has_session(&h, &cookies).await);
    // A hint of this very session ends it at once, and sends the browser back.
    let (browser, session, id_token_2) = browser_session(&h, personas::HAPPY_PATH).await;
    let cookies = format!("{browser}; {session}");
    let response = logout(
        &h,
        &cookies,
        &[
            ("id_token_hint", id_token_2.as_str()),
            ("post_logout_redirect_uri", "http://127.0.0.1:8765/"),
            ("state", "bye"),
        ],
    )
    .await;
    assert_eq!(response.status().as_u16(), 302);
    assert_eq!(location_params(&response)["state"], "bye");
    assert!(!has_session(&h, &cookies).await);
    drop(id_token);
}

#[tokio::test]
async fn the_session_cookie_is_its_own_random_value_and_a_tokens_sid_logs_nobody_in() {
    let h = start().await;
    let (browser, session, id_token) = browser_session(&h, personas::HAPPY_PATH).await;
    let claims = sandbox06_jose::decode_unverified(&id_token).unwrap().claims;
    let sid = claims["sid"].as_str().unwrap();
    let value = session.strip_prefix("sandbox06_sso=").unwrap();
    // A value of its own, found nowhere in the token.
    assert_ne!(value, sid);
    assert!(!id_token.contains(value));
    // The ID token's `sid` as the cookie logs nobody in.
    let forged = format!("{browser}; sandbox06_sso={sid}");
    assert!(
        !has_session(&h, &forged).await,
        "an ID token's sid made a session cookie"
    );
    // The cookie the login set does.
    let cookies = format!("{browser}; {session}");
    assert!(has_session(&h, &cookies).await);
    // A logout with the forged cookie finds no session and ends nothing.
    let response = logout(&h, &forged, &[("id_token_hint", id_token.as_str())]).await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(has_session(&h, &cookies).await);
    // The logout of this very session ends it: the cookie logs nobody in again.
    let response = logout(
        &h,
        &cookies,
        &[
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", "http://127.0.0.1:8765/"),
        ],
    )
    .await;
    assert_eq!(response.status().as_u16(), 302);
    assert!(!has_session(&h, &cookies).await);
}

#[tokio::test]
async fn client_assertions_that_live_long_are_refused() {
    let key = SigningKey::generate(Alg::Es256).unwrap();
    let client = serde_json::json!({
        "client_id": "demo-lgsp",
        "grant_types": ["client_credentials"],
        "scopes": ["citizen.verify"],
        "jwks": {"keys": [key.public_jwk()]},
    });
    let config =
        test_config_with(Figment::new().merge(Serialized::default("sso.clients", vec![client])));
    let h = start_with(&config).await;
    let endpoint = format!("{}/oidc/token", issuer(&h));
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let call = |claims: Value| {
        let assertion = key.sign("JWT", &claims).unwrap();
        let endpoint = endpoint.clone();
        async move {
            let response = http()
                .post(&endpoint)
                .form(&[
                    ("grant_type", "client_credentials"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", assertion.as_str()),
                ])
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, json(response).await)
        }
    };
    let base = |jti: &str| serde_json::json!({"iss": "demo-lgsp", "sub": "demo-lgsp", "aud": endpoint, "jti": jti});
    // A year, with iat.
    let mut year = base("year");
    year["iat"] = now.into();
    year["exp"] = (now + 365 * 24 * 3600).into();
    let (status, body) = call(year).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error_description"].as_str().unwrap().contains("300"),
        "{body}"
    );
    // An hour, without iat.
    let mut hour = base("hour");
    hour["exp"] = (now + 3600).into();
    assert_eq!(call(hour).await.0, 401);
    // Issued in the future.
    let mut future = base("future");
    future["iat"] = (now + 3600).into();
    future["exp"] = (now + 3660).into();
    assert_eq!(call(future).await.0, 401);
    // Five minutes is fine, once.
    let mut short = base("short");
    short["iat"] = now.into();
    short["exp"] = (now + 300).into();
    let (status, body) = call(short.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(call(short).await.0, 401);
}

#[tokio::test]
async fn a_client_racing_itself_on_a_refresh_keeps_a_working_grant() {
    let h = start().await;
    let (code, verifier) = headless_code(&h, personas::HAPPY_PATH, &[]).await;
    let (_, first) = redeem(&h, &code, &verifier).await;
    let refresh = |client: &'static str, token: String| {
        let h = &h;
        async move {
            token_form(
                h,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", client),
                    ("refresh_token", &token),
                ],
            )
            .await
        }
    };
    let token = first["refresh_token"].as_str().unwrap().to_owned();
    // Two tabs refresh with the same token at once.
    let (a, b) = tokio::join!(
        refresh("demo-ci", token.clone()),
        refresh("demo-ci", token.clone())
    );
    let winners: Vec<&Value> = [&a, &b]
        .into_iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body)
        .collect();
    assert!(!winners.is_empty(), "{a:?} {b:?}");
    for winner in &winners {
        assert_eq!(
            introspect(&h, winner["access_token"].as_str().unwrap()).await["active"],
            true
        );
    }
    // Each new refresh token works.
    let mut latest = String::new();
    for winner in winners {
        let (status, next) = refresh(
            "demo-ci",
            winner["refresh_token"].as_str().unwrap().to_owned(),
        )
        .await;
        assert_eq!(status, 200, "{next}");
        latest = next["refresh_token"].as_str().unwrap().to_owned();
    }
    // The used token presented by another client is a real reuse: the grant is revoked.
    let (status, _) = refresh("demo-portal", token).await;
    assert_eq!(status, 400);
    let (status, body) = refresh("demo-ci", latest).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn client_authentication_failures_look_alike_and_are_throttled() {
    let h = start().await;
    let attempt = |client: &str, secret: &str| {
        let h = &h;
        let (client, secret) = (client.to_owned(), secret.to_owned());
        async move {
            let response = http()
                .post(format!("{}/oidc/token", issuer(h)))
                .basic_auth(client, Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, retry_after, json(response).await)
        }
    };
    // An unknown client and a wrong secret: the same answer.
    let unknown = attempt("demo-nobody", "guess").await;
    let wrong = attempt("demo-hotel", "guess").await;
    assert_eq!(unknown, wrong);
    assert_eq!(wrong.0, 401);
    assert_eq!(wrong.2["error"], "invalid_client");
    // A public client asked for a secret it does not have: the same again.
    assert_eq!(attempt("demo-ci", "guess").await, wrong);
    // Ten failures of one client lock it: even the right secret is refused, with a date.
    for _ in 0..9 {
        assert_eq!(attempt("demo-hotel", "guess").await.0, 401);
    }
    let (status, retry_after, body) = attempt("demo-hotel", "demo-hotel-secret").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("invalid_client")),
        "{body}"
    );
    let seconds: u64 = retry_after.unwrap().parse().unwrap();
    assert!((1..=300).contains(&seconds), "{seconds}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with("client authentication is locked until 20"),
        "{description}"
    );
    assert!(
        !description.contains("attempt") && !description.contains("fail"),
        "{description}"
    );
    // Another client from the same address is still served...
    assert_eq!(attempt("demo-notary", "demo-notary-secret").await.0, 200);
    // ...until the address has failed too often, whatever client ids it tries.
    let mut locked = false;
    for n in 0..60 {
        let (status, _, _) = attempt(&format!("guess-{n}"), "guess").await;
        if status == 429 {
            locked = true;
            break;
        }
        assert_eq!(status, 401, "{n}");
    }
    assert!(locked, "the address is never locked");
    assert_eq!(attempt("demo-notary", "demo-notary-secret").await.0, 429);
}

#[tokio::test]
async fn a_national_sso_relying_party_asks_openid_on_the_production_paths() {
    let h = start().await;
    let verifier = "sandbox06-national-test-verifier-0123456789abcdef";
    let challenge = sandbox06_jose::s256(verifier.as_bytes());
    let code_for = |client: &'static str, path: &'static str, scope: &'static str| {
        let (h, challenge) = (&h, challenge.clone());
        async move {
            let response = http()
                .get(format!("{}{path}", issuer(h)))
                .query(&[
                    ("response_type", "code"),
                    ("client_id", client),
                    ("redirect_uri", REDIRECT),
                    ("scope", scope),
                    ("acr_values", "LoA1"),
                    ("state", "n"),
                    ("login_hint", personas::HAPPY_PATH),
                    ("sandbox06_auto_approve", "true"),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                ])
                .send()
                .await
                .unwrap();
            location_params(&response)
                .get("code")
                .unwrap_or_else(|| panic!("a code from {path}"))
                .clone()
        }
    };
    let mut tech_ids = Vec::new();
    for (authorize_path, token_path, userinfo_path) in [
        ("/oauth2/authorize", "/oauth2/token", "/oauth2/userinfo"),
        ("/oidc/authorize", "/oidc/token", "/oidc/userinfo"),
    ] {
        let code = code_for("demo-national", authorize_path, "openid").await;
        let response = http()
            .post(format!("{}{token_path}", issuer(&h)))
            .basic_auth("demo-national", Some("demo-national-secret"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let tokens = json(response).await;
        assert_eq!(status, 200, "{tokens}");
        let claims = sandbox06_jose::decode_unverified(tokens["id_token"].as_str().unwrap())
            .unwrap()
            .claims;
        assert_eq!(claims["SoDinhDanh"], personas::HAPPY_PATH);
        assert_eq!(claims["NgayThangNamSinh"].as_str().unwrap().len(), 8);
        assert_eq!(claims["LoaiTaiKhoan"], "CongDan");
        assert_eq!(claims["loginIdp"], "VNeID");
        assert!(claims["HoVaTen"].as_str().unwrap().contains(' '));
        let tech_id = claims["TechID"].as_str().unwrap().to_owned();
        assert!(!tech_id.contains(personas::HAPPY_PATH), "{tech_id}");
        assert!(claims.get("name").is_none());
        let info: Value = json(
            http()
                .get(format!("{}{userinfo_path}", issuer(&h)))
                .bearer_auth(tokens["access_token"].as_str().unwrap())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(info["SoDinhDanh"], personas::HAPPY_PATH);
        assert_eq!(info["TechID"], tech_id.as_str());
        tech_ids.push(tech_id);
    }
    // Opaque, and stable.
    assert_eq!(tech_ids[0], tech_ids[1]);
    // A standard client asking openid gets sub alone; profile gives the standard claims.
    let code = code_for("demo-ci", "/oauth2/authorize", "openid profile").await;
    let (_, tokens) = redeem(&h, &code, verifier).await;
    let claims = sandbox06_jose::decode_unverified(tokens["id_token"].as_str().unwrap())
        .unwrap()
        .claims;
    assert!(claims.get("SoDinhDanh").is_none(), "{claims:?}");
    assert!(claims.get("name").is_some());
}

#[tokio::test]
async fn the_page_of_an_error_that_cannot_be_redirected_speaks_vietnamese_too() {
    let h = start().await;
    for query in [
        vec![("response_type", "code"), ("client_id", "nobody")],
        vec![
            ("response_type", "code"),
            ("client_id", "demo-ci"),
            ("redirect_uri", "https://attacker.example/cb"),
        ],
    ] {
        let response = authorize(&h, &query).await;
        assert_eq!(response.status().as_u16(), 400);
        let page = response.text().await.unwrap();
        let alert_at = page.find("id=\"error\"").unwrap();
        let alert = &page[alert_at..];
        let alert = &alert[..alert.find("</div>").unwrap()];
        assert!(alert.contains("lang=\"vi\""), "{alert}");
        assert!(
            alert.contains("Ứng dụng") || alert.contains("Địa chỉ"),
            "{alert}"
        );
        assert!(alert.contains("lang=\"en\""), "{alert}");
        assert!(
            page.contains("Hãy quay lại ứng dụng") && page.contains("Go back to the application")
        );
    }
}

/// The words of a transport or a gRPC library, which no answer of the single sign-on carries.
const TRANSPORT_WORDS: &[&str] = &[
    "transport error",
    "h2",
    "hyper",
    "tcp connect",
    "dns error",
    "status:",
    "tonic",
    "Connection refused",
    "os error",
];

fn assert_no_transport_words(what: &str, text: &str) {
    for words in TRANSPORT_WORDS {
        assert!(
            !text
                .to_ascii_lowercase()
                .contains(&words.to_ascii_lowercase()),
            "{what}: {words:?} in {text}"
        );
    }
}

#[tokio::test]
async fn an_identity_system_that_cannot_be_reached_is_named_in_the_suites_words() {
    // A port nothing listens on: every call to it is a transport error.
    let closed = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let population = sandbox06_testkit::serve_alone("population-db", Figment::new()).await;
    let vneid = sandbox06_testkit::serve_alone(
        "vneid",
        Figment::new().merge(Serialized::default(
            "vneid.population_url",
            population.url(),
        )),
    )
    .await;
    // (which system is down, the single sign-on in front of it, what it says)
    let cases = [
        (
            "VNeID",
            closed.clone(),
            population.url(),
            "the VNeID service cannot be reached; retry later",
        ),
        (
            "the population database",
            vneid.url(),
            closed.clone(),
            "the population database cannot be reached; retry later",
        ),
    ];
    for (down, vneid_url, population_url, words) in cases {
        let sso = sandbox06_testkit::serve_alone(
            "sso",
            Figment::new()
                .merge(Serialized::default("sso.vneid_url", vneid_url))
                .merge(Serialized::default("sso.population_url", population_url)),
        )
        .await;
        // userinfo, with a token for a citizen asking for the address (the population's).
        let mut api = SsoServiceClient::connect(sso.url()).await.unwrap();
        let token = api
            .issue_token(pb::IssueTokenRequest {
                subject: personas::HAPPY_PATH.into(),
                scope: "openid profile address".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .access_token;
        let response = http()
            .get(format!("{}/oidc/userinfo", sso.url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 503, "{down}");
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert_no_transport_words(down, &challenge);
        let body = json(response).await;
        assert_eq!(body["error"], "temporarily_unavailable", "{down}: {body}");
        assert_eq!(body["error_description"], words, "{down}: {body}");
        assert_no_transport_words(down, &body.to_string());
        // authorize: a login the client asked for without a page (the app's approval).
        let response = http()
            .get(format!("{}/oidc/authorize", sso.url()))
            .query(&[
                ("response_type", "code"),
                ("client_id", "demo-ci"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", "s1"),
                (
                    "code_challenge",
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                ),
                ("code_challenge_method", "S256"),
                ("login_hint", personas::HAPPY_PATH),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 302, "{down}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let params = location_params(&response);
        assert_eq!(
            params["error"], "temporarily_unavailable",
            "{down}: {location}"
        );
        assert!(
            params["error_description"].contains(words),
            "{down}: {location}"
        );
        assert_eq!(params["state"], "s1");
        assert_no_transport_words(down, &location);
        // token: what needs no identity system still answers.
        let response = http()
            .post(format!("{}/oidc/token", sso.url()))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", ADMIN_CLIENT),
                ("client_secret", ADMIN_SECRET),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{down}");
        // …and one that cannot be answered says why in its own words.
        let response = http()
            .post(format!("{}/oidc/token", sso.url()))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", "demo-portal"),
                ("refresh_token", "not-one"),
            ])
            .send()
            .await
            .unwrap();
        let body = json(response).await;
        assert_eq!(body["error"], "invalid_grant", "{down}: {body}");
        assert_no_transport_words(down, &body.to_string());
        sso.stop().await.unwrap();
    }
    vneid.stop().await.unwrap();
    population.stop().await.unwrap();
}
