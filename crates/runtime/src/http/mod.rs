//! The HTTP side of every server, next to gRPC on the same listener: the split by protocol
//! ([`ProtocolSplitLayer`]), the HTTP stack (request body limit, [`HttpTraceLayer`], a JSON 404
//! for unknown paths) and the JSON error shape.
//!
//! Errors are the `google.rpc.Status` in its proto3 JSON form, as Google APIs answer REST
//! clients, with the HTTP status mapped from the gRPC code ([`http_status`]):
//!
//! ```json
//! {"error": {"code": 404, "status": "NOT_FOUND", "message": "no route at /nope",
//!   "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
//!     "reason": "ROUTE_NOT_FOUND", "domain": "sandbox06.vn", "metadata": {"path": "/nope"}}]}}
//! ```

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::body::Body;
use axum::extract::MatchedPath;
use http::{HeaderValue, Request, Response, StatusCode, header};
use tonic::{Code, Status};
use tonic_types::StatusExt;
use tower::Layer;
use tower::util::BoxCloneSyncService;
use tracing::Span;

use crate::error::{ApiError, ErrorReason, Reason, code_name};
pub use crate::telemetry::{HttpTrace, HttpTraceLayer, HttpTracedFuture};

mod body_limit;
mod split;

pub use body_limit::{BodyLimit, BodyLimitLayer, BodyTooLarge};
pub use split::{GRPC_WEB_TYPES, ProtocolSplit, ProtocolSplitLayer, is_grpc, is_grpc_web};

/// `@type` of an `ErrorInfo` detail.
const ERROR_INFO_TYPE: &str = "type.googleapis.com/google.rpc.ErrorInfo";
/// `@type` of a `BadRequest` detail.
const BAD_REQUEST_TYPE: &str = "type.googleapis.com/google.rpc.BadRequest";

/// The standard HTTP status of a gRPC code (the mapping Google APIs use).
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        // 499 Client Closed Request is not in the registry, but is what Google APIs return.
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The JSON error body of `status`: `{"error": {code, status, message, details}}`, with its
/// `ErrorInfo` and `BadRequest` details in proto3 JSON form (other detail types are left out).
pub fn error_body(http: StatusCode, status: &Status) -> serde_json::Value {
    let details = status.get_error_details();
    let mut rendered = Vec::new();
    if let Some(info) = details.error_info() {
        let metadata: BTreeMap<&String, &String> = info.metadata.iter().collect();
        rendered.push(serde_json::json!({
            "@type": ERROR_INFO_TYPE,
            "reason": info.reason,
            "domain": info.domain,
            "metadata": metadata,
        }));
    }
    if let Some(bad_request) = details.bad_request() {
        let violations: Vec<serde_json::Value> = bad_request
            .field_violations
            .iter()
            .map(|violation| {
                let mut rendered = serde_json::json!({
                    "field": violation.field,
                    "description": violation.description,
                });
                if !violation.reason.is_empty() {
                    rendered["reason"] = violation.reason.clone().into();
                }
                rendered
            })
            .collect();
        rendered.push(serde_json::json!({
            "@type": BAD_REQUEST_TYPE,
            "fieldViolations": violations,
        }));
    }
    serde_json::json!({
        "error": {
            "code": http.as_u16(),
            "status": code_name(status.code()),
            "message": status.message(),
            "details": rendered,
        }
    })
}

/// The HTTP answer to a failed call: [`http_status`] of its code (413 for `REQUEST_TOO_LARGE`,
/// which clients must not retry as a rate limit) and the [`error_body`] as JSON.
pub fn status_response(status: &Status) -> Response<Body> {
    let reason = status.get_details_error_info().map(|info| info.reason);
    let http = if reason.as_deref() == Some(Reason::RequestTooLarge.as_str()) {
        StatusCode::PAYLOAD_TOO_LARGE
    } else if reason.as_deref() == Some(Reason::HttpMethodNotAllowed.as_str()) {
        StatusCode::METHOD_NOT_ALLOWED
    } else {
        http_status(status.code())
    };
    json_response(http, &error_body(http, status))
}

/// [`status_response`] of `error`.
pub fn error_response(error: ApiError) -> Response<Body> {
    status_response(&Status::from(error))
}

/// The JSON 404 for a request to `path`, which no route claims.
pub fn route_not_found(path: &str) -> Response<Body> {
    let path = crate::mask::path(path);
    error_response(
        ApiError::new(Reason::RouteNotFound, format!("no route at {path}"))
            .with_metadata("path", path),
    )
}

/// The refusal of a request body above `max_bytes`.
fn body_too_large(max_bytes: usize) -> Response<Body> {
    error_response(
        ApiError::new(
            Reason::RequestTooLarge,
            format!("request body is above the limit of {max_bytes} bytes"),
        )
        .with_metadata("limit_bytes", max_bytes.to_string()),
    )
}

