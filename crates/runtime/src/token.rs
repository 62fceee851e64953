//! A component's own access token for its calls through the edge: a client-credentials token
//! from the single sign-on's token endpoint, kept until shortly before it expires, and a
//! channel wrapper that sends it with every call.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use sandbox06_proto::citizen::citizen_service_client::CitizenServiceClient;
//! use sandbox06_runtime::token::{Authenticated, TokenSource};
//!
//! let source = Arc::new(TokenSource::new(
//!     "http://127.0.0.1:4606/oidc/token",
//!     "svc-lodging",
//!     "svc-lodging-secret",
//! ));
//! let edge = sandbox06_runtime::grpc_channel("http://127.0.0.1:4606")?;
//! let citizens = CitizenServiceClient::new(Authenticated::new(edge, source));
//! # Ok(()) }
//! ```
//!
//! A component's calls to other services go through [`crate::component::Context::edge_channel`],
//! which builds an [`EdgeChannel`] from the component's declared client: the token, the trace
//! context and what is left of the served call's deadline travel with every call.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use http::header::{AUTHORIZATION, HeaderValue};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::Mutex;
use tonic::service::interceptor::InterceptedService;

use crate::PeerChannel;
use crate::error::{ApiError, Reason};
use crate::telemetry::TraceContextInterceptor;

/// The token endpoint's path, on the edge as on the single sign-on.
pub const TOKEN_PATH: &str = "/oidc/token";

/// A channel to the edge for a component's calls to other services: its token, the trace
/// context and the remaining deadline on every call ([`crate::component::Context::edge_channel`]).
pub type EdgeChannel = Authenticated<InterceptedService<PeerChannel, TraceContextInterceptor>>;

/// `channel` to the edge (in-process under `up`, over TCP apart), each call carrying
/// `source`'s token, the current trace context and what is left of the served call's deadline.
pub fn edge_channel(channel: impl Into<PeerChannel>, source: Arc<TokenSource>) -> EdgeChannel {
    Authenticated::new(
        InterceptedService::new(channel.into(), TraceContextInterceptor),
        source,
    )
}

/// A token is fetched again this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(60);
/// How long the token endpoint may take to answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
#[error("access token from {endpoint}: {message}")]
pub struct TokenError {
    /// The token endpoint.
    pub endpoint: String,
    /// What went wrong.
    pub message: String,
}

/// Client-credentials tokens of one client, fetched when needed and reused until shortly
/// before they expire; one fetch at a time.
pub struct TokenSource {
    endpoint: String,
    form: String,
    http: Client<HttpConnector, Full<Bytes>>,
    cached: Mutex<Option<(HeaderValue, Instant)>>,
    fetched: AtomicU64,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// Tokens of `client_id` (authenticated with `secret`) from the token endpoint at
    /// `endpoint`, for every scope the client may have.
    pub fn new(endpoint: impl Into<String>, client_id: &str, secret: &str) -> Self {
        Self::with_scope(endpoint, client_id, secret, None)
    }

