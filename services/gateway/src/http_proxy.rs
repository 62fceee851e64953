//! The HTTP side of the edge: [`identify_caller`] on every request, then the forwarding service,
//! which sends each request whose path falls under a backend's prefix to that backend over
//! HTTP/1.1, bodies streamed in both directions, hop-by-hop headers dropped, `x-forwarded-*` set.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use futures::future::BoxFuture;
use http::header::{CONNECTION, HOST};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, Uri, Version};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sandbox06_runtime::caller::strip_caller_headers;
use sandbox06_runtime::http::{error_response, record_http_route, route_not_found};
use sandbox06_runtime::telemetry::inject_span_context;
use sandbox06_runtime::{ApiError, Reason};
use tonic::transport::server::TcpConnectInfo;
use tower::Service;
use tracing::Instrument;

use crate::policy::Authorizer;

/// How long connecting to a backend may take before the request fails as unavailable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Headers that describe one connection, not the request, so never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Where requests under one path prefix go.
#[derive(Clone, Debug)]
pub(crate) struct HttpRoute {
    /// `/oidc`: no trailing slash; matches `/oidc` and `/oidc/...`, not `/oidcx`.
    pub(crate) prefix: String,
    /// Component name, for spans and errors.
    pub(crate) backend: Arc<str>,
    /// `http`: the suite speaks plain HTTP inside.
    pub(crate) scheme: Scheme,
    /// Host and port of the backend.
    pub(crate) authority: Authority,
}

impl HttpRoute {
    fn matches(&self, path: &str) -> bool {
        path.strip_prefix(self.prefix.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }
}

/// A prefix as routed: starts with `/`, names at least one segment, no trailing `/`, and
/// holds no query, fragment or whitespace; `None` when it cannot be one.
pub(crate) fn normalize_prefix(prefix: &str) -> Option<String> {
    let trimmed = prefix.trim_end_matches('/');
    let valid = trimmed.starts_with('/')
        && trimmed.len() > 1
        && !trimmed.contains("//")
        && !trimmed
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#');
    valid.then(|| trimmed.to_owned())
}

/// Immutable state shared by every forwarded request.
struct HttpProxyState {
    /// Longest prefix first, so the most specific route wins.
    routes: Vec<HttpRoute>,
    client: Client<HttpConnector, Body>,
}

/// The gateway's HTTP fallback service: forwards by prefix, or answers the JSON 404.
#[derive(Clone)]
pub(crate) struct HttpProxy {
    state: Arc<HttpProxyState>,
}

impl HttpProxy {
    pub(crate) fn new(mut routes: Vec<HttpRoute>) -> Self {
        routes.sort_by_key(|route| std::cmp::Reverse(route.prefix.len()));
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Self {
            state: Arc::new(HttpProxyState { routes, client }),
        }
    }
}

impl Service<Request<Body>> for HttpProxy {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let state = Arc::clone(&self.state);
        Box::pin(async move { Ok(forward(&state, request).await) })
    }
}

/// Middleware on every HTTP request at the edge, edge-local or forwarded: strips the caller
/// headers the client sent, asks the authorizer who the caller is, and writes the answer in
/// their place (a refusal is answered as JSON).
pub(crate) async fn identify_caller(
    axum::extract::State(authorizer): axum::extract::State<Arc<dyn Authorizer>>,
    mut request: Request<Body>,
    next: axum::middleware::Next,
) -> Response<Body> {
    // Only the edge says who the caller is.
    strip_caller_headers(request.headers_mut());
    let caller = match authorizer.identify(request.headers()).await {
        Ok(caller) => caller,
        Err(error) => {
            tracing::info!(reason = %error.reason, "request refused");
            return error_response(error);
        }
    };
    if let Err(error) = caller.write_headers(request.headers_mut()) {
        tracing::warn!(error = %error, "caller does not fit in headers");
        return error_response(ApiError::new(
            Reason::Internal,
            "the authorized caller cannot be passed on",
        ));
    }
    next.run(request).await
}

/// Removes hop-by-hop headers, including those the `connection` header names.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

