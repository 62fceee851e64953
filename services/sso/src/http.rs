//! The provider over HTTP: discovery, JWKS, the authorization endpoint with its login and
//! consent pages, token, userinfo, introspection, revocation and logout. OAuth errors are
//! RFC 6749 JSON; pages carry security headers; nothing with a secret is cached.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::routing::get;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE, WWW_AUTHENTICATE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use sandbox06_jose::random_token;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::claims::{ACR_VALUES, CLAIMS_SUPPORTED, Person, acr_of, level_of_acr};
use crate::clients::{
    AUTH_METHODS, AUTHORIZATION_CODE, CLIENT_CREDENTIALS, Client, OIDC_SCOPES, REFRESH_TOKEN,
};
use crate::identity::{LoginError, Proof};
use crate::pages::{self, PersonaChoice};
use crate::provider::{
    Checked, CodeRecord, Credentials, Grant, OAuthError, Provider, now, parse_basic, required_level,
};

/// The session cookie.
const SESSION_COOKIE: &str = "sandbox06_sso";
/// The cookie that ties a login page to the browser it was shown in.
const BROWSER_COOKIE: &str = "sandbox06_sso_browser";
/// Largest form or query the endpoints read.
const MAX_FORM_BYTES: usize = 64 * 1024;
/// The sandbox parameter that asks the authorization endpoint to answer at once for
/// `login_hint`, for any client that may use the code flow.
pub const AUTO_APPROVE_PARAM: &str = "sandbox06_auto_approve";

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
        .merge(api.layer(axum::middleware::from_fn(cors)))
        .with_state(provider)
}

/// CORS for the endpoints clients call: any origin, no credentials (tokens travel in headers
/// and forms, never in cookies), preflights answered here.
async fn cors(request: Request<Body>, next: axum::middleware::Next) -> Response<Body> {
    use http::header::{
        ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
        ACCESS_CONTROL_MAX_AGE, ORIGIN,
    };
    let from_page = request.headers().contains_key(ORIGIN);
    let mut response = if request.method() == Method::OPTIONS && from_page {
        let mut preflight = Response::new(Body::empty());
        *preflight.status_mut() = StatusCode::NO_CONTENT;
        let headers = preflight.headers_mut();
        headers.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        headers.insert(
            ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type"),
        );
        headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        preflight
    } else {
        next.run(request).await
    };
    if from_page {
        response
            .headers_mut()
            .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    response
}

// ---------------------------------------------------------------------------------------------
// Responses

fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("pragma", HeaderValue::from_static("no-cache"));
    response
}

fn oauth_error(error: &OAuthError) -> Response<Body> {
    let mut response = json_response(error.http_status(), &error.body());
    if let Some(challenge) = error.www_authenticate()
        && let Ok(value) = HeaderValue::from_str(&challenge)
    {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    if let Some(seconds) = error.retry_after() {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    }
    response
}

/// Security headers of every page.
fn html(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("pragma", HeaderValue::from_static("no-cache"));
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

fn redirect(location: &str) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::FOUND;
    match HeaderValue::from_str(location) {
        Ok(value) => {
            response.headers_mut().insert(LOCATION, value);
        }
        Err(_) => {
            return error_page(
                "invalid_request",
                "Địa chỉ chuyển hướng không hợp lệ.",
                "the redirect URI cannot be a header",
            );
        }
    }
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
        .headers_mut()
        .insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

/// `uri` with `params` added to its query.
fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        query.append_pair(name, value);
    }
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{}", query.finish())
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// Parameters of a form or query; a parameter given twice is refused (RFC 6749 §3.1).
fn parse_params(text: &str) -> Result<HashMap<String, String>, OAuthError> {
    let mut params = HashMap::new();
    for (name, value) in form_urlencoded::parse(text.as_bytes()) {
        if value.is_empty() {
            continue;
        }
        if params
            .insert(name.to_string(), value.into_owned())
            .is_some()
        {
            return Err(OAuthError::invalid_request(format!(
                "parameter {name} is given more than once"
            )));
        }
    }
    Ok(params)
}

/// The parameters of a request: its query, and for a POST its form body.
async fn params(
    request: Request<Body>,
) -> Result<(http::request::Parts, HashMap<String, String>), OAuthError> {
    let (parts, body) = request.into_parts();
    let mut params = parse_params(parts.uri.query().unwrap_or_default())?;
    if parts.method == Method::POST {
        let content_type = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            return Err(OAuthError::invalid_request(
                "the body must be application/x-www-form-urlencoded",
            ));
        }
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| OAuthError::invalid_request("the form is too large or unreadable"))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| OAuthError::invalid_request("the form is not UTF-8"))?;
        for (name, value) in parse_params(text)? {
            if params.insert(name.clone(), value).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {name} is given more than once"
                )));
            }
        }
    }
    Ok((parts, params))
}

/// The form of a POST to an endpoint that takes credentials, codes or tokens: from the body
/// only, never the URL (RFC 6749 §2.3.1, §3.2), so they do not end up in logs and histories.
async fn form_params(
    request: Request<Body>,
) -> Result<(http::request::Parts, HashMap<String, String>), OAuthError> {
    if request.uri().query().is_some_and(|q| !q.is_empty()) {
        return Err(OAuthError::invalid_request(
            "parameters go in the form body, not in the URL",
        ));
    }
    params(request).await
}

