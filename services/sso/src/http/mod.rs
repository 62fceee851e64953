//! The provider over HTTP, at the edge of the logic: routes, reading requests
//! (`forms.rs`) and rendering the flows' outcomes and errors (`render.rs`). OAuth errors are
//! RFC 6749 JSON; pages carry security headers; nothing with a secret is cached. The endpoints
//! clients call take any origin, without cookies, through the suite's CORS layer.

mod forms;
mod render;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::routing::get;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use sandbox06_proto::vneid::PersonaAccount;
use sandbox06_runtime::cors::{CorsLayer, CorsPolicy};

use crate::oauth::discovery::Discovery;
use crate::oauth::errors::OAuthError;
use crate::oauth::outcome::AuthorizeOutcome;
use crate::oauth::tokens::TokenResponse;
use crate::provider::Provider;
use forms::{Params, bearer, cookie, credentials, form_params, is_form, params};
use render::{
    BROWSER_COOKIE, SESSION_COOKIE, authorize_outcome, authorize_step, cookie_header,
    json_response, logout_outcome, oauth_error, oauth_error_page,
};

pub use crate::oauth::authorize::AUTO_APPROVE_PARAM;

/// The methods a page may call the client endpoints with.
const CORS_METHODS: &str = "GET, POST, OPTIONS";
/// The headers a page may send them.
const CORS_HEADERS: &str = "authorization, content-type";

/// Paths, under the issuer.
pub mod paths {
    /// Discovery.
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    /// RFC 8414 metadata (the same document).
    pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
    /// Authorization.
    pub const AUTHORIZE: &str = "/oidc/authorize";
    /// The login form's target.
    pub const LOGIN: &str = "/oidc/login";
    /// The consent form's target.
    pub const CONSENT: &str = "/oidc/consent";
    /// Token.
    pub const TOKEN: &str = "/oidc/token";
    /// Userinfo.
    pub const USERINFO: &str = "/oidc/userinfo";
    /// JWKS.
    pub const JWKS: &str = "/oidc/jwks";
    /// Introspection.
    pub const INTROSPECT: &str = "/oidc/introspect";
    /// Revocation.
    pub const REVOKE: &str = "/oidc/revoke";
    /// RP-initiated logout.
    pub const LOGOUT: &str = "/oidc/logout";

    /// The prefix of the public-service SSO's endpoints (a WSO2-style server), served as
    /// aliases so that an integrator moving to production changes only the host.
    pub const OAUTH2_PREFIX: &str = "/oauth2";
    /// Authorization, as the public-service SSO names it.
    pub const OAUTH2_AUTHORIZE: &str = "/oauth2/authorize";
    /// Token, as the public-service SSO names it.
    pub const OAUTH2_TOKEN: &str = "/oauth2/token";
    /// Userinfo, as the public-service SSO names it.
    pub const OAUTH2_USERINFO: &str = "/oauth2/userinfo";
    /// JWKS, as the public-service SSO names it.
    pub const OAUTH2_JWKS: &str = "/oauth2/jwks";
    /// Introspection, as the public-service SSO names it.
    pub const OAUTH2_INTROSPECT: &str = "/oauth2/introspect";
    /// Revocation, as the public-service SSO names it.
    pub const OAUTH2_REVOKE: &str = "/oauth2/revoke";
    /// The login form's target when the page came from [`OAUTH2_AUTHORIZE`].
    pub const OAUTH2_LOGIN: &str = "/oauth2/login";
    /// The consent form's target when the page came from [`OAUTH2_AUTHORIZE`].
    pub const OAUTH2_CONSENT: &str = "/oauth2/consent";
}

type Shared = Arc<Provider>;

