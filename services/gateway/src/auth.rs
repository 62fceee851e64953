//! The edge's [`Authorizer`] for the single sign-on's tokens: every non-public call needs an
//! RFC 9068 access token (`authorization: Bearer <jwt>`) signed by a key of the SSO's JWKS
//! (cached; an unknown `kid` reads the JWKS again), of the SSO's issuer, for the suite's
//! audience, not expired (30 s leeway), with the algorithm its key is, and carrying the scope
//! the method's policy declares.
//!
//! The issuer and keys are read from the SSO over the suite's internal network: its discovery
//! document for the issuer (the URL browsers use, which the edge itself may not reach), and its
//! JWKS at `/oidc/jwks`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sandbox06_jose::{JoseError, JwkSet, VerifyingKey};
use sandbox06_runtime::clock::Clock;
use sandbox06_runtime::{ApiError, Reason};
use serde_json::Value;
use tokio::sync::{Mutex, RwLock};

use crate::policy::{Authorizer, Caller, MethodInfo};

/// The audience of the suite's access tokens.
pub const API_AUDIENCE: &str = "sandbox06";
/// Clock leeway on `exp` and `nbf`.
pub const LEEWAY_SECONDS: i64 = 30;
/// The SSO's discovery path.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// The SSO's JWKS path.
pub const JWKS_PATH: &str = "/oidc/jwks";
/// Least time between two reads of the JWKS for unknown keys: a flood of forged `kid`s does
/// not become a flood of reads; a real new key waits at most this long.
const REFETCH_AFTER: Duration = Duration::from_millis(250);
/// How long a read of the JWKS serves before it is read again anyway.
const KEYS_TTL: Duration = Duration::from_secs(300);
/// Verified tokens remembered, so a client reusing its token is not verified again.
const VERIFIED_CACHE: usize = 4096;
/// How long reading the SSO may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Default)]
struct KeyCache {
    issuer: Option<String>,
    keys: Vec<VerifyingKey>,
    fetched_at: Option<Instant>,
}

/// What a verified token says of its caller, until it expires.
#[derive(Clone)]
struct Verified {
    caller: Caller,
    exp: i64,
}

/// Verifies the single sign-on's access tokens.
#[derive(Clone)]
pub struct TokenAuthorizer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TokenAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAuthorizer")
            .field("sso", &self.inner.sso)
            .field("enforce", &self.inner.enforce)
            .finish_non_exhaustive()
    }
}

struct Inner {
    /// The SSO's internal base URL, e.g. `http://127.0.0.1:41234`.
    sso: String,
    enforce: bool,
    client: Client<HttpConnector, Empty<Bytes>>,
    keys: RwLock<KeyCache>,
    fetching: Mutex<()>,
    verified: std::sync::Mutex<HashMap<String, Verified>>,
    /// The suite's clock, which expiry is judged against.
    clock: Clock,
}

fn unauthenticated(reason: Reason, message: impl Into<String>) -> ApiError {
    ApiError::new(reason, message)
}

fn invalid(problem: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(Reason::TokenInvalid, message).with_metadata("problem", problem)
}