/// [`params`] for a page: a malformed request is shown as an error page.
async fn page_params(
    request: Request<Body>,
) -> Result<(http::request::Parts, HashMap<String, String>), Response<Body>> {
    params(request)
        .await
        .map_err(|error| oauth_error_page(&error))
}

/// An error shown to the user (400), in Vietnamese and English.
fn error_page(error: &str, vi: &str, description: &str) -> Response<Body> {
    // Cut as every error description is: it may quote the request.
    let description = crate::provider::description_text(description);
    html(
        StatusCode::BAD_REQUEST,
        pages::error(error, vi, &description),
    )
}

/// An OAuth error shown to the user: its description, under a Vietnamese sentence for its
/// kind.
fn oauth_error_page(error: &OAuthError) -> Response<Body> {
    error_page(
        error.code(),
        pages::error_vi(error.code()),
        &error.description(),
    )
}

fn credentials(
    parts: &http::request::Parts,
    params: &HashMap<String, String>,
) -> Result<Credentials, OAuthError> {
    let basic = match parts.headers.get(http::header::AUTHORIZATION) {
        Some(value) => {
            let text = value
                .to_str()
                .map_err(|_| OAuthError::invalid_client("malformed Authorization header"))?;
            Some(parse_basic(text)?)
        }
        None => None,
    };
    Ok(Credentials {
        basic,
        client_id: params.get("client_id").cloned(),
        client_secret: params.get("client_secret").cloned(),
        assertion_type: params.get("client_assertion_type").cloned(),
        assertion: params.get("client_assertion").cloned(),
        address: caller_address(parts),
    })
}

/// The caller's address: the last hop of `x-forwarded-for` (the edge appends the address it
/// saw there), else the connection's peer.
fn caller_address(parts: &http::request::Parts) -> Option<String> {
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|hop| !hop.is_empty())
        .and_then(|hop| hop.parse::<std::net::IpAddr>().ok());
    forwarded
        .or_else(|| {
            parts
                .extensions
                .get::<tonic::transport::server::TcpConnectInfo>()
                .and_then(tonic::transport::server::TcpConnectInfo::remote_addr)
                .map(|addr| addr.ip())
        })
        .map(|ip| ip.to_string())
}

fn cookie(parts: &http::request::Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
}

// ---------------------------------------------------------------------------------------------
// Discovery and keys

async fn discovery(State(p): State<Shared>) -> Response<Body> {
    let mut scopes: Vec<String> = OIDC_SCOPES.iter().map(|s| (*s).to_owned()).collect();
    let mut api: Vec<String> = p
        .clients
        .values()
        .flat_map(|c| c.config.scopes.iter().cloned())
        .filter(|s| !scopes.contains(s))
        .collect();
    api.sort();
    api.dedup();
    scopes.extend(api);
    let body = json!({
        "issuer": p.issuer,
        "authorization_endpoint": p.endpoint(paths::AUTHORIZE),
        "token_endpoint": p.endpoint(paths::TOKEN),
        "userinfo_endpoint": p.endpoint(paths::USERINFO),
        "jwks_uri": p.endpoint(paths::JWKS),
        "introspection_endpoint": p.endpoint(paths::INTROSPECT),
        "revocation_endpoint": p.endpoint(paths::REVOKE),
        "end_session_endpoint": p.endpoint(paths::LOGOUT),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": [AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": CLAIMS_SUPPORTED,
        "acr_values_supported": ACR_VALUES,
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": ["vi", "en"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    });
    let mut response = json_response(StatusCode::OK, &body);
    response.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

async fn jwks(State(p): State<Shared>) -> Response<Body> {
    match p.keys.fresh().await {
        Ok(keys) => {
            let body = serde_json::to_value(keys.jwks()).unwrap_or(Value::Null);
            let mut response = json_response(StatusCode::OK, &body);
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
// Authorization

/// A login as it stands in a session and a pending request.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Authenticated {
    sub: String,
    acr: Option<String>,
    amr: Vec<String>,
    auth_time: i64,
    sid: String,
    person: Person,
}

/// An authorization request waiting for the user.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Pending {
    client_id: String,
    redirect_uri: String,
    redirect_uri_given: bool,
    scopes: Vec<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    login_hint: Option<String>,
    min_level: Option<u8>,
    force_consent: bool,
    login: Option<Authenticated>,
    /// Hash of the browser cookie of the browser that started the request: the login and
    /// consent forms are taken from that browser only (no cross-site login).
    browser: String,
    /// The response is posted to the client (`response_mode=form_post`), not redirected.
    form_post: bool,
}

impl Pending {
    fn error_redirect(&self, issuer: &str, error: &str, description: &str) -> Response<Body> {
        let description = crate::provider::description_text(description);
        let mut params = vec![
            ("error", error),
            ("error_description", description.as_str()),
            ("iss", issuer),
        ];
        if let Some(state) = &self.state {
            params.push(("state", state));
        }
        self.respond(&params)
    }

    /// The authorization response carrying `params`, in the response mode asked for.
    fn respond(&self, params: &[(&str, &str)]) -> Response<Body> {
        if self.form_post {
            form_post(&self.redirect_uri, params)
        } else {
            redirect(&with_query(&self.redirect_uri, params))
        }
    }
}

/// The OAuth 2.0 Form Post response mode: a page that posts `params` to `uri` at once.
fn form_post(uri: &str, params: &[(&str, &str)]) -> Response<Body> {
    let nonce = random_token(16);
    let mut body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>sandbox06</title></head>\
<body><form method=\"post\" action=\"{}\">",
        pages::escape(uri)
    );
    for (name, value) in params {
        body.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            pages::escape(name),
            pages::escape(value)
        ));
    }
    body.push_str(&format!(
        "<noscript><button type=\"submit\">Tiếp tục · Continue</button></noscript></form>\
<script nonce=\"{nonce}\">document.forms[0].submit()</script></body></html>"
    ));
    let mut response = html(StatusCode::OK, body);
    if let Ok(policy) = HeaderValue::from_str(&format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; form-action http: https:; frame-ancestors 'none'; base-uri 'none'"
    )) {
        response
            .headers_mut()
            .insert("content-security-policy", policy);
    }
    response
}

