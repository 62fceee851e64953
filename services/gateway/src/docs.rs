//! The edge's own API pages: the OpenAPI document at `/openapi.json` and a browsable API page at
//! `/docs`, with the bundled viewer served from the binary (no CDN, works offline).

use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use http::{HeaderMap, HeaderValue, header};
use sandbox06_runtime::{ApiError, Reason};
use tower::ServiceExt as _;

use crate::openapi::{ApiDocument, DOCS_PATH, DOCUMENT_PATH};

const PAGE: &str = include_str!("../assets/docs.html");
const SCRIPT: &str = include_str!("../assets/docs.js");

/// Scripts and styles only from the edge itself; inline styles for the viewer's widgets; calls
/// only to the edge (the document's server).
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The base URL a caller reached the edge at, from `Host` (and `X-Forwarded-Proto` behind a
/// proxy); the default edge address without one.
fn base_url(headers: &HeaderMap, uri: &http::Uri) -> String {
    // `Host` over HTTP/1.1, the request's authority over HTTP/2; only a plain host and port.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse::<http::uri::Authority>().ok())
        .or_else(|| uri.authority().cloned())
        .filter(|a| !a.as_str().contains('@'))
        .map_or_else(|| "127.0.0.1:4606".to_owned(), |a| a.as_str().to_owned());
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

fn with_type(body: impl Into<Body>, content_type: &'static str) -> Response {
    let mut response = Response::new(body.into());
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The routes of the document and the page.
/// How the API document is made: once, on the first request for it, so that building it (every
/// route's schemas, patterns and examples) is not part of the suite's start.
pub(crate) type DocumentBuilder = Box<dyn FnOnce() -> ApiDocument + Send>;

pub(crate) fn router(document: DocumentBuilder) -> Router {
    let document = Arc::new(LazyLock::new(document));
    // The viewer's files (script, style, OAuth redirect page), from the bundled distribution.
    let viewer = swagger_ui_dist::generate_routes(swagger_ui_dist::ApiDefinition {
        uri_prefix: DOCS_PATH,
        api_definition: swagger_ui_dist::OpenApiSource::Uri(DOCUMENT_PATH),
        title: Some("sandbox06 API"),
    });
    Router::new()
        .route(
            DOCUMENT_PATH,
            get(move |uri: http::Uri, headers: HeaderMap| {
                let document = Arc::clone(&document);
                async move {
                    let body = document.for_server(&base_url(&headers, &uri)).to_string();
                    let mut response = with_type(body, "application/json");
                    // The server named depends on the address the caller used.
                    response.headers_mut().insert(
                        header::VARY,
                        HeaderValue::from_static("host, x-forwarded-proto"),
                    );
                    response.headers_mut().insert(
                        header::ACCESS_CONTROL_ALLOW_ORIGIN,
                        HeaderValue::from_static("*"),
                    );
                    response
                }
            }),
        )
        .route(
            DOCS_PATH,
            get(|| async {
                let mut response = with_type(PAGE, "text/html; charset=utf-8");
                let headers = response.headers_mut();
                headers.insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(CSP),
                );
                headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
                headers.insert(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                );
                response
            }),
        )
        .route(
            "/docs/",
            get(|| async { Redirect::permanent(DOCS_PATH).into_response() }),
        )
        .route(
            "/docs/sandbox06.js",
            get(|| async { with_type(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/docs/{asset}",
            get(move |request: Request| {
                let viewer = viewer.clone();
                async move {
                    let path = request.uri().path().to_owned();
                    let Ok(mut response) = viewer.oneshot(request).await;
                    if response.status() == http::StatusCode::NOT_FOUND {
                        return sandbox06_runtime::http::error_response(ApiError::new(
                            Reason::RouteNotFound,
                            format!("no page at {path}; the API page is at {DOCS_PATH}"),
                        ));
                    }
                    response.headers_mut().insert(
                        header::CACHE_CONTROL,
                        HeaderValue::from_static("public, max-age=3600"),
                    );
                    response
                }
            }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_url_follows_the_host_the_caller_used() {
        let none = http::Uri::from_static("/openapi.json");
        let mut headers = HeaderMap::new();
        assert_eq!(base_url(&headers, &none), "http://127.0.0.1:4606");
        // HTTP/2: no Host, the authority of the request.
        let h2 = http::Uri::from_static("http://sandbox.example:4606/openapi.json");
        assert_eq!(base_url(&headers, &h2), "http://sandbox.example:4606");
        headers.insert(header::HOST, HeaderValue::from_static("localhost:9000"));
        assert_eq!(base_url(&headers, &none), "http://localhost:9000");
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(base_url(&headers, &none), "https://localhost:9000");
        for bad in ["evil\"/x", "x@evil.example", "a b", "h#x"] {
            headers.insert(header::HOST, HeaderValue::from_static(bad));
            assert_eq!(base_url(&headers, &none), "https://127.0.0.1:4606", "{bad}");
        }
    }
}
