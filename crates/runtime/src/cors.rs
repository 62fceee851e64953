//! Cross-origin calls from browsers (CORS), for REST and gRPC-Web alike: which page origins may
//! call, the answer to their preflight, and the headers a page may read from an answer
//! (`grpc-status` and `grpc-message` among them, which a gRPC-Web client reads).
//!
//! A service whose answers any page may read, and which takes no cookies, uses the policy of
//! [`CorsPolicy::any_origin_without_credentials`] instead (the single sign-on's discovery, JWKS
//! and token endpoints): every origin is answered `*`, and its preflights say which methods and
//! headers it takes.
//!
//! Origins are listed exactly (`https://portal.example`, `null` for pages from files), with any
//! port (`http://localhost:*`), or all of them (`*`). A page on the server's own origin is
//! always allowed. A request from any other page is refused (`ORIGIN_NOT_ALLOWED`), preflight or
//! not: browsers send some cross-origin requests (a form's POST) without asking first. Paths under a
//! skipped prefix keep the CORS policy of whatever serves them (the single sign-on's endpoints
//! answer their own).

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use tower::{Layer, Service, ServiceExt};

use crate::error::{ApiError, Reason};

/// Pages on the loopback addresses, any scheme and port: the default, for local development.
pub const LOOPBACK_ORIGINS: &[&str] = &[
    "http://localhost:*",
    "http://127.0.0.1:*",
    "http://[::1]:*",
    "https://localhost:*",
    "https://127.0.0.1:*",
    "https://[::1]:*",
];

/// The headers a page may read from an answer.
const EXPOSED: &str = "grpc-status, grpc-message, grpc-status-details-bin, x-request-id, www-authenticate, retry-after, allow";
/// The methods a preflight may ask for.
const METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
/// The request headers a page may send when its preflight names none.
const HEADERS: &str = "authorization, content-type, x-grpc-web, x-user-agent, grpc-timeout, traceparent, tracestate, x-request-id";
/// How long a browser may keep a preflight's answer, in seconds.
const MAX_AGE: &str = "600";

#[derive(Clone, Debug, PartialEq, Eq)]
enum Pattern {
    Any,
    Exact(String),
    /// `scheme://host`, any port or none.
    AnyPort(String),
}

/// Errors of [`CorsPolicy::new`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{0:?} is not an origin: give scheme://host[:port], scheme://host:* for any port, or * for all"
)]
pub struct OriginError(pub String);

/// Which page origins may call, and which paths keep their own policy.
#[derive(Clone, Debug)]
pub struct CorsPolicy {
    patterns: Vec<Pattern>,
    skipped: Vec<String>,
    /// Every allowed origin is answered `*` rather than named (answers that do not vary by
    /// page, to requests that carry no cookies).
    star: bool,
    /// The methods a preflight is told.
    methods: &'static str,
    /// The request headers a preflight is told; those it asks for when none.
    headers: Option<&'static str>,
}

impl Default for CorsPolicy {
    fn default() -> Self {
        Self {
            patterns: Vec::new(),
            skipped: Vec::new(),
            star: false,
            methods: METHODS,
            headers: None,
        }
    }
}

