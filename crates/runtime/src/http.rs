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
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::MatchedPath;
use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body::{Frame, SizeHint};
use tonic::{Code, Status};
use tonic_types::StatusExt;
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceExt};
use tracing::Span;

use crate::error::{ApiError, ErrorReason, Reason, code_name};
pub use crate::telemetry::{HttpTrace, HttpTraceLayer, HttpTracedFuture};

/// `@type` of an `ErrorInfo` detail.
const ERROR_INFO_TYPE: &str = "type.googleapis.com/google.rpc.ErrorInfo";
/// `@type` of a `BadRequest` detail.
const BAD_REQUEST_TYPE: &str = "type.googleapis.com/google.rpc.BadRequest";

/// Whether `request` is a gRPC call: its content type is `application/grpc` or one of its
/// variants (`application/grpc+proto`, `application/grpc-web`...). Only the header decides,
/// never the body, so a JSON body starting with any byte stays HTTP.
pub fn is_grpc<B>(request: &Request<B>) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/grpc"))
}

/// The gRPC-Web content types: binary and base64 text, each with or without `+proto`.
pub const GRPC_WEB_TYPES: [&str; 4] = [
    "application/grpc-web",
    "application/grpc-web+proto",
    "application/grpc-web-text",
    "application/grpc-web-text+proto",
];

/// Whether `request` says it is gRPC-Web (`application/grpc-web...`), supported or not.
pub fn is_grpc_web<B>(request: &Request<B>) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/grpc-web"))
}

/// Whether `request` is gRPC-Web in a content type this server reads ([`GRPC_WEB_TYPES`]).
fn is_supported_grpc_web<B>(request: &Request<B>) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| GRPC_WEB_TYPES.contains(&value.trim()))
}

/// Whether `request` is gRPC in a content type this server reads: `application/grpc` or
/// `application/grpc+proto` (parameters aside).
fn is_supported_grpc<B>(request: &Request<B>) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|media| media.trim().to_ascii_lowercase())
        .is_some_and(|media| media == "application/grpc" || media == "application/grpc+proto")
}

/// A refusal of a gRPC or gRPC-Web call with an HTTP status other than 200 (which tells HTTP
/// clients and proxies the call was not served), its status in the headers as a trailers-only
/// answer, for gRPC clients.
fn grpc_refusal(http: StatusCode, error: ApiError, content_type: HeaderValue) -> Response<Body> {
    let (mut parts, ()) = Status::from(error).into_http::<()>().into_parts();
    parts.status = http;
    parts.headers.insert(header::CONTENT_TYPE, content_type);
    Response::from_parts(parts, Body::empty())
}

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

/// Layer sending gRPC calls ([`is_grpc`]) to the inner gRPC stack and every other request to
/// the HTTP side.
#[derive(Clone)]
pub struct ProtocolSplitLayer {
    http: HttpService,
}

impl std::fmt::Debug for ProtocolSplitLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProtocolSplitLayer").finish_non_exhaustive()
    }
}

impl ProtocolSplitLayer {
    /// Splits towards `http` for every request that is not gRPC.
    pub fn new(http: HttpService) -> Self {
        Self { http }
    }
}

impl<S> Layer<S> for ProtocolSplitLayer {
    type Service = ProtocolSplit<S>;

    fn layer(&self, grpc: S) -> Self::Service {
        ProtocolSplit {
            grpc,
            http: self.http.clone(),
        }
    }
}

/// The service of [`ProtocolSplitLayer`].
#[derive(Clone)]
pub struct ProtocolSplit<S> {
    grpc: S,
    http: HttpService,
}

impl<S> std::fmt::Debug for ProtocolSplit<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProtocolSplit").finish_non_exhaustive()
    }
}

