//! Requests that do not decode are the caller's to fix: the gRPC library answers them with a
//! bare `INTERNAL` ("failed to decode Protobuf message: …"), which this layer turns into
//! `INVALID_ARGUMENT` with reason `INVALID_ARGUMENT`, as the error contract says, whether the
//! status comes in the response headers (unary calls) or in the trailers (streams).
//!
//! The library's other bare statuses about the framing of a call get the code the gRPC
//! documents give and a reason of their own: no request message where one is required
//! (`UNIMPLEMENTED`, `REQUEST_MESSAGE_MISSING`: a request cardinality violation in the gRPC
//! status codes), a compressed flag without a `grpc-encoding` (`INTERNAL`,
//! `COMPRESSED_WITHOUT_ENCODING`, as gRPC's compression.md requires), and an encoding the server
//! does not read (`UNIMPLEMENTED`, `UNSUPPORTED_ENCODING`, with `grpc-accept-encoding`).

use http::HeaderMap;
use tonic::Code;
use tower::Layer;

use crate::error::{ApiError, Reason};
use crate::status_blocks::{
    Head, StatusBlockRule, StatusBlocks, StatusBlocksBody, StatusBlocksFuture,
};

/// How the gRPC library's message starts when a request message does not decode, is cut
/// short, or carries a bad frame flag (neither 0 nor 1).
const DECODE_FAILURES: &[&str] = &[
    "failed to decode",
    "Unexpected EOF decoding stream",
    "protocol error: received message with invalid compression flag",
    "Error decompressing",
];

/// Layer turning undecodable-request statuses into `INVALID_ARGUMENT`, in the headers and in
/// the trailers.
#[derive(Clone, Copy, Debug, Default)]
pub struct DecodeErrorLayer;

impl StatusBlockRule for DecodeErrorLayer {
    fn headers(&self, headers: &mut HeaderMap) -> Head {
        rewrite(headers);
        Head::Keep
    }

    fn trailers(&self, trailers: &mut HeaderMap) {
        rewrite(trailers);
    }
}

impl<S> Layer<S> for DecodeErrorLayer {
    type Service = DecodeError<S>;

    fn layer(&self, inner: S) -> Self::Service {
        StatusBlocks::new(inner, *self)
    }
}

/// The service of [`DecodeErrorLayer`].
pub type DecodeError<S> = StatusBlocks<S, DecodeErrorLayer>;

/// The future of [`DecodeError`].
pub type DecodeErrorFuture<F> = StatusBlocksFuture<F, DecodeErrorLayer>;

/// The response body of [`DecodeError`]: the service's, its trailers checked.
pub type DecodeErrorBody<B> = StatusBlocksBody<B, DecodeErrorLayer>;

/// How the gRPC library's message starts when a message is flagged compressed and the call
/// names no encoding.
const COMPRESSED_WITHOUT_ENCODING: &str =
    "protocol error: received message with compressed-flag but no grpc-encoding";
/// … when a unary or server-streaming call's request ends without a message.
const MESSAGE_MISSING: &str = "Missing request message";
/// … when the call's `grpc-encoding` is not one the server reads.
const UNSUPPORTED_ENCODING: &str = "Content is compressed with";

/// The contract's error for a bare library status about the request, if it is one.
fn replacement_of(status: &tonic::Status) -> Option<ApiError> {
    let message = status.message();
    match status.code() {
        Code::Internal if message.starts_with(COMPRESSED_WITHOUT_ENCODING) => Some(ApiError::new(
            Reason::CompressedWithoutEncoding,
            "a request message is flagged compressed, but the call names no grpc-encoding: send it uncompressed (flag 0)",
        )),
        Code::Internal if message.starts_with(MESSAGE_MISSING) => Some(ApiError::new(
            Reason::RequestMessageMissing,
            "the request ended without a message: this method takes exactly one",
        )),
        Code::Internal if DECODE_FAILURES.iter().any(|prefix| message.starts_with(prefix)) => {
            // The framing in the suite's words; what the decoder says of the message's fields
            // (their names, what is wrong) kept, bounded.
            let description = if message.starts_with("Unexpected EOF") {
                "the request ends inside a message: its frame announces more bytes than follow"
                    .to_owned()
            } else if message.starts_with("protocol error") {
                "a request message's compressed flag is neither 0 nor 1".to_owned()
            } else {
                let detail = message
                    .split_once(": ")
                    .map_or(message, |(_, detail)| detail);
                format!(
                    "the request message does not decode as the method's type: {}",
                    bounded_detail(detail)
                )
            };
            Some(ApiError::new(Reason::InvalidArgument, description))
        }
        Code::Unimplemented if message.starts_with(UNSUPPORTED_ENCODING) => Some(
            ApiError::new(
                Reason::UnsupportedEncoding,
                "the call's grpc-encoding is not one this server reads: send messages uncompressed (grpc-encoding identity, or none)",
            )
            .with_metadata("accepted", "identity"),
        ),
        _ => None,
    }
}

/// Rewrites a bare library status about the request in `headers` (a status block) as the
/// contract's error.
fn rewrite(headers: &mut HeaderMap) {
    // Cheap first: every answer passes here, and only an INTERNAL or UNIMPLEMENTED one can need
    // rewriting.
    if headers
        .get("grpc-status")
        .is_none_or(|code| code != "13" && code != "12")
    {
        return;
    }
    let Some(status) = tonic::Status::from_header_map(headers) else {
        return;
    };
    if !status.details().is_empty() {
        return;
    }
    let Some(replacement) = replacement_of(&status) else {
        return;
    };
    let replacement: tonic::Status = replacement.into();
    headers.remove("grpc-status-details-bin");
    if replacement.add_header(headers).is_err() {
        tracing::warn!("an undecodable-request status could not be rewritten");
    }
}

/// `text` cut to 200 characters: the library's detail names the message and field, nothing of
/// the caller's data.
fn bounded_detail(text: &str) -> &str {
    match text.char_indices().nth(200) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::error::reason_of;

    fn block(status: &tonic::Status) -> HeaderMap {
        let mut headers = HeaderMap::new();
        status.add_header(&mut headers).unwrap();
        headers
    }

    #[test]
    fn a_decode_failure_becomes_invalid_argument() {
        let mut headers = block(&tonic::Status::internal(
            "failed to decode Protobuf message: GetCitizenRequest.citizen_id: buffer underflow",
        ));
        rewrite(&mut headers);
        let status = tonic::Status::from_header_map(&headers).unwrap();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(reason_of(&status).as_deref(), Some("INVALID_ARGUMENT"));
        assert!(status.message().contains("buffer underflow"), "{status:?}");
    }

    #[test]
    fn other_statuses_are_left_alone() {
        for status in [
            tonic::Status::internal("something else broke"),
            tonic::Status::not_found("failed to decode nothing"),
            ApiError::new(Reason::Internal, "failed to decode, with details").into(),
        ] {
            let mut headers = block(&status);
            let before = headers.clone();
            rewrite(&mut headers);
            assert_eq!(headers, before, "{status:?}");
        }
    }
}
