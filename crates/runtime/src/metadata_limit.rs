//! Bounds on a call's metadata (HTTP/2 header blocks: headers and trailers), so that one call
//! can never fail the connection it shares with others.
//!
//! Every peer of the suite accepts header blocks up to [`crate::http2::MAX_HEADER_LIST_SIZE`]
//! (16 KiB, counted as HTTP/2 counts them: name, value and 32 bytes per field). A larger block is
//! not a failure of one call: the HTTP/2 library of the peer gives up on the connection's header
//! compression state (`COMPRESSION_ERROR`) or calls it abuse (`ENHANCE_YOUR_CALM`), and every
//! call on that connection fails — at the edge, the calls of every client to that backend.
//!
//! So every server checks what it sends ([`ResponseMetadataLimitLayer`]): an answer whose headers
//! or trailers are above [`MAX_RESPONSE_METADATA_BYTES`] is replaced by a small `INTERNAL` status
//! with reason `RESPONSE_METADATA_TOO_LARGE`, and only that call fails. The edge checks what it
//! forwards ([`request_fits`]).

use http::HeaderMap;
use tower::Layer;

use crate::error::{ApiError, Reason};
use crate::http2::MAX_HEADER_LIST_SIZE;
use crate::status_blocks::{
    Head, StatusBlockRule, StatusBlocks, StatusBlocksBody, StatusBlocksFuture,
};

/// Largest header block (response headers or trailers) a server sends, in HTTP/2's count: well
/// below what its peers accept, with room for what a proxy adds.
pub const MAX_RESPONSE_METADATA_BYTES: usize = 12 * 1024;

/// What the edge keeps free, below the backend's limit, for what the HTTP/2 client adds to a
/// forwarded request (pseudo-headers, `te`, `user-agent`).
const FORWARD_MARGIN_BYTES: usize = 512;

/// Largest request header block the edge forwards to a backend, in HTTP/2's count.
pub const MAX_FORWARDED_METADATA_BYTES: usize =
    MAX_HEADER_LIST_SIZE as usize - FORWARD_MARGIN_BYTES;

/// The size of `headers` as HTTP/2 counts it against `SETTINGS_MAX_HEADER_LIST_SIZE`: each
/// field's name and value, plus 32.
pub fn header_list_size(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 32)
        .sum()
}

/// Whether a request with `headers` to `path` fits what a backend accepts; otherwise the
/// refusal to answer with (`RESOURCE_EXHAUSTED`, reason `METADATA_TOO_LARGE`).
pub fn request_fits(path: &str, headers: &HeaderMap) -> Result<(), ApiError> {
    // `:method`, `:scheme`, `:authority` (a short host) and `:path`.
    let pseudo = (7 + 4 + 32) + (7 + 5 + 32) + (10 + 64 + 32) + (5 + path.len() + 32);
    let size = header_list_size(headers) + pseudo;
    if size <= MAX_FORWARDED_METADATA_BYTES {
        return Ok(());
    }
    Err(ApiError::new(
        Reason::MetadataTooLarge,
        format!(
            "the call's metadata is {size} bytes, above the limit of {MAX_FORWARDED_METADATA_BYTES} bytes"
        ),
    )
    .with_metadata("limit_bytes", MAX_FORWARDED_METADATA_BYTES.to_string())
    .with_metadata("metadata_bytes", size.to_string()))
}

/// The status block that replaces an oversized one of `size` bytes.
fn replacement(what: &str, size: usize) -> HeaderMap {
    tracing::warn!(
        size_bytes = size,
        limit_bytes = MAX_RESPONSE_METADATA_BYTES,
        "an answer's {what} are above the limit: the call fails alone"
    );
    let status: tonic::Status = ApiError::new(
        Reason::ResponseMetadataTooLarge,
        format!(
            "the answer's {what} are {size} bytes, above the limit of {MAX_RESPONSE_METADATA_BYTES} bytes"
        ),
    )
    .with_metadata("limit_bytes", MAX_RESPONSE_METADATA_BYTES.to_string())
    .with_metadata("metadata_bytes", size.to_string())
    .into();
    status.into_http::<()>().into_parts().0.headers
}

/// Layer bounding every answer's headers and trailers to [`MAX_RESPONSE_METADATA_BYTES`]: an
/// oversized header block replaces the answer by a trailers-only status, an oversized trailers
/// block is replaced by that status.
#[derive(Clone, Copy, Debug, Default)]
pub struct ResponseMetadataLimitLayer;

