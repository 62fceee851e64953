//! Rendering: JSON answers and OAuth errors, pages with their security headers, redirects,
//! form posts and cookies; and the outcomes of the browser's flows as responses.

use std::time::Duration;

use axum::body::Body;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE, WWW_AUTHENTICATE};
use http::{HeaderValue, Response, StatusCode};
use sandbox06_jose::random_token;
use serde::Serialize;

use crate::oauth::errors::{OAuthError, description_text};
use crate::oauth::logout::with_query;
use crate::oauth::outcome::{
    AuthorizationResponse, AuthorizeOutcome, AuthorizeStep, LogoutOutcome, PageError,
};
use crate::pages::{self, PersonaChoice};
use crate::provider::Provider;
use sandbox06_proto::{types::VneidLevel, vneid::PersonaAccount};

/// The session cookie.
pub const SESSION_COOKIE: &str = "sandbox06_sso";
/// The cookie that ties the login, consent and logout pages to the browser they were shown
/// in; only a value the provider made counts ([`crate::oauth::browser`]).
pub const BROWSER_COOKIE: &str = "sandbox06_sso_browser";

/// A JSON answer, never cached.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    let text = match serde_json::to_string(body) {
        Ok(text) => text,
        Err(error) => {
            return oauth_error(&OAuthError::internal("an answer cannot be written")(error));
        }
    };
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("pragma", HeaderValue::from_static("no-cache"));
    response
}

/// An OAuth error as JSON, with its status, challenge and `Retry-After`.
pub fn oauth_error(error: &OAuthError) -> Response<Body> {
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

/// A page, with the security headers of every page.
pub fn html(status: StatusCode, body: String) -> Response<Body> {
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

/// A redirect (302) to `location`.
pub fn redirect(location: &str) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::FOUND;
    match HeaderValue::from_str(location) {
        Ok(value) => {
            response.headers_mut().insert(LOCATION, value);
        }
        Err(_) => {
            return error_page(&PageError::new(
                "invalid_request",
                "Địa chỉ chuyển hướng không hợp lệ.",
                "the redirect URI cannot be a header",
            ));
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

/// An error shown to the user, in Vietnamese and English.
pub fn error_page(error: &PageError) -> Response<Body> {
    // Cut as every error description is: it may quote the request.
    let description = description_text(&error.description);
    html(
        StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST),
        pages::error(error.error, error.vi, &description),
    )
}

/// An OAuth error shown to the user.
pub fn oauth_error_page(error: OAuthError) -> Response<Body> {
    error_page(&PageError::from(error))
}

/// The authorization response, in its response mode.
fn authorization_response(answer: &AuthorizationResponse) -> Response<Body> {
    let params: Vec<(&str, &str)> = answer
        .params
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    if answer.form_post {
        form_post(&answer.redirect_uri, &params)
    } else {
        redirect(&with_query(&answer.redirect_uri, &params))
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

/// The personas the login page offers, from VNeID's list.
fn personas(listed: &[PersonaAccount]) -> Vec<PersonaChoice> {
    listed
        .iter()
        .map(|persona| PersonaChoice {
            id: persona.citizen_id.clone(),
            key: persona.persona_key.clone(),
            name: persona.full_name.clone(),
            note: match persona.level() {
                VneidLevel::VneidLevel1 => "LoA1",
                VneidLevel::VneidLevel2 => "LoA2",
                VneidLevel::None | VneidLevel::Unspecified => "no VNeID",
            },
        })
        .collect()
}

/// The page or answer of an authorization step, with the session cookie it made.
pub fn authorize_step(
    p: &Provider,
    step: AuthorizeStep,
    picker: &[PersonaAccount],
) -> Response<Body> {
    let mut response = authorize_outcome(p, step.outcome, picker);
    if let Some(value) = step.new_session
        && let Some(cookie) = cookie_header(p, SESSION_COOKIE, &value, p.lifetimes.session)
    {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

/// The page or answer of an authorization outcome; a login page offers the personas of
/// `picker`.
pub fn authorize_outcome(
    p: &Provider,
    outcome: AuthorizeOutcome,
    picker: &[PersonaAccount],
) -> Response<Body> {
    let client = |id: &str| p.client(id);
    match outcome {
        AuthorizeOutcome::Refused(error) => error_page(&error),
        AuthorizeOutcome::AuthenticationRequired {
            request,
            client_id,
            hint,
            failed,
        } => {
            let Some(client) = client(&client_id) else {
                return unregistered();
            };
            let status = if failed.is_some() {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::OK
            };
            let error = failed.map(|error| error.message());
            html(
                status,
                pages::login(&request, client, hint.as_deref(), &personas(picker), error),
            )
        }
        AuthorizeOutcome::ConsentRequested {
            request,
            client_id,
            person_name,
            scopes,
        } => {
            let Some(client) = client(&client_id) else {
                return unregistered();
            };
            html(
                StatusCode::OK,
                pages::consent(&request, client, &person_name, &scopes),
            )
        }
        AuthorizeOutcome::Permitted(answer) | AuthorizeOutcome::ErrorRedirect(answer) => {
            authorization_response(&answer)
        }
    }
}

fn unregistered() -> Response<Body> {
    error_page(&PageError::new(
        "invalid_client",
        "Ứng dụng này không còn được đăng ký.",
        "the client is no longer registered",
    ))
}

/// The page or redirect of a logout outcome; a browser whose cookie was just made gets it
/// with the confirmation form.
pub fn logout_outcome(
    p: &Provider,
    outcome: LogoutOutcome,
    new_browser: Option<&str>,
) -> Response<Body> {
    match outcome {
        LogoutOutcome::Refused(error) => error_page(&error),
        LogoutOutcome::ConfirmationRequested {
            request,
            client,
            person_name,
        } => {
            let names = client.as_ref().map(|(vi, en)| (vi.as_str(), en.as_str()));
            let mut response = html(
                StatusCode::OK,
                pages::logout_confirm(&request, names, &person_name),
            );
            if let Some(browser) = new_browser
                && let Some(value) = cookie_header(p, BROWSER_COOKIE, browser, p.lifetimes.session)
            {
                response.headers_mut().append(SET_COOKIE, value);
            }
            response
        }
        LogoutOutcome::StillLoggedIn => html(StatusCode::OK, pages::still_logged_in()),
        LogoutOutcome::LoggedOut { redirect: to } => {
            let mut response = match to {
                Some(uri) => redirect(&uri),
                None => html(StatusCode::OK, pages::logged_out()),
            };
            if let Some(expired) = cookie_header(p, SESSION_COOKIE, "", Duration::ZERO) {
                response.headers_mut().append(SET_COOKIE, expired);
            }
            response
        }
    }
}

/// A cookie of the provider, on every path: `Secure` when the issuer is https.
pub fn cookie_header(
    p: &Provider,
    name: &str,
    value: &str,
    max_age: Duration,
) -> Option<HeaderValue> {
    let secure = if p.issuer.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        max_age.as_secs()
    ))
    .ok()
}