/// The provider's HTTP routes: the browser's pages, and the endpoints clients call (which a
/// single-page application may call from any origin, without cookies).
pub fn router(provider: Shared) -> Router {
    let mut api = Router::new()
        .route(paths::DISCOVERY, get(discovery))
        .route(paths::OAUTH_METADATA, get(discovery));
    let mut pages = Router::new().route(paths::LOGOUT, get(logout).post(logout));
    // The endpoints under /oidc, and again under the public-service SSO's names.
    for [
        authorize_path,
        login_path,
        consent_path,
        token_path,
        userinfo_path,
        jwks_path,
        introspect_path,
        revoke_path,
    ] in [
        [
            paths::AUTHORIZE,
            paths::LOGIN,
            paths::CONSENT,
            paths::TOKEN,
            paths::USERINFO,
            paths::JWKS,
            paths::INTROSPECT,
            paths::REVOKE,
        ],
        [
            paths::OAUTH2_AUTHORIZE,
            paths::OAUTH2_LOGIN,
            paths::OAUTH2_CONSENT,
            paths::OAUTH2_TOKEN,
            paths::OAUTH2_USERINFO,
            paths::OAUTH2_JWKS,
            paths::OAUTH2_INTROSPECT,
            paths::OAUTH2_REVOKE,
        ],
    ] {
        api = api
            .route(jwks_path, get(jwks))
            .route(token_path, axum::routing::post(token))
            .route(userinfo_path, get(userinfo).post(userinfo))
            .route(introspect_path, axum::routing::post(introspect))
            .route(revoke_path, axum::routing::post(revoke));
        pages = pages
            .route(authorize_path, get(authorize).post(authorize))
            .route(login_path, axum::routing::post(login))
            .route(consent_path, axum::routing::post(consent));
    }
    pages
        .merge(api.layer(CorsLayer::new(Some(
            CorsPolicy::any_origin_without_credentials(CORS_METHODS, CORS_HEADERS),
        ))))
        .with_state(provider)
}

// ---------------------------------------------------------------------------------------------
// Discovery and keys

async fn discovery(State(p): State<Shared>) -> Response<Body> {
    let mut response = json_response(StatusCode::OK, &Discovery::of(&p));
    response.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

async fn jwks(State(p): State<Shared>) -> Response<Body> {
    match p.keys.fresh().await {
        Ok(keys) => {
            let mut response = json_response(StatusCode::OK, &keys.jwks());
            response.headers_mut().insert(
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=60"),
            );
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/jwk-set+json"),
            );
            response
        }
        Err(error) => oauth_error(&OAuthError::from(error)),
    }
}

// ---------------------------------------------------------------------------------------------
// The browser's pages

/// The personas a login page offers: asked of VNeID only for a login page.
async fn picker(p: &Provider, outcome: &AuthorizeOutcome) -> Arc<[PersonaAccount]> {
    match outcome {
        AuthorizeOutcome::AuthenticationRequired { .. } => p.identity.personas().await,
        _ => Arc::from([]),
    }
}

async fn authorize(State(p): State<Shared>, request: Request<Body>) -> Response<Body> {
    let (parts, params) = match params(request).await {
        Ok(parsed) => parsed,
        Err(error) => return oauth_error_page(error),
    };
    // The browser cookie as sent: the provider checks that it made it, and makes a new one
    // when it did not (`new_browser`).
    let browser = cookie(&parts, BROWSER_COOKIE);
    let session = cookie(&parts, SESSION_COOKIE);
    let (outcome, new_browser) = p
        .authorize(&params, session.as_deref(), browser.as_deref())
        .await;
    let picker = picker(&p, &outcome).await;
    let mut response = authorize_outcome(&p, outcome, &picker);
    if let Some(browser) = new_browser
        && let Some(value) = cookie_header(&p, BROWSER_COOKIE, &browser, p.lifetimes.session)
    {
        response
            .headers_mut()
            .append(http::header::SET_COOKIE, value);
    }
    response
}

async fn login(State(p): State<Shared>, request: Request<Body>) -> Response<Body> {
    let (parts, params) = match form_params(request).await {
        Ok(parsed) => parsed,
        Err(error) => return oauth_error_page(error),
    };
    let browser = cookie(&parts, BROWSER_COOKIE);
    let step = p.login_form(&params, browser.as_deref()).await;
    let picker = picker(&p, &step.outcome).await;
    authorize_step(&p, step, &picker)
}