impl StatusBlockRule for ResponseMetadataLimitLayer {
    fn headers(&self, headers: &mut HeaderMap) -> Head {
        let size = header_list_size(headers);
        if size > MAX_RESPONSE_METADATA_BYTES {
            return Head::Replace(replacement("headers", size));
        }
        Head::Keep
    }

    fn trailers(&self, trailers: &mut HeaderMap) {
        let size = header_list_size(trailers);
        if size > MAX_RESPONSE_METADATA_BYTES {
            *trailers = replacement("trailers", size);
        }
    }
}

impl<S> Layer<S> for ResponseMetadataLimitLayer {
    type Service = ResponseMetadataLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        StatusBlocks::new(inner, *self)
    }
}

/// The service of [`ResponseMetadataLimitLayer`].
pub type ResponseMetadataLimit<S> = StatusBlocks<S, ResponseMetadataLimitLayer>;

/// The future of [`ResponseMetadataLimit`].
pub type MetadataLimitFuture<F> = StatusBlocksFuture<F, ResponseMetadataLimitLayer>;

/// The response body of [`ResponseMetadataLimit`]: the service's, its trailers checked.
pub type LimitedMetadataBody<B> = StatusBlocksBody<B, ResponseMetadataLimitLayer>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::convert::Infallible;

    use bytes::Bytes;
    use http::{Request, Response};
    use http_body::Frame;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use crate::error::reason_of;

    fn oversized_status() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-status", "3".parse().unwrap());
        headers.insert("grpc-message", "a".repeat(20_000).parse().unwrap());
        headers
    }

    fn status_of(headers: &HeaderMap) -> tonic::Status {
        tonic::Status::from_header_map(headers).unwrap()
    }

    #[tokio::test]
    async fn oversized_headers_become_a_small_status_of_their_own() {
        let service = ResponseMetadataLimitLayer.layer(tower::service_fn(|_: Request<()>| async {
            let mut response = Response::new(http_body_util::Full::new(Bytes::from("body")));
            *response.headers_mut() = oversized_status();
            Ok::<_, Infallible>(response)
        }));
        let response = service.oneshot(Request::new(())).await.unwrap();
        assert!(header_list_size(response.headers()) < 1024);
        let status = status_of(response.headers());
        assert_eq!(status.code(), tonic::Code::Internal);
        assert_eq!(
            reason_of(&status).as_deref(),
            Some("RESPONSE_METADATA_TOO_LARGE")
        );
        let body = response.into_body().collect().await.unwrap();
        assert!(body.to_bytes().is_empty());
    }

    #[tokio::test]
    async fn oversized_trailers_become_a_small_status_and_small_ones_pass() {
        for (trailers, oversized) in [(oversized_status(), true), (block_ok(), false)] {
            let service =
                ResponseMetadataLimitLayer.layer(tower::service_fn(move |_: Request<()>| {
                    let trailers = trailers.clone();
                    async move {
                        let body = http_body_util::StreamBody::new(futures::stream::iter([
                            Ok::<_, Infallible>(Frame::data(Bytes::from("message"))),
                            Ok(Frame::trailers(trailers)),
                        ]));
                        Ok::<_, Infallible>(Response::new(body))
                    }
                }));
            let response = service.oneshot(Request::new(())).await.unwrap();
            let collected = response.into_body().collect().await.unwrap();
            let trailers = collected.trailers().unwrap().clone();
            assert_eq!(collected.to_bytes(), "message");
            let status = status_of(&trailers);
            if oversized {
                assert!(header_list_size(&trailers) < 1024);
                assert_eq!(
                    reason_of(&status).as_deref(),
                    Some("RESPONSE_METADATA_TOO_LARGE")
                );
            } else {
                assert_eq!(status.code(), tonic::Code::Ok);
            }
        }
    }

    fn block_ok() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-status", "0".parse().unwrap());
        headers
    }

    #[test]
    fn a_request_above_what_a_backend_takes_is_refused_with_a_reason() {
        let mut headers = HeaderMap::new();
        headers.insert("x-small", "v".parse().unwrap());
        assert!(request_fits("/a.B/C", &headers).is_ok());
        headers.insert("x-big", "v".repeat(16_000).parse().unwrap());
        let refused = tonic::Status::from(request_fits("/a.B/C", &headers).unwrap_err());
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        assert_eq!(reason_of(&refused).as_deref(), Some("METADATA_TOO_LARGE"));
    }
}
