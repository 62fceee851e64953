//! The split of every request by protocol, on its content type alone: gRPC (and gRPC-Web,
//! translated) to the gRPC stack, everything else to the HTTP side.

use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderValue, Request, Response, StatusCode, header};
use tonic::Status;
use tower::{Layer, Service, ServiceExt};

use super::{HttpService, error_body, json_response};
use crate::error::{ApiError, Reason};

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