fn pending_key(id: &str) -> String {
    format!("sso:authz:{}", sandbox06_jose::s256(id.as_bytes()))
}

fn session_key(id: &str) -> String {
    format!("sso:session:{}", sandbox06_jose::s256(id.as_bytes()))
}

fn consent_key(client: &str, sub: &str) -> String {
    format!(
        "sso:consent:{client}:{}",
        sandbox06_jose::s256(sub.as_bytes())
    )
}

async fn authorize(State(p): State<Shared>, request: Request<Body>) -> Response<Body> {
    let (parts, params) = match page_params(request).await {
        Ok(parsed) => parsed,
        Err(page) => return page,
    };
    let known = cookie(&parts, BROWSER_COOKIE).filter(|v| v.len() >= 16 && v.len() <= 64);
    let browser = known.clone().unwrap_or_else(|| random_token(24));
    let mut response = authorize_in(&p, &parts, &params, &browser).await;
    if known.is_none()
        && let Some(value) = cookie_header(&p, BROWSER_COOKIE, &browser, "/", p.lifetimes.session)
    {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// Whether the form came from the browser that started `pending`.
fn same_browser(parts: &http::request::Parts, pending: &Pending) -> bool {
    from_browser(parts, &pending.browser)
}

/// Whether the request carries the browser cookie whose hash is `browser`.
fn from_browser(parts: &http::request::Parts, browser: &str) -> bool {
    cookie(parts, BROWSER_COOKIE)
        .is_some_and(|value| sandbox06_jose::s256(value.as_bytes()) == browser)
}

async fn authorize_in(
    p: &Provider,
    parts: &http::request::Parts,
    params: &HashMap<String, String>,
    browser: &str,
) -> Response<Body> {
    // Errors about the client or its redirect URI are shown, never redirected.
    let Some(client_id) = params.get("client_id") else {
        return error_page(
            "invalid_request",
            "Ứng dụng không cho biết mình là ai (thiếu client_id).",
            "client_id is required",
        );
    };
    let Some(client) = p.client(client_id) else {
        return error_page(
            "invalid_client",
            "Ứng dụng này chưa được đăng ký với hệ thống đăng nhập một lần.",
            &format!("unknown client {client_id:?}"),
        );
    };
    let (redirect_uri, given) = match params.get("redirect_uri") {
        Some(uri) if client.accepts_redirect(uri) => (uri.clone(), true),
        Some(uri) => {
            let why = match crate::clients::uri_problem(uri) {
                Some(problem) => format!("redirect_uri {uri:?} {problem}"),
                None => {
                    format!("redirect_uri {uri:?} is not registered for client {client_id:?}")
                }
            };
            return error_page(
                "invalid_request",
                "Địa chỉ chuyển hướng (redirect_uri) không được đăng ký cho ứng dụng này, nên không thể gửi kết quả đăng nhập về đó.",
                &why,
            );
        }
        None if client.config.redirect_uris.len() == 1 => {
            (client.config.redirect_uris[0].clone(), false)
        }
        None => {
            return error_page(
                "invalid_request",
                "Ứng dụng không cho biết địa chỉ chuyển hướng (thiếu redirect_uri).",
                "redirect_uri is required",
            );
        }
    };
    let mut pending = Pending {
        client_id: client_id.clone(),
        redirect_uri,
        redirect_uri_given: given,
        scopes: Vec::new(),
        state: params.get("state").cloned(),
        nonce: params.get("nonce").cloned(),
        code_challenge: None,
        login_hint: params.get("login_hint").cloned(),
        min_level: None,
        force_consent: false,
        login: None,
        browser: sandbox06_jose::s256(browser.as_bytes()),
        form_post: false,
    };
    match check_request(client, params, &mut pending) {
        Ok(()) => {}
        Err((error, description)) => return pending.error_redirect(&p.issuer, error, &description),
    }
    let prompts: Vec<&str> = params
        .get("prompt")
        .map(|p| p.split_whitespace().collect())
        .unwrap_or_default();
    if prompts.contains(&"none") && prompts.len() > 1 {
        return pending.error_redirect(
            &p.issuer,
            "invalid_request",
            "prompt=none cannot be combined with other values",
        );
    }
    pending.force_consent = prompts.contains(&"consent");
    let max_age: Option<i64> = match params.get("max_age").map(|v| v.parse::<i64>()) {
        None => None,
        Some(Ok(age)) if age >= 0 => Some(age),
        Some(_) => {
            return pending.error_redirect(
                &p.issuer,
                "invalid_request",
                "max_age must be a non-negative number of seconds",
            );
        }
    };

    // Headless: a code at once for the hinted citizen, approved in the app.
    let auto = client.config.auto_approve
        || params
            .get(AUTO_APPROVE_PARAM)
            .is_some_and(|v| v == "true" || v == "1");
    if auto && let Some(hint) = pending.login_hint.clone() {
        // No page at all: neither login nor consent.
        return match authenticate(p, &hint, Proof::AppApproval, None).await {
            Ok(login) => finish(p, client, pending, login, true).await,
            Err(error) => login_failure_redirect(p, &pending, &error),
        };
    }

    // An existing session, unless the client wants a new login.
    let session = match cookie(parts, SESSION_COOKIE) {
        Some(id) => read_session(p, &id).await,
        None => None,
    };
    let session = session.filter(|s| {
        !prompts.contains(&"login")
            && max_age.is_none_or(|age| now() - s.auth_time <= age)
            && pending
                .login_hint
                .as_ref()
                .is_none_or(|hint| *hint == s.sub)
    });
    match session {
        Some(login) => {
            if prompts.contains(&"none") {
                // No page may be shown: consent must already be there.
                if pending.force_consent || !consented(p, client, &login, &pending.scopes).await {
                    return pending.error_redirect(
                        &p.issuer,
                        "consent_required",
                        "the user has not consented to these scopes",
                    );
                }
            }
            finish(p, client, pending, login, prompts.contains(&"none")).await
        }
        None if prompts.contains(&"none") => pending.error_redirect(
            &p.issuer,
            "login_required",
            "the user is not logged in and prompt=none forbids asking",
        ),
        None => {
            let id = random_token(24);
            if let Err(error) = save_pending(p, &id, &pending).await {
                return pending.error_redirect(&p.issuer, error.code(), &error.description());
            }
            login_page(client, &id, pending.login_hint.as_deref(), None)
        }
    }
}

/// Checks what can be redirected back to the client as an error.
fn check_request(
    client: &Client,
    params: &HashMap<String, String>,
    pending: &mut Pending,
) -> Result<(), (&'static str, String)> {
    match params.get("response_type").map(String::as_str) {
        Some("code") => {}
        Some(other) => {
            return Err((
                "unsupported_response_type",
                format!("response_type {other:?} is not supported; use code"),
            ));
        }
        None => return Err(("invalid_request", "response_type is required".to_owned())),
    }
    match params.get("response_mode").map(String::as_str) {
        None | Some("query") => {}
        Some("form_post") => pending.form_post = true,
        Some(mode) => {
            return Err((
                "invalid_request",
                format!("response_mode {mode} is not supported; use query or form_post"),
            ));
        }
    }
    if !client.allows_grant(AUTHORIZATION_CODE) {
        return Err((
            "unauthorized_client",
            format!("client {:?} may not use the code flow", client.id()),
        ));
    }
    let scopes: Vec<String> = params
        .get("scope")
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    if scopes.is_empty() {
        return Err(("invalid_scope", "scope is required".to_owned()));
    }
    if let Some(denied) = scopes.iter().find(|s| !client.allows_scope(s)) {
        return Err((
            "invalid_scope",
            format!("client {:?} may not ask for scope {denied:?}", client.id()),
        ));
    }
    pending.scopes = scopes;
    match (
        params.get("code_challenge"),
        params.get("code_challenge_method").map(String::as_str),
    ) {
        (Some(challenge), Some("S256")) => {
            if !crate::provider::valid_s256_challenge(challenge) {
                return Err((
                    "invalid_request",
                    "code_challenge must be a base64url SHA-256: 43 characters of [A-Za-z0-9-_]"
                        .to_owned(),
                ));
            }
            pending.code_challenge = Some(challenge.clone());
        }
        (Some(_), Some(other)) => {
            return Err((
                "invalid_request",
                format!("code_challenge_method {other:?} is not supported; use S256"),
            ));
        }
        (Some(_), None) => {
            return Err((
                "invalid_request",
                "code_challenge_method is required and must be S256 (plain is not accepted)"
                    .to_owned(),
            ));
        }
        (None, _) if client.config.public => {
            return Err((
                "invalid_request",
                "a public client must send a PKCE code_challenge (S256)".to_owned(),
            ));
        }
        (None, _) => {}
    }
    // Values the provider does not issue ask for nothing it can check (OIDC Core §3.1.2.1:
    // acr_values is a preference); the lowest known level is required.
    pending.min_level = params.get("acr_values").and_then(|v| required_level(v));
    Ok(())
}

async fn save_pending(p: &Provider, id: &str, pending: &Pending) -> Result<(), OAuthError> {
    let bytes = serde_json::to_vec(pending).map_err(OAuthError::internal(
        "an authorization request cannot be stored",
    ))?;
    p.store
        .put(&pending_key(id), &bytes, Some(p.lifetimes.pending))
        .await?;
    Ok(())
}

async fn load_pending(p: &Provider, id: &str) -> Option<Pending> {
    let bytes = p.store.get(&pending_key(id)).await.ok().flatten()?;
    serde_json::from_slice(&bytes).ok()
}

async fn read_session(p: &Provider, id: &str) -> Option<Authenticated> {
    let bytes = p.store.get(&session_key(id)).await.ok().flatten()?;
    serde_json::from_slice(&bytes).ok()
}

fn personas() -> Vec<PersonaChoice> {
    use sandbox06_world::person::Vneid;
    sandbox06_world::personas::PERSONAS
        .iter()
        .map(|spec| PersonaChoice {
            id: spec.id,
            key: spec.key,
            name: spec.name,
            note: match spec.vneid {
                Vneid::None => "no VNeID".to_owned(),
                Vneid::Level1 => "LoA1".to_owned(),
                Vneid::Level2 => "LoA2".to_owned(),
            },
        })
        .collect()
}

fn login_page(
    client: &Client,
    request: &str,
    hint: Option<&str>,
    error: Option<(String, String)>,
) -> Response<Body> {
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    html(
        status,
        pages::login(request, client, hint, &personas(), error),
    )
}

async fn authenticate(
    p: &Provider,
    citizen_id: &str,
    proof: Proof,
    sid: Option<String>,
) -> Result<Authenticated, LoginError> {
    let login = p.identity.authenticate(citizen_id, proof).await?;
    let person = p.identity.person(&login.account, true).await?;
    Ok(Authenticated {
        sub: login.account.citizen_id.clone(),
        acr: acr_of(login.account.level).map(str::to_owned),
        amr: login.amr,
        auth_time: now(),
        sid: sid.unwrap_or_else(|| random_token(16)),
        person,
    })
}

fn login_failure_redirect(p: &Provider, pending: &Pending, error: &LoginError) -> Response<Body> {
    let (_, en) = error.message();
    let code = match error {
        LoginError::Unavailable(_) => "temporarily_unavailable",
        LoginError::InvalidCitizenId => "invalid_request",
        _ => "access_denied",
    };
    pending.error_redirect(&p.issuer, code, &en)
}

async fn consented(
    p: &Provider,
    client: &Client,
    login: &Authenticated,
    scopes: &[String],
) -> bool {
    if client.config.auto_approve {
        return true;
    }
    let Ok(Some(bytes)) = p.store.get(&consent_key(client.id(), &login.sub)).await else {
        return false;
    };
    let granted = String::from_utf8_lossy(&bytes);
    let granted: Vec<&str> = granted.split_whitespace().collect();
    scopes.iter().all(|s| granted.contains(&s.as_str()))
}

/// After a login (new or from the session): the level check, consent when needed, the code.
async fn finish(
    p: &Provider,
    client: &Client,
    mut pending: Pending,
    login: Authenticated,
    silent: bool,
) -> Response<Body> {
    if let Some(min) = pending.min_level {
        let level = login.acr.as_deref().and_then(level_of_acr).unwrap_or(0);
        if level < min {
            return pending.error_redirect(
                &p.issuer,
                "unmet_authentication_requirements",
                &format!(
                    "the account is at VNeID level {level}; the client asked for level {min} or more"
                ),
            );
        }
    }
    let needs_consent =
        !silent && (pending.force_consent || !consented(p, client, &login, &pending.scopes).await);
    if needs_consent {
        let id = random_token(24);
        let name = login.person.full_name.clone();
        pending.login = Some(login);
        if let Err(error) = save_pending(p, &id, &pending).await {
            return pending.error_redirect(&p.issuer, error.code(), &error.description());
        }
        return html(
            StatusCode::OK,
            pages::consent(&id, client, &name, &pending.scopes),
        );
    }
    code_redirect(p, &pending, login).await
}

async fn code_redirect(p: &Provider, pending: &Pending, login: Authenticated) -> Response<Body> {
    let record = CodeRecord {
        redirect_uri: pending.redirect_uri.clone(),
        redirect_uri_given: pending.redirect_uri_given,
        code_challenge: pending.code_challenge.clone(),
        grant: Grant {
            client_id: pending.client_id.clone(),
            sub: login.sub,
            scopes: pending.scopes.clone(),
            acr: login.acr,
            amr: login.amr,
            auth_time: Some(login.auth_time),
            sid: Some(login.sid),
            gid: random_token(12),
            nonce: pending.nonce.clone(),
            person: Some(login.person),
        },
    };
    match p.new_code(&record).await {
        Ok(code) => {
            let mut params = vec![("code", code.as_str()), ("iss", p.issuer.as_str())];
            if let Some(state) = &pending.state {
                params.push(("state", state));
            }
            pending.respond(&params)
        }
        Err(error) => pending.error_redirect(&p.issuer, error.code(), &error.description()),
    }
}

/// A cookie of the provider: `Secure` when the issuer is https.
fn cookie_header(
    p: &Provider,
    name: &str,
    value: &str,
    path: &str,
    max_age: Duration,
) -> Option<HeaderValue> {
    let secure = if p.issuer.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        max_age.as_secs()
    ))
    .ok()
}