impl CorsPolicy {
    /// A policy allowing `origins` (see the module's documentation); none allows only the
    /// server's own origin.
    pub fn new(origins: &[impl AsRef<str>]) -> Result<Self, OriginError> {
        let patterns = origins
            .iter()
            .map(|origin| {
                let origin = origin.as_ref().trim();
                if origin == "*" {
                    return Ok(Pattern::Any);
                }
                // Pages from files and sandboxed frames send the origin "null".
                if origin == "null" {
                    return Ok(Pattern::Exact("null".to_owned()));
                }
                let (scheme, rest) = origin
                    .split_once("://")
                    .ok_or_else(|| OriginError(origin.to_owned()))?;
                let host = rest.strip_suffix(":*").unwrap_or(rest);
                if !matches!(scheme, "http" | "https")
                    || host.is_empty()
                    || host.contains(['/', '?', '#', ' ', '@', '*'])
                {
                    return Err(OriginError(origin.to_owned()));
                }
                // Browsers leave the scheme's default port out of the origin they send.
                let default_port = if scheme == "https" { ":443" } else { ":80" };
                let origin = origin.strip_suffix(default_port).unwrap_or(origin);
                Ok(match origin.strip_suffix(":*") {
                    Some(host) => Pattern::AnyPort(host.to_ascii_lowercase()),
                    None => Pattern::Exact(origin.to_ascii_lowercase()),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            patterns,
            ..Self::default()
        })
    }

    /// A policy for answers any page may read and requests that carry no cookies (tokens
    /// travel in headers and forms): every origin is allowed and answered
    /// `Access-Control-Allow-Origin: *`, and preflights are told `methods` and `headers`.
    pub fn any_origin_without_credentials(methods: &'static str, headers: &'static str) -> Self {
        Self {
            patterns: vec![Pattern::Any],
            star: true,
            methods,
            headers: Some(headers),
            ..Self::default()
        }
    }

    /// Leaves requests under `prefixes` (e.g. `/oidc`) to whatever serves them.
    pub fn skipping(mut self, prefixes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.skipped.extend(prefixes.into_iter().map(Into::into));
        self
    }

    fn skips(&self, path: &str) -> bool {
        self.skipped.iter().any(|prefix| {
            path.strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }

    /// Whether a page at `origin` may call a server reached as `host` (its `Host` header).
    pub fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.to_ascii_lowercase();
        // The server's own origin.
        if let (Some((_, authority)), Some(host)) = (origin.split_once("://"), host)
            && authority.eq_ignore_ascii_case(host)
        {
            return true;
        }
        self.patterns.iter().any(|pattern| match pattern {
            Pattern::Any => true,
            Pattern::Exact(exact) => *exact == origin,
            Pattern::AnyPort(base) => origin.strip_prefix(base.as_str()).is_some_and(|rest| {
                rest.is_empty()
                    || rest.strip_prefix(':').is_some_and(|port| {
                        !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
                    })
            }),
        })
    }
}

/// Applies a [`CorsPolicy`] in front of a service; without one, every request goes through
/// untouched.
#[derive(Clone, Debug, Default)]
pub struct CorsLayer {
    policy: Option<Arc<CorsPolicy>>,
}

impl CorsLayer {
    /// The layer of `policy`, or of none.
    pub fn new(policy: Option<CorsPolicy>) -> Self {
        Self {
            policy: policy.map(Arc::new),
        }
    }
}

impl<S> Layer<S> for CorsLayer {
    type Service = Cors<S>;

    fn layer(&self, inner: S) -> Cors<S> {
        Cors {
            inner,
            policy: self.policy.clone(),
        }
    }
}

/// The service of [`CorsLayer`].
#[derive(Clone, Debug)]
pub struct Cors<S> {
    inner: S,
    policy: Option<Arc<CorsPolicy>>,
}

fn set(headers: &mut HeaderMap, name: header::HeaderName, value: HeaderValue) {
    headers.insert(name, value);
}

/// The headers every answer to an allowed origin carries: the origin named (and the answer
/// varying by it), or `*` under a policy that answers every page alike.
fn allow(headers: &mut HeaderMap, origin: &HeaderValue, star: bool) {
    if star {
        set(
            headers,
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    } else {
        set(headers, header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        headers.append(header::VARY, HeaderValue::from_static("origin"));
    }
}

/// The answer to a page of an origin that may not call.
fn refused(origin: &HeaderValue) -> Response<Body> {
    let text = String::from_utf8_lossy(origin.as_bytes()).into_owned();
    crate::http::error_response(
        ApiError::new(
            Reason::OriginNotAllowed,
            format!(
                "pages at {text} may not call this server; add the origin to gateway.cors.allowed_origins"
            ),
        )
        .with_metadata("origin", text),
    )
}

impl<S, B> Service<Request<B>> for Cors<S>
where
    S: Service<Request<B>, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let inner = self.inner.clone();
        let origin = request.headers().get(header::ORIGIN).cloned();
        let (Some(policy), Some(origin)) = (self.policy.as_ref(), origin) else {
            return Box::pin(inner.oneshot(request));
        };
        if policy.skips(request.uri().path()) {
            return Box::pin(inner.oneshot(request));
        }
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| request.uri().authority().map(|a| a.as_str()));
        let allowed = origin.to_str().is_ok_and(|text| policy.allows(text, host));
        let preflight = request.method() == Method::OPTIONS
            && request
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        if preflight {
            let response = if allowed {
                let mut response = Response::new(Body::empty());
                *response.status_mut() = StatusCode::NO_CONTENT;
                let allowed_headers = match policy.headers {
                    Some(fixed) => HeaderValue::from_static(fixed),
                    None => request
                        .headers()
                        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
                        .cloned()
                        .unwrap_or(HeaderValue::from_static(HEADERS)),
                };
                let headers = response.headers_mut();
                allow(headers, &origin, policy.star);
                set(
                    headers,
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static(policy.methods),
                );
                set(
                    headers,
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    allowed_headers,
                );
                set(
                    headers,
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static(MAX_AGE),
                );
                if policy.headers.is_none() {
                    // The answer repeats what was asked.
                    headers.append(
                        header::VARY,
                        HeaderValue::from_static(
                            "access-control-request-method, access-control-request-headers",
                        ),
                    );
                }
                response
            } else {
                refused(&origin)
            };
            return Box::pin(async move { Ok(response) });
        }
        if !allowed {
            // A page of another origin may not make the call at all: a browser sends some
            // requests (a form's POST, a plain-text body) without asking first.
            let response = refused(&origin);
            return Box::pin(async move { Ok(response) });
        }
        let star = policy.star;
        Box::pin(async move {
            let Ok(mut response) = inner.oneshot(request).await;
            let headers = response.headers_mut();
            // An answer that set its own policy keeps it.
            if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
                allow(headers, &origin, star);
                set(
                    headers,
                    header::ACCESS_CONTROL_EXPOSE_HEADERS,
                    HeaderValue::from_static(EXPOSED),
                );
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_exactly_by_any_port_or_all() {
        let policy = CorsPolicy::new(LOOPBACK_ORIGINS).unwrap();
        assert!(policy.allows("http://localhost:5173", None));
        assert!(policy.allows("http://localhost", None));
        assert!(policy.allows("http://127.0.0.1:3000", None));
        assert!(policy.allows("https://[::1]:8443", None));
        assert!(!policy.allows("http://localhost.evil.example", None));
        assert!(!policy.allows("http://localhost:80x", None));
        assert!(!policy.allows("http://portal.example", None));
        // Its own origin, whatever the list.
        assert!(policy.allows("http://portal.example:4606", Some("portal.example:4606")));
        let exact = CorsPolicy::new(&["https://portal.example"]).unwrap();
        assert!(exact.allows("https://PORTAL.example", None));
        assert!(!exact.allows("http://portal.example", None));
        assert!(
            CorsPolicy::new(&["*"])
                .unwrap()
                .allows("https://any.example", None)
        );
        assert!(
            !CorsPolicy::new(&[] as &[&str])
                .unwrap()
                .allows("http://localhost:1", None)
        );
        let ports = CorsPolicy::new(&["https://portal.example:443", "null"]).unwrap();
        assert!(ports.allows("https://portal.example", None));
        assert!(ports.allows("null", None));
        for bad in [
            "portal.example",
            "ftp://x",
            "https://x/path",
            "https://",
            "https://*.example.com",
        ] {
            assert_eq!(
                CorsPolicy::new(&[bad]).unwrap_err(),
                OriginError(bad.to_owned())
            );
        }
    }

    #[test]
    fn skipped_prefixes_are_whole_segments() {
        let policy = CorsPolicy::default().skipping(["/oidc"]);
        assert!(policy.skips("/oidc"));
        assert!(policy.skips("/oidc/token"));
        assert!(!policy.skips("/oidcx"));
        assert!(!policy.skips("/v1/citizens/1"));
    }

    #[tokio::test]
    async fn an_open_policy_answers_every_origin_with_a_star_and_its_own_preflight() {
        let service = tower::service_fn(|_request: Request<Body>| async {
            Ok::<_, Infallible>(Response::new(Body::from("answer")))
        });
        let layer = CorsLayer::new(Some(CorsPolicy::any_origin_without_credentials(
            "GET, POST, OPTIONS",
            "authorization, content-type",
        )));
        let call = |method: Method, origin: Option<&str>| {
            let preflight = method == Method::OPTIONS;
            let mut request = Request::builder().method(method).uri("/oidc/token");
            if let Some(origin) = origin {
                request = request.header(header::ORIGIN, origin);
            }
            if preflight {
                // As a browser asks before a cross-origin POST.
                request = request.header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST");
            }
            layer
                .layer(service)
                .oneshot(request.body(Body::empty()).unwrap())
        };
        let preflight = call(Method::OPTIONS, Some("https://spa.example"))
            .await
            .unwrap();
        assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
        let headers = preflight.headers();
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(
            headers[header::ACCESS_CONTROL_ALLOW_METHODS],
            "GET, POST, OPTIONS"
        );
        assert_eq!(
            headers[header::ACCESS_CONTROL_ALLOW_HEADERS],
            "authorization, content-type"
        );
        assert_eq!(headers[header::ACCESS_CONTROL_MAX_AGE], "600");
        assert!(!headers.contains_key(header::VARY));
        let answer = call(Method::POST, Some("https://any.example"))
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(answer.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert!(
            !answer
                .headers()
                .contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
        );
        let same_site = call(Method::GET, None).await.unwrap();
        assert!(
            !same_site
                .headers()
                .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        );
    }
}