/// Sets `x-forwarded-for` (appended to), `x-forwarded-host` and `x-forwarded-proto`.
fn set_forwarded(request: &mut Request<Body>) {
    let peer = request
        .extensions()
        .get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .map(|addr| addr.ip().to_string());
    // HTTP/2 requests carry the host in the URI, HTTP/1.1 ones in `host`.
    let host = request.headers().get(HOST).cloned().or_else(|| {
        request
            .uri()
            .authority()
            .and_then(|authority| HeaderValue::from_str(authority.as_str()).ok())
    });
    let headers = request.headers_mut();
    if let Some(peer) = peer {
        let chain = match headers
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok())
        {
            Some(earlier) => format!("{earlier}, {peer}"),
            None => peer,
        };
        if let Ok(chain) = HeaderValue::from_str(&chain) {
            headers.insert("x-forwarded-for", chain);
        }
    }
    match host {
        Some(host) => {
            headers.insert("x-forwarded-host", host);
        }
        None => {
            headers.remove("x-forwarded-host");
        }
    }
    // The edge listens without TLS.
    headers.insert("x-forwarded-proto", HeaderValue::from_static("http"));
}

async fn forward(state: &HttpProxyState, mut request: Request<Body>) -> Response<Body> {
    let path = request.uri().path();
    let Some(route) = state.routes.iter().find(|route| route.matches(path)) else {
        return route_not_found(path);
    };
    record_http_route(&route.prefix);
    let span = tracing::info_span!(
        "gateway",
        otel.kind = "client",
        http.request.method = request.method().as_str(),
        http.route = route.prefix.as_str(),
        backend = &*route.backend,
    );

    set_forwarded(&mut request);
    strip_hop_by_hop(request.headers_mut());
    // The client sets `host` from the backend's URI.
    request.headers_mut().remove(HOST);
    inject_span_context(&span, request.headers_mut());
    let path_and_query = request
        .uri()
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let uri = Uri::builder()
        .scheme(route.scheme.clone())
        .authority(route.authority.clone())
        .path_and_query(path_and_query)
        .build();
    match uri {
        Ok(uri) => *request.uri_mut() = uri,
        Err(error) => {
            tracing::warn!(parent: &span, error = %error, "backend uri does not build");
            return error_response(ApiError::new(
                Reason::Internal,
                "the backend address cannot be formed",
            ));
        }
    }
    *request.version_mut() = Version::HTTP_11;

    let backend = Arc::clone(&route.backend);
    match state.client.request(request).instrument(span).await {
        Ok(response) => {
            let mut response = response.map(Body::new);
            strip_hop_by_hop(response.headers_mut());
            response
        }
        Err(error) => {
            tracing::warn!(backend = &*backend, error = %error, "backend unreachable");
            error_response(
                ApiError::new(
                    Reason::UpstreamUnavailable,
                    format!("backend {backend} is unavailable"),
                )
                .with_metadata("backend", &*backend),
            )
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn route(prefix: &str) -> HttpRoute {
        HttpRoute {
            prefix: prefix.to_owned(),
            backend: Arc::from("sso"),
            scheme: Scheme::HTTP,
            authority: Authority::from_static("127.0.0.1:1"),
        }
    }

    #[test]
    fn a_prefix_matches_whole_segments_only() {
        let oidc = route("/oidc");
        assert!(oidc.matches("/oidc"));
        assert!(oidc.matches("/oidc/"));
        assert!(oidc.matches("/oidc/token"));
        assert!(!oidc.matches("/oidcx"));
        assert!(!oidc.matches("/"));
    }

    #[test]
    fn prefixes_are_normalized_or_refused() {
        assert_eq!(normalize_prefix("/oidc/").as_deref(), Some("/oidc"));
        assert_eq!(
            normalize_prefix("/.well-known/openid-configuration").as_deref(),
            Some("/.well-known/openid-configuration")
        );
        for bad in ["", "/", "oidc", "/a b", "/a?b", "//a"] {
            assert_eq!(normalize_prefix(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn hop_by_hop_headers_are_dropped_with_those_connection_names() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONNECTION,
            HeaderValue::from_static("keep-alive, x-private"),
        );
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert("x-private", HeaderValue::from_static("1"));
        headers.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        headers.insert("accept", HeaderValue::from_static("application/json"));
        strip_hop_by_hop(&mut headers);
        assert_eq!(headers.len(), 1);
        assert_eq!(headers["accept"], "application/json");
    }
}