    /// Tokens for `scope` (space-separated) only.
    pub fn with_scope(
        endpoint: impl Into<String>,
        client_id: &str,
        secret: &str,
        scope: Option<&str>,
    ) -> Self {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials")
            .append_pair("client_id", client_id)
            .append_pair("client_secret", secret);
        if let Some(scope) = scope {
            form.append_pair("scope", scope);
        }
        let form = form.finish();
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(TIMEOUT));
        Self {
            endpoint: endpoint.into(),
            form,
            http: Client::builder(TokioExecutor::new()).build(connector),
            cached: Mutex::new(None),
            fetched: AtomicU64::new(0),
        }
    }

    /// How many tokens were fetched so far.
    pub fn fetched(&self) -> u64 {
        self.fetched.load(Ordering::Relaxed)
    }

    /// `Bearer <token>`: the kept one while it has more than a minute to live, else a new one.
    pub async fn authorization(&self) -> Result<HeaderValue, TokenError> {
        let mut cached = self.cached.lock().await;
        if let Some((value, renew_at)) = cached.as_ref()
            && Instant::now() < *renew_at
        {
            return Ok(value.clone());
        }
        let (value, lifetime) = self.fetch().await?;
        let renew_at = Instant::now() + lifetime.saturating_sub(RENEW_BEFORE).max(lifetime / 2);
        *cached = Some((value.clone(), renew_at));
        Ok(value)
    }

    async fn fetch(&self) -> Result<(HeaderValue, Duration), TokenError> {
        let fail = |message: String| TokenError {
            endpoint: self.endpoint.clone(),
            message,
        };
        let mut request = http::Request::post(self.endpoint.as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(Full::new(Bytes::from(self.form.clone())))
            .map_err(|e| fail(e.to_string()))?;
        // The fetch is part of the call that needed the token: the same trace.
        crate::telemetry::inject_context(request.headers_mut());
        let response = tokio::time::timeout(TIMEOUT, self.http.request(request))
            .await
            .map_err(|_| fail("timed out".to_owned()))?
            .map_err(|e| fail(e.to_string()))?;
        let status = response.status();
        let body = tokio::time::timeout(TIMEOUT, response.into_body().collect())
            .await
            .map_err(|_| fail("timed out".to_owned()))?
            .map_err(|e| fail(e.to_string()))?
            .to_bytes();
        let answer: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|_| fail(format!("answered {status} without JSON")))?;
        let Some(token) = answer.get("access_token").and_then(|t| t.as_str()) else {
            return Err(fail(format!(
                "refused: {} ({})",
                answer["error"].as_str().unwrap_or("?"),
                answer["error_description"].as_str().unwrap_or_default()
            )));
        };
        let lifetime = answer
            .get("expires_in")
            .and_then(serde_json::Value::as_u64)
            .map_or(Duration::from_secs(300), Duration::from_secs);
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| fail("the token is not a header value".to_owned()))?;
        self.fetched.fetch_add(1, Ordering::Relaxed);
        Ok((value, lifetime))
    }
}

/// A gRPC channel that sends the source's token with every call.
#[derive(Clone, Debug)]
pub struct Authenticated<S> {
    inner: S,
    source: Arc<TokenSource>,
}

impl<S> Authenticated<S> {
    /// `inner`, each call carrying `source`'s token.
    pub fn new(inner: S, source: Arc<TokenSource>) -> Self {
        Self { inner, source }
    }

    /// Where its tokens come from.
    pub fn source(&self) -> &Arc<TokenSource> {
        &self.source
    }
}

/// The status of a call that had no answer within what was left of the served call's deadline.
fn deadline_passed(left: Duration) -> BoxError {
    Box::new(tonic::Status::from(ApiError::new(
        Reason::DeadlineExceeded,
        format!(
            "no answer within what was left of the call's deadline ({} ms)",
            left.as_millis()
        ),
    )))
}

/// Whether `error` is the channel's own expiry of a `grpc-timeout`.
fn timed_out(error: &BoxError) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error.as_ref());
    while let Some(current) = cause {
        if current.is::<tonic::TimeoutExpired>() {
            return true;
        }
        cause = current.source();
    }
    false
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, B> tower::Service<http::Request<B>> for Authenticated<S>
where
    S: tower::Service<http::Request<B>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<S::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The clone that was made ready goes with this call; a fresh clone stays behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let source = Arc::clone(&self.source);
        // What is left of the served call's deadline bounds the token's fetch and the call.
        let left = crate::deadline::remaining();
        Box::pin(async move {
            let call = async move {
                let value = source.authorization().await?;
                request.headers_mut().insert(AUTHORIZATION, value);
                inner.call(request).await.map_err(Into::into)
            };
            let result = match left {
                Some(left) => tokio::time::timeout(left, call)
                    .await
                    .unwrap_or_else(|_| Err(deadline_passed(left))),
                None => call.await,
            };
            result.map_err(|error| match left {
                Some(left) if timed_out(&error) => deadline_passed(left),
                _ => error,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_encoded() {
        let source = TokenSource::with_scope(
            "http://127.0.0.1:1/oidc/token",
            "svc-x",
            "a&b=c",
            Some("citizen.read citizen.verify"),
        );
        assert!(
            source.form.contains("scope=citizen.read+citizen.verify"),
            "{}",
            source.form
        );
        assert!(
            source.form.contains("client_secret=a%26b%3Dc"),
            "{}",
            source.form
        );
    }
}