async fn consent(State(p): State<Shared>, request: Request<Body>) -> Response<Body> {
    let (parts, params) = match form_params(request).await {
        Ok(parsed) => parsed,
        Err(error) => return oauth_error_page(error),
    };
    let browser = cookie(&parts, BROWSER_COOKIE);
    let outcome = p.consent_form(&params, browser.as_deref()).await;
    let picker = picker(&p, &outcome).await;
    authorize_outcome(&p, outcome, &picker)
}

/// RP-initiated logout: a request, or the answer of its confirmation form.
async fn logout(State(p): State<Shared>, request: Request<Body>) -> Response<Body> {
    let (parts, params) = match params(request).await {
        Ok(parsed) => parsed,
        Err(error) => return oauth_error_page(error),
    };
    let session = cookie(&parts, SESSION_COOKIE);
    if parts.method == Method::POST
        && let Some(id) = params.get("logout_request")
    {
        let browser = cookie(&parts, BROWSER_COOKIE);
        let outcome = p
            .confirmed_logout(
                id,
                params.get("decision").map(String::as_str),
                session.as_deref(),
                browser.as_deref(),
            )
            .await;
        return logout_outcome(&p, outcome, None);
    }
    let browser = cookie(&parts, BROWSER_COOKIE);
    let (outcome, new_browser) = p
        .logout(&params, session.as_deref(), browser.as_deref())
        .await;
    logout_outcome(&p, outcome, new_browser.as_deref())
}

// ---------------------------------------------------------------------------------------------
// Token, introspection, revocation, userinfo

async fn token(State(p): State<Shared>, request: Request<Body>) -> Response<Body> {
    match token_response(&p, request).await {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(error) => {
            tracing::info!(error = error.code(), description = %error.description(), "token request refused");
            oauth_error(&error)
        }
    }
}

async fn token_response(p: &Provider, request: Request<Body>) -> Result<TokenResponse, OAuthError> {
    let (parts, params) = form_params(request).await?;
    let client = p
        .authenticate_client(&credentials(&parts, &params)?)
        .await?;
    p.token(client, &params).await
}

/// The token a form names, after the client that sent it authenticated.
async fn authenticated_token(
    p: &Provider,
    request: Request<Body>,
) -> Result<(&crate::clients::Client, String), OAuthError> {
    let (parts, params): (_, Params) = params(request).await?;
    let client = p
        .authenticate_client(&credentials(&parts, &params)?)
        .await?;
    let token = params
        .get("token")
        .cloned()
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    Ok((client, token))
}

async fn introspect(State(p): State<Shared>, request: Request<Body>) -> Response<Body> {
    let result = async {
        let (client, token) = authenticated_token(&p, request).await?;
        p.introspect_for(client, &token).await
    }
    .await;
    match result {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(error) => oauth_error(&error),
    }
}

async fn revoke(State(p): State<Shared>, request: Request<Body>) -> Response<Body> {
    let result = async {
        let (client, token) = authenticated_token(&p, request).await?;
        p.revoke(client, &token).await
    }
    .await;
    match result {
        Ok(()) => {
            let mut response = Response::new(Body::empty());
            response
                .headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => oauth_error(&error),
    }
}

async fn userinfo(State(p): State<Shared>, request: Request<Body>) -> Response<Body> {
    let header = bearer(request.headers());
    // A POST may carry the token in a form (RFC 6750 §2.2), or nothing but the header.
    let form_token = if request.method() == Method::POST && is_form(request.headers()) {
        match params(request).await {
            Ok((_, params)) => params.get("access_token").cloned(),
            Err(error) => return oauth_error(&error),
        }
    } else {
        None
    };
    let Some(token) = header.or(form_token) else {
        // No token at all: the challenge alone (RFC 6750 §3.1).
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"sandbox06\""),
        );
        return response;
    };
    match p.userinfo(&token).await {
        Ok(claims) => json_response(StatusCode::OK, &claims),
        Err(error) => oauth_error(&error),
    }
}