impl<S, B, ResBody> Service<Request<B>> for ProtocolSplit<S>
where
    S: Service<Request<tonic::body::Body>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<axum::BoxError> + std::fmt::Display,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Each request readies the side it goes to.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if is_grpc_web(&request) && !is_supported_grpc_web(&request) {
            // `+json` and the like: a clear refusal rather than a gRPC answer the client
            // cannot read.
            let response = json_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &error_body(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    &Status::from(ApiError::new(
                        Reason::UnsupportedEncoding,
                        format!("gRPC-Web is read as {}", GRPC_WEB_TYPES.join(", ")),
                    )),
                ),
            );
            return Box::pin(async move { Ok(response) });
        }
        if is_grpc(&request) && !is_grpc_web(&request) && !is_supported_grpc(&request) {
            // A message encoding other than protobuf (`application/grpc+json`): the gRPC
            // protocol's 415, with the status a gRPC client reads.
            let response = grpc_refusal(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ApiError::new(
                    Reason::UnsupportedEncoding,
                    "gRPC calls are read as application/grpc or application/grpc+proto (protobuf messages)",
                ),
                HeaderValue::from_static("application/grpc"),
            );
            return Box::pin(async move { Ok(response) });
        }
        if is_grpc(&request) && request.method() != http::Method::POST {
            // gRPC (and gRPC-Web) calls are POSTs; a GET is no call.
            let content_type = if is_grpc_web(&request) {
                crate::grpc_web::answer_type(crate::grpc_web::answers_in_text(&request))
            } else {
                HeaderValue::from_static("application/grpc")
            };
            let mut response = grpc_refusal(
                StatusCode::METHOD_NOT_ALLOWED,
                ApiError::new(
                    Reason::HttpMethodNotAllowed,
                    format!("a gRPC call is a POST, not a {}", request.method()),
                )
                .with_metadata("allowed", "POST"),
                content_type,
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return Box::pin(async move { Ok(response) });
        }
        if is_grpc_web(&request) {
            // gRPC-Web (binary or base64 text), as browsers send it over HTTP/1.1 or HTTP/2:
            // translated to gRPC for the same services, the trailers put back into the body.
            let web = tonic_web::GrpcWebLayer::new().layer(self.grpc.clone());
            let text_answer = crate::grpc_web::answers_in_text(&request);
            // A text body decoded here, a body that is not base64 refused as the caller's
            // error; the answer in the encoding the caller reads.
            let (request, refused) = crate::grpc_web::prepare(request);
            // The length of a base64 body is not the length of the call it becomes: the body
            // goes on without one.
            let mut request =
                request.map(|body| Body::from_stream(Body::new(body).into_data_stream()));
            // What belongs to an HTTP/1.1 connection has no place in the gRPC call it becomes.
            for name in [
                header::HOST,
                header::CONNECTION,
                header::TRANSFER_ENCODING,
                header::UPGRADE,
                header::HeaderName::from_static("keep-alive"),
                header::HeaderName::from_static("proxy-connection"),
            ] {
                request.headers_mut().remove(name);
            }
            Box::pin(async move {
                let response = web.oneshot(request).await?;
                let mut refused = refused;
                // A body that was not base64 fails the call on its way; the caller learns why.
                if let Ok(error) = refused.try_recv() {
                    return Ok(grpc_refusal(
                        StatusCode::BAD_REQUEST,
                        error,
                        crate::grpc_web::answer_type(text_answer),
                    ));
                }
                Ok(response.map(Body::new))
            })
        } else if is_grpc(&request) {
            let grpc = self.grpc.clone();
            let request = request.map(tonic::body::Body::new);
            Box::pin(async move {
                let response = grpc.oneshot(request).await?;
                Ok(response.map(Body::new))
            })
        } else {
            let http = self.http.clone();
            let request = request.map(Body::new);
            Box::pin(async move {
                match http.oneshot(request).await {
                    Ok(response) => Ok(response),
                    Err(never) => match never {},
                }
            })
        }
    }
}

/// Layer refusing request bodies above `max_bytes` with the JSON 413: at once when the
/// `content-length` says so, otherwise when the streamed body passes the limit.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimitLayer {
    max_bytes: usize,
}

impl BodyLimitLayer {
    /// Refuses bodies longer than `max_bytes`.
    pub fn new(max_bytes: usize) -> Self {
        Self { max_bytes }
    }
}

impl<S> Layer<S> for BodyLimitLayer {
    type Service = BodyLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BodyLimit {
            inner,
            max_bytes: self.max_bytes,
        }
    }
}

/// The service of [`BodyLimitLayer`].
#[derive(Clone, Debug)]
pub struct BodyLimit<S> {
    inner: S,
    max_bytes: usize,
}

impl<S> Service<Request<Body>> for BodyLimit<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let max_bytes = self.max_bytes;
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if declared.is_some_and(|len| len > max_bytes as u64) {
            tracing::info!(limit_bytes = max_bytes, "request body refused as too large");
            return Box::pin(async move { Ok(body_too_large(max_bytes)) });
        }
        let exceeded = Arc::new(AtomicBool::new(false));
        let request = request.map(|inner| {
            Body::new(LimitedBody {
                inner,
                left: max_bytes,
                exceeded: Arc::clone(&exceeded),
            })
        });
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await?;
            // Whatever the handler or the backend made of the cut body, the caller learns why.
            if exceeded.load(Ordering::Acquire) {
                tracing::info!(limit_bytes = max_bytes, "request body refused as too large");
                return Ok(body_too_large(max_bytes));
            }
            Ok(response)
        })
    }
}

pin_project_lite::pin_project! {
    /// Request body of [`BodyLimit`]: fails once more than the limit has streamed through.
    struct LimitedBody {
        #[pin]
        inner: Body,
        left: usize,
        exceeded: Arc<AtomicBool>,
    }
}

/// The error of a request body cut at the limit (`limits.max_request_bytes`).
#[derive(Debug, thiserror::Error)]
#[error("request body is above the limit")]
pub struct BodyTooLarge;

impl http_body::Body for LimitedBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = match std::task::ready!(this.inner.poll_frame(cx)) {
            None => return Poll::Ready(None),
            Some(Err(error)) => return Poll::Ready(Some(Err(error.into()))),
            Some(Ok(frame)) => frame,
        };
        if let Some(data) = frame.data_ref() {
            if data.len() > *this.left {
                this.exceeded.store(true, Ordering::Release);
                return Poll::Ready(Some(Err(Box::new(BodyTooLarge))));
            }
            *this.left -= data.len();
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
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
