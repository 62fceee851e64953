//! Reading requests: query and form parameters (a parameter given twice refused), client
//! credentials, bearer tokens, cookies and the caller's address.

use std::collections::HashMap;

use axum::body::Body;
use http::header::{CONTENT_TYPE, COOKIE};
use http::request::Parts;
use http::{Method, Request};

use crate::oauth::errors::OAuthError;
use crate::provider::{Credentials, parse_basic};

/// Largest form or query the endpoints read.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The parameters of a request.
pub type Params = HashMap<String, String>;

/// Parameters of a form or query; a parameter given twice is refused (RFC 6749 §3.1).
fn parse_params(text: &str) -> Result<Params, OAuthError> {
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

/// Whether the request's body is a form.
pub fn is_form(parts: &http::HeaderMap) -> bool {
    parts
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

/// The parameters of a request: its query, and for a POST its form body.
pub async fn params(request: Request<Body>) -> Result<(Parts, Params), OAuthError> {
    let (parts, body) = request.into_parts();
    let mut params = parse_params(parts.uri.query().unwrap_or_default())?;
    if parts.method == Method::POST {
        if !is_form(&parts.headers) {
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
pub async fn form_params(request: Request<Body>) -> Result<(Parts, Params), OAuthError> {
    if request.uri().query().is_some_and(|q| !q.is_empty()) {
        return Err(OAuthError::invalid_request(
            "parameters go in the form body, not in the URL",
        ));
    }
    params(request).await
}

/// The client credentials of a request to the token, introspection or revocation endpoint.
pub fn credentials(parts: &Parts, params: &Params) -> Result<Credentials, OAuthError> {
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

/// The bearer token of an `Authorization` header.
pub fn bearer(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned())
}

/// The caller's address: the last hop of `x-forwarded-for` (the edge appends the address it
/// saw there), else the connection's peer.
fn caller_address(parts: &Parts) -> Option<String> {
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

/// The value of the cookie `name`.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
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