impl TokenAuthorizer {
    /// Verifies tokens against the SSO at `sso` (its internal URL). Without `enforce`, nothing
    /// is refused: a call with a valid token names its caller, any other passes as anonymous.
    /// Expiry is judged by `clock`, the suite's.
    pub fn new(sso: impl Into<String>, enforce: bool, clock: Clock) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(FETCH_TIMEOUT));
        Self {
            inner: Arc::new(Inner {
                sso: sso.into().trim_end_matches('/').to_owned(),
                enforce,
                client: Client::builder(TokioExecutor::new()).build(connector),
                keys: RwLock::new(KeyCache::default()),
                fetching: Mutex::new(()),
                verified: std::sync::Mutex::new(HashMap::new()),
                clock,
            }),
        }
    }

    async fn get_json(&self, path: &str) -> Result<Value, String> {
        let uri: Uri = format!("{}{path}", self.inner.sso)
            .parse()
            .map_err(|e| format!("{e}"))?;
        let request = Request::get(uri)
            .header(http::header::ACCEPT, "application/json")
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        let response = tokio::time::timeout(FETCH_TIMEOUT, self.inner.client.request(request))
            .await
            .map_err(|_| "timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        if response.status() != StatusCode::OK {
            return Err(format!("answered {}", response.status()));
        }
        let body = tokio::time::timeout(FETCH_TIMEOUT, response.into_body().collect())
            .await
            .map_err(|_| "timed out".to_owned())?
            .map_err(|e| e.to_string())?
            .to_bytes();
        serde_json::from_slice(&body).map_err(|e| e.to_string())
    }

    /// Reads the issuer and the JWKS: when never read or older than [`KEYS_TTL`], or, with
    /// `stale`, when the set read at `stale` lacked a key (unless another call read it since).
    async fn refresh(&self, stale: Option<Option<Instant>>) -> Result<(), ApiError> {
        // The common case, without queueing: the set is young enough.
        let fetched_at = self.inner.keys.read().await.fetched_at;
        if let (None, Some(at)) = (stale, fetched_at)
            && at.elapsed() < KEYS_TTL
        {
            return Ok(());
        }
        // Read just now: a key made since may not be in it, so read again once the pause is
        // over. The pause is spent outside the lock: only this call waits.
        if let (Some(_), Some(at)) = (stale, fetched_at)
            && let Some(wait) = REFETCH_AFTER.checked_sub(at.elapsed())
        {
            tokio::time::sleep(wait).await;
        }
        let _one = self.inner.fetching.lock().await;
        let fetched_at = self.inner.keys.read().await.fetched_at;
        if let Some(at) = fetched_at {
            match stale {
                None if at.elapsed() < KEYS_TTL => return Ok(()),
                // Another call read the set again while this one waited.
                Some(seen) if seen != fetched_at => return Ok(()),
                _ => {}
            }
        }
        match self.fetch().await {
            Ok(()) => Ok(()),
            // The set read before still verifies what it verified: an SSO that is down for a
            // while does not stop calls with known keys.
            Err(error) if fetched_at.is_some() && stale.is_none() => {
                tracing::warn!(reason = %error.reason, "keeping the keys read before");
                // Tried again after another while, not on every call.
                self.inner.keys.write().await.fetched_at = Some(Instant::now());
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    /// Reads the issuer and the JWKS from the SSO.
    async fn fetch(&self) -> Result<(), ApiError> {
        let unavailable = |what: &str, why: String| {
            tracing::warn!(what, why = %why, "single sign-on unreachable");
            ApiError::new(
                Reason::UpstreamUnavailable,
                "the single sign-on cannot be reached to verify the token",
            )
            .with_metadata("backend", "sso")
        };
        let discovery = self
            .get_json(DISCOVERY_PATH)
            .await
            .map_err(|why| unavailable("discovery", why))?;
        let issuer = discovery
            .get("issuer")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| unavailable("discovery", "no issuer".to_owned()))?;
        let jwks = self
            .get_json(JWKS_PATH)
            .await
            .map_err(|why| unavailable("jwks", why))?;
        let set: JwkSet =
            serde_json::from_value(jwks).map_err(|e| unavailable("jwks", e.to_string()))?;
        let mut cache = self.inner.keys.write().await;
        *cache = KeyCache {
            issuer: Some(issuer),
            keys: set.verifying_keys(),
            fetched_at: Some(Instant::now()),
        };
        Ok(())
    }

    /// The caller `token` stands for, or why it is refused (scope aside).
    pub async fn verify(&self, token: &str) -> Result<Caller, ApiError> {
        let now = self.inner.clock.unix_seconds();
        if let Ok(cache) = self.inner.verified.lock()
            && let Some(hit) = cache.get(token)
            && hit.exp + LEEWAY_SECONDS >= now
        {
            return Ok(hit.caller.clone());
        }
        self.refresh(None).await?;
        let (mut checked, seen) = {
            let cache = self.inner.keys.read().await;
            (sandbox06_jose::verify(token, &cache.keys), cache.fetched_at)
        };
        if matches!(checked, Err(JoseError::UnknownKey(_))) {
            self.refresh(Some(seen)).await?;
            let cache = self.inner.keys.read().await;
            checked = sandbox06_jose::verify(token, &cache.keys);
        }
        let verified =
            checked.map_err(|e| invalid(e.kind(), format!("access token refused: {e}")))?;
        if verified.header.typ.as_deref() != Some("at+jwt") {
            return Err(invalid(
                "type",
                "not an access token (typ at+jwt): an ID token is not accepted",
            ));
        }
        let claims = verified.claims;
        let issuer = self.inner.keys.read().await.issuer.clone();
        if claims.get("iss").and_then(Value::as_str) != issuer.as_deref() {
            return Err(invalid(
                "issuer",
                format!(
                    "the token's issuer is not the single sign-on's ({})",
                    issuer.unwrap_or_default()
                ),
            ));
        }
        if !sandbox06_jose::audiences(&claims).contains(&API_AUDIENCE) {
            return Err(invalid(
                "audience",
                format!("the token is not for the audience {API_AUDIENCE:?}"),
            ));
        }
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or_else(|| invalid("malformed", "the token has no exp"))?;
        if exp + LEEWAY_SECONDS < now {
            return Err(
                ApiError::new(Reason::TokenExpired, "the access token has expired")
                    .with_metadata("expired_at", exp.to_string()),
            );
        }
        if claims
            .get("nbf")
            .and_then(Value::as_i64)
            .is_some_and(|nbf| nbf - LEEWAY_SECONDS > now)
        {
            return Err(invalid("not_yet_valid", "the token is not valid yet"));
        }
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let client_id = text("client_id").or_else(|| text("azp"));
        let subject = text("sub").filter(|sub| Some(sub) != client_id.as_ref());
        let caller = Caller {
            client_id,
            subject,
            scopes: text("scope")
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            acr: text("acr"),
        };
        if let Ok(mut cache) = self.inner.verified.lock() {
            if cache.len() >= VERIFIED_CACHE {
                cache.retain(|_, v| v.exp + LEEWAY_SECONDS >= now);
                if cache.len() >= VERIFIED_CACHE {
                    cache.clear();
                }
            }
            cache.insert(
                token.to_owned(),
                Verified {
                    caller: caller.clone(),
                    exp,
                },
            );
        }
        Ok(caller)
    }
}

/// The bearer token of `headers`, if any; an `authorization` of another scheme is an error.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| invalid("malformed", "the authorization header is not text"))?;
    let (scheme, token) = text.split_once(' ').unwrap_or((text, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(invalid(
            "malformed",
            "authorization must be \"Bearer <access token>\"",
        ));
    }
    Ok(Some(token.trim()))
}

impl Authorizer for TokenAuthorizer {
    fn authorize<'a>(
        &'a self,
        method: &'a MethodInfo,
        headers: &'a HeaderMap,
    ) -> BoxFuture<'a, Result<Caller, ApiError>> {
        let required = method.required_scope();
        tracing::Span::current().record("auth.scope", required.unwrap_or(""));
        let public = method.policy.as_ref().is_some_and(|p| p.public);
        Box::pin(async move {
            if !self.inner.enforce {
                // Enforcement off: nothing is refused; a valid token still names the caller.
                return Ok(match bearer(headers) {
                    Ok(Some(token)) => self.verify(token).await.unwrap_or_default(),
                    _ => Caller::anonymous(),
                });
            }
            let token = match bearer(headers)? {
                Some(token) => token,
                None if public => return Ok(Caller::anonymous()),
                None => {
                    return Err(unauthenticated(
                        Reason::TokenMissing,
                        format!(
                            "{} needs an access token: authorization: Bearer <token> (from the single sign-on's token endpoint)",
                            method.path
                        ),
                    ));
                }
            };
            let caller = self.verify(token).await?;
            if let Some(scope) = required
                && !public
                && !caller.has_scope(scope)
            {
                return Err(ApiError::new(
                    Reason::ScopeMissing,
                    format!("{} needs the scope {scope}", method.path),
                )
                .with_metadata("required_scope", scope)
                .with_metadata("granted", caller.scopes.join(" ")));
            }
            Ok(caller)
        })
    }

    fn identify<'a>(&'a self, headers: &'a HeaderMap) -> BoxFuture<'a, Result<Caller, ApiError>> {
        // HTTP routes decide for themselves (the SSO reads its own bearer tokens): a valid
        // token names the caller, anything else is anonymous.
        Box::pin(async move {
            match bearer(headers) {
                Ok(Some(token)) => Ok(self.verify(token).await.unwrap_or_default()),
                _ => Ok(Caller::anonymous()),
            }
        })
    }
}