fn json_response(http: StatusCode, body: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = http;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The boxed HTTP side of a server.
pub type HttpService = BoxCloneSyncService<Request<Body>, Response<Body>, Infallible>;

/// The HTTP side of a server: `router`, then `fallback` for paths it does not claim (the JSON
/// 404 when `None`), behind the body limit and the trace layer.
pub fn http_service(
    router: axum::Router,
    fallback: Option<HttpService>,
    max_body_bytes: usize,
    component: &'static str,
) -> HttpService {
    let router = match fallback {
        Some(fallback) => router.fallback_service(fallback),
        None => router.fallback(|request: Request<Body>| async move {
            route_not_found(request.uri().path())
        }),
    };
    // Inside the router, where the matched route is known.
    let router = router.layer(axum::middleware::from_fn(record_route));
    let service = (
        HttpTraceLayer::new(component),
        BodyLimitLayer::new(max_body_bytes),
    )
        .layer(router);
    BoxCloneSyncService::new(service)
}

/// Records the matched route template (never the path, which may carry personal data) on the
/// current HTTP span.
async fn record_route(request: Request<Body>, next: axum::middleware::Next) -> Response<Body> {
    if let Some(route) = request.extensions().get::<MatchedPath>() {
        record_http_route(route.as_str());
    }
    next.run(request).await
}

/// Records `route` (a template or prefix, not the raw path) as `http.route` of the HTTP span.
pub fn record_http_route(route: &str) {
    Span::current().record("http.route", route);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use bytes::Bytes;
    use tower::ServiceExt;

    use super::*;

    async fn json_of(response: Response<Body>) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn codes_map_to_the_standard_statuses() {
        let expected = [
            (Code::InvalidArgument, 400),
            (Code::FailedPrecondition, 400),
            (Code::OutOfRange, 400),
            (Code::Unauthenticated, 401),
            (Code::PermissionDenied, 403),
            (Code::NotFound, 404),
            (Code::AlreadyExists, 409),
            (Code::Aborted, 409),
            (Code::ResourceExhausted, 429),
            (Code::Cancelled, 499),
            (Code::Unimplemented, 501),
            (Code::Unavailable, 503),
            (Code::DeadlineExceeded, 504),
            (Code::Internal, 500),
            (Code::Unknown, 500),
            (Code::DataLoss, 500),
        ];
        for (code, status) in expected {
            assert_eq!(http_status(code).as_u16(), status, "{code:?}");
        }
    }

    #[tokio::test]
    async fn api_error_becomes_the_google_json_error() {
        let error = ApiError::invalid_field(
            Reason::InvalidArgument,
            "citizen_id",
            "must be 12 digits, got 11",
        )
        .with_metadata("citizen_id", "058*******3");
        let response = error_response(error);
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let body = json_of(response).await;
        assert_eq!(
            body,
            serde_json::json!({"error": {
                "code": 400,
                "status": "INVALID_ARGUMENT",
                "message": "citizen_id: must be 12 digits, got 11",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "INVALID_ARGUMENT",
                        "domain": "sandbox06.vn",
                        "metadata": {"citizen_id": "058*******3"},
                    },
                    {
                        "@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [
                            {"field": "citizen_id", "description": "must be 12 digits, got 11"},
                        ],
                    },
                ],
            }})
        );
    }

    #[tokio::test]
    async fn plain_status_has_no_details() {
        let body = json_of(status_response(&Status::unavailable("down"))).await;
        assert_eq!(body["error"]["code"], 503);
        assert_eq!(body["error"]["status"], "UNAVAILABLE");
        assert_eq!(body["error"]["details"], serde_json::json!([]));
    }

    #[tokio::test]
    async fn unknown_route_is_a_json_404() {
        let response = route_not_found("/nope");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body = json_of(response).await;
        assert_eq!(body["error"]["status"], "NOT_FOUND");
        assert_eq!(
            body["error"]["details"][0]["reason"],
            Reason::RouteNotFound.as_str()
        );
        assert_eq!(body["error"]["details"][0]["metadata"]["path"], "/nope");
    }

    #[test]
    fn only_the_content_type_makes_a_call_grpc() {
        let with = |content_type: &str| {
            Request::builder()
                .header(header::CONTENT_TYPE, content_type)
                .body(())
                .unwrap()
        };
        assert!(is_grpc(&with("application/grpc")));
        assert!(is_grpc(&with("application/grpc+proto")));
        assert!(!is_grpc(&with("application/json")));
        assert!(!is_grpc(&Request::new(())));
    }

    #[tokio::test]
    async fn bodies_above_the_limit_are_refused_declared_or_streamed() {
        let echo = axum::Router::new().route(
            "/echo",
            axum::routing::post(|body: Bytes| async move { body }),
        );
        let service = http_service(echo, None, 8, "test");

        let declared = Request::post("/echo")
            .header(header::CONTENT_LENGTH, "9")
            .body(Body::from("123456789"))
            .unwrap();
        let response = service.clone().oneshot(declared).await.unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body = json_of(response).await;
        assert_eq!(body["error"]["details"][0]["reason"], "REQUEST_TOO_LARGE");

        let chunks = futures::stream::iter([
            Ok::<_, Infallible>(Bytes::from_static(b"12345")),
            Ok(Bytes::from_static(b"6789")),
        ]);
        let streamed = Request::post("/echo")
            .body(Body::from_stream(chunks))
            .unwrap();
        let response = service.clone().oneshot(streamed).await.unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

        let small = Request::post("/echo").body(Body::from("12345678")).unwrap();
        let response = service.oneshot(small).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
}