async fn login(State(p): State<Shared>, request: Request<Body>) -> Response<Body> {
    let (parts, params) = match form_params(request).await {
        Ok(parsed) => parsed,
        Err(error) => return oauth_error_page(&error),
    };
    let Some(request_id) = params.get("request") else {
        return error_page(
            "invalid_request",
            "Biểu mẫu đăng nhập không hợp lệ.",
            "the login form has no request",
        );
    };
    let Some(pending) = load_pending(&p, request_id)
        .await
        .filter(|pending| same_browser(&parts, pending))
    else {
        return error_page(
            "invalid_request",
            "Trang đăng nhập này đã hết hạn, hoặc được mở trong trình duyệt khác; hãy bắt đầu lại từ ứng dụng.",
            "this login page has expired, or was opened in another browser; start again from the application",
        );
    };
    let Some(client) = p.client(&pending.client_id) else {
        return error_page(
            "invalid_client",
            "Ứng dụng này không còn được đăng ký.",
            "the client is no longer registered",
        );
    };
    let citizen_id = params
        .get("citizen_id")
        .or_else(|| params.get("persona"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let secret = params.get("secret").cloned().unwrap_or_default();
    let proof = match params.get("method").map(String::as_str) {
        Some("otp") => Proof::OneTimeCode(secret),
        Some("app") => Proof::AppApproval,
        _ => Proof::Password(secret),
    };
    let login = match authenticate(&p, &citizen_id, proof, None).await {
        Ok(login) => login,
        Err(error) => {
            return login_page(client, request_id, Some(&citizen_id), Some(error.message()));
        }
    };
    // The login is done: the page cannot be posted again.
    let _ = p.store.delete(&pending_key(request_id)).await;
    let session = serde_json::to_vec(&login).unwrap_or_default();
    let saved = p
        .store
        .put(
            &session_key(&login.sid),
            &session,
            Some(p.lifetimes.session),
        )
        .await;
    let cookie = saved
        .is_ok()
        .then(|| cookie_header(&p, SESSION_COOKIE, &login.sid, "/", p.lifetimes.session))
        .flatten();
    let mut response = finish(&p, client, pending, login, false).await;
    if let Some(cookie) = cookie {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

async fn consent(State(p): State<Shared>, request: Request<Body>) -> Response<Body> {
    let (parts, params) = match form_params(request).await {
        Ok(parsed) => parsed,
        Err(error) => return oauth_error_page(&error),
    };
    let request_id = params.get("request").cloned().unwrap_or_default();
    let Some(pending) = load_pending(&p, &request_id)
        .await
        .filter(|pending| same_browser(&parts, pending))
    else {
        return error_page(
            "invalid_request",
            "Trang xác nhận chia sẻ thông tin này đã hết hạn, hoặc được mở trong trình duyệt khác; hãy bắt đầu lại từ ứng dụng.",
            "this consent page has expired, or was opened in another browser; start again from the application",
        );
    };
    let _ = p.store.delete(&pending_key(&request_id)).await;
    let Some(login) = pending.login.clone() else {
        return error_page(
            "invalid_request",
            "Chưa có ai đăng nhập cho yêu cầu này.",
            "nobody is logged in for this request",
        );
    };
    if params.get("decision").map(String::as_str) != Some("allow") {
        return pending.error_redirect(&p.issuer, "access_denied", "the user declined");
    }
    let _ = p
        .store
        .put(
            &consent_key(&pending.client_id, &login.sub),
            pending.scopes.join(" ").as_bytes(),
            Some(Duration::from_secs(30 * 24 * 3600)),
        )
        .await;
    code_redirect(&p, &pending, login).await
}

// ---------------------------------------------------------------------------------------------
// Token, introspection, revocation

async fn token(State(p): State<Shared>, request: Request<Body>) -> Response<Body> {
    match token_response(&p, request).await {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(error) => {
            tracing::info!(error = error.code(), description = %error.description(), "token request refused");
            oauth_error(&error)
        }
    }
}

async fn token_response(p: &Provider, request: Request<Body>) -> Result<Value, OAuthError> {
    let (parts, params) = form_params(request).await?;
    let creds = credentials(&parts, &params)?;
    let client = p.authenticate_client(&creds).await?;
    let grant_type = params
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    if ![AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS].contains(&grant_type.as_str()) {
        return Err(OAuthError::UnsupportedGrantType(format!(
            "grant_type {grant_type} is not supported"
        )));
    }
    if !client.allows_grant(grant_type) {
        return Err(OAuthError::UnauthorizedClient(format!(
            "client {:?} may not use {grant_type}",
            client.id()
        )));
    }
    let scope = params.get("scope").map(String::as_str);
    let response = match grant_type.as_str() {
        AUTHORIZATION_CODE => {
            let code = params
                .get("code")
                .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
            p.redeem_code(
                client,
                code,
                params.get("redirect_uri").map(String::as_str),
                params.get("code_verifier").map(String::as_str),
            )
            .await?
        }
        REFRESH_TOKEN => {
            let token = params
                .get("refresh_token")
                .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
            p.refresh(client, token, scope).await?
        }
        CLIENT_CREDENTIALS => p.client_credentials(client, scope).await?,
        other => {
            return Err(OAuthError::UnsupportedGrantType(format!(
                "grant_type {other:?} is not supported"
            )));
        }
    };
    serde_json::to_value(response)
        .map_err(OAuthError::internal("a token response cannot be written"))
}

async fn introspect(State(p): State<Shared>, request: Request<Body>) -> Response<Body> {
    let result = async {
        let (parts, params) = params(request).await?;
        let client = p
            .authenticate_client(&credentials(&parts, &params)?)
            .await?;
        if client.config.public {
            return Err(OAuthError::invalid_client(
                "introspection needs a confidential client",
            ));
        }
        let token = params
            .get("token")
            .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
        let mut answer = p.introspect(token).await?;
        // RFC 7662 §2.2: nothing about an inactive token.
        if answer.get("active") == Some(&Value::Bool(false)) {
            answer.remove("inactive_reason");
        }
        Ok(Value::Object(answer))
    }
    .await;
    match result {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(error) => oauth_error(&error),
    }
}

async fn revoke(State(p): State<Shared>, request: Request<Body>) -> Response<Body> {
    let result = async {
        let (parts, params) = params(request).await?;
        let client = p
            .authenticate_client(&credentials(&parts, &params)?)
            .await?;
        let token = params
            .get("token")
            .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
        p.revoke(client, token).await
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

// ---------------------------------------------------------------------------------------------
// Userinfo and logout

async fn userinfo(State(p): State<Shared>, request: Request<Body>) -> Response<Body> {
    let header = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned());
    // A POST may carry the token in a form (RFC 6750 §2.2), or nothing but the header.
    let is_form = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let form_token = if request.method() == Method::POST && is_form {
        match params(request).await {
            Ok((_, params)) => params.get("access_token").cloned(),
            Err(error) => return oauth_error(&error),
        }
    } else {
        None
    };
    let Some(token) = header.or(form_token) else {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"sandbox06\""),
        );
        return response;
    };
    let claims = match p.check_jwt(&token).await {
        Ok(Checked::Active(claims, kind)) if kind == "access_token" => claims,
        Ok(Checked::Active(..)) => {
            return oauth_error(&OAuthError::InvalidToken("not an access token".to_owned()));
        }
        Ok(Checked::Inactive(reason)) => {
            return oauth_error(&OAuthError::InvalidToken(format!(
                "the access token is {reason}"
            )));
        }
        Err(error) => return oauth_error(&error),
    };
    let scopes: Vec<&str> = claims
        .get("scope")
        .and_then(Value::as_str)
        .map(|s| s.split_whitespace().collect())
        .unwrap_or_default();
    if !scopes.contains(&"openid") {
        return oauth_error(&OAuthError::InsufficientScope(
            "the access token lacks openid".to_owned(),
        ));
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let account = match p.identity.account(sub).await {
        Ok(account) => account,
        Err(LoginError::Unavailable(upstream)) => {
            return oauth_error(&OAuthError::unavailable(
                upstream.system(),
                upstream.to_string(),
            ));
        }
        Err(error) => return oauth_error(&OAuthError::InvalidToken(error.message().1)),
    };
    let person = match p
        .identity
        .person(&account, scopes.contains(&"address"))
        .await
    {
        Ok(person) => person,
        Err(LoginError::Unavailable(upstream)) => {
            return oauth_error(&OAuthError::unavailable(
                upstream.system(),
                upstream.to_string(),
            ));
        }
        // The account exists but its record does not answer as one: the suite's fault.
        Err(error) => {
            tracing::warn!(error = %error, "the population database has no record of an account");
            return oauth_error(&OAuthError::server(
                "the citizen's record cannot be read; retry later",
            ));
        }
    };
    let profile = claims
        .get("client_id")
        .and_then(Value::as_str)
        .and_then(|id| p.client(id))
        .map(Client::claims_profile)
        .unwrap_or_default();
    let mut body = person.claims(scopes.iter().copied(), profile, &p.tech_ids);
    body.insert("sub".into(), json!(sub));
    json_response(StatusCode::OK, &Value::Object(body))
}

/// A logout waiting for the user's confirmation.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct PendingLogout {
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    /// Hash of the browser cookie of the browser that was asked.
    browser: String,
}

fn logout_key(id: &str) -> String {
    format!("sso:logout:{}", sandbox06_jose::s256(id.as_bytes()))
}

/// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). The session ends at once only
/// when the request proves it comes from a client of this very session (an `id_token_hint`
/// whose `sid` is the browser's session) or when there is no session; otherwise the user is
/// asked, with a form bound to the browser as the login form is, so that a page of another site
/// cannot log anyone out.
async fn logout(State(p): State<Shared>, request: Request<Body>) -> Response<Body> {
    let (parts, params) = match page_params(request).await {
        Ok(parsed) => parsed,
        Err(page) => return page,
    };
    if parts.method == Method::POST
        && let Some(id) = params.get("logout_request")
    {
        return confirmed_logout(&p, &parts, &params, id).await;
    }
    // The hint's claims, from a token this provider signed (expired ones too).
    let hint = match params.get("id_token_hint") {
        Some(hint) => match p.keys.fresh().await.map(|k| k.jwks().verify(hint)) {
            Ok(Ok(verified)) => Some(verified.claims),
            _ => {
                return error_page(
                    "invalid_request",
                    "Yêu cầu đăng xuất mang một id_token_hint không do hệ thống này cấp.",
                    "id_token_hint is not a token of this provider",
                );
            }
        },
        None => None,
    };
    let hinted_client = hint
        .as_ref()
        .and_then(|claims| claims.get("aud"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let (Some(given), Some(hinted)) = (params.get("client_id"), &hinted_client)
        && given != hinted
    {
        return error_page(
            "invalid_request",
            "client_id không khớp với id_token_hint.",
            "client_id differs from the audience of id_token_hint",
        );
    }
    let client = params.get("client_id").cloned().or(hinted_client);
    let client = client.as_deref().and_then(|id| p.client(id));
    let redirect = params.get("post_logout_redirect_uri").cloned();
    if let Some(uri) = &redirect
        && !client.is_some_and(|c| c.accepts_post_logout_redirect(uri))
    {
        let why = match crate::clients::uri_problem(uri) {
            Some(problem) => format!("post_logout_redirect_uri {uri:?} {problem}"),
            None => "post_logout_redirect_uri is not registered for the client".to_owned(),
        };
        return error_page(
            "invalid_request",
            "Địa chỉ chuyển hướng sau đăng xuất (post_logout_redirect_uri) không được đăng ký cho ứng dụng.",
            &why,
        );
    }
    let state = params.get("state").cloned();
    let session = match cookie(&parts, SESSION_COOKIE) {
        Some(id) => read_session(&p, &id).await,
        None => None,
    };
    let Some(session) = session else {
        // Nobody to log out: nothing a forged request could do.
        return end_session(&p, &parts, redirect.as_deref(), state.as_deref()).await;
    };
    let hint_is_this_session = hint.as_ref().is_some_and(|claims| {
        claims.get("sid").and_then(Value::as_str) == Some(session.sid.as_str())
            && claims.get("sub").and_then(Value::as_str) == Some(session.sub.as_str())
    });
    if hint_is_this_session {
        return end_session(&p, &parts, redirect.as_deref(), state.as_deref()).await;
    }
    // Ask the user, on a form only this browser can post.
    let known = cookie(&parts, BROWSER_COOKIE).filter(|v| v.len() >= 16 && v.len() <= 64);
    let browser = known.clone().unwrap_or_else(|| random_token(24));
    let pending = PendingLogout {
        post_logout_redirect_uri: redirect,
        state,
        browser: sandbox06_jose::s256(browser.as_bytes()),
    };
    let id = random_token(24);
    let saved = match serde_json::to_vec(&pending) {
        Ok(bytes) => p
            .store
            .put(&logout_key(&id), &bytes, Some(p.lifetimes.pending))
            .await
            .map_err(OAuthError::from),
        Err(error) => Err(OAuthError::internal("a logout request cannot be stored")(
            error,
        )),
    };
    if let Err(error) = saved {
        return oauth_error_page(&error);
    }
    let name = client.map(|c| (c.config.name.as_str(), c.config.name_en.as_str()));
    let mut response = html(
        StatusCode::OK,
        pages::logout_confirm(&id, name, &session.person.full_name),
    );
    if known.is_none()
        && let Some(value) = cookie_header(&p, BROWSER_COOKIE, &browser, "/", p.lifetimes.session)
    {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// The answer of the logout confirmation form.
async fn confirmed_logout(
    p: &Provider,
    parts: &http::request::Parts,
    params: &HashMap<String, String>,
    id: &str,
) -> Response<Body> {
    let pending = match p.store.get(&logout_key(id)).await {
        Ok(Some(bytes)) => serde_json::from_slice::<PendingLogout>(&bytes).ok(),
        _ => None,
    }
    .filter(|pending| from_browser(parts, &pending.browser));
    let Some(pending) = pending else {
        return error_page(
            "invalid_request",
            "Trang xác nhận đăng xuất này đã hết hạn, hoặc được mở trong trình duyệt khác; bạn vẫn đăng nhập.",
            "this logout page has expired, or was opened in another browser; you are still logged in",
        );
    };
    let _ = p.store.delete(&logout_key(id)).await;
    if params.get("decision").map(String::as_str) != Some("logout") {
        return html(StatusCode::OK, pages::still_logged_in());
    }
    end_session(
        p,
        parts,
        pending.post_logout_redirect_uri.as_deref(),
        pending.state.as_deref(),
    )
    .await
}

/// Ends the browser's session, then sends it to `redirect` (with `state`) or shows that it is
/// logged out.
async fn end_session(
    p: &Provider,
    parts: &http::request::Parts,
    redirect_uri: Option<&str>,
    state: Option<&str>,
) -> Response<Body> {
    let mut response = match (redirect_uri, state) {
        (Some(uri), Some(state)) => redirect(&with_query(uri, &[("state", state)])),
        (Some(uri), None) => redirect(uri),
        (None, _) => html(StatusCode::OK, pages::logged_out()),
    };
    if let Some(id) = cookie(parts, SESSION_COOKIE) {
        let _ = p.store.delete(&session_key(&id)).await;
    }
    if let Some(expired) = cookie_header(p, SESSION_COOKIE, "", "/", Duration::ZERO) {
        response.headers_mut().append(SET_COOKIE, expired);
    }
    response
}
