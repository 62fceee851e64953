//! What the edge does to a gRPC-Web call before the gRPC-Web translation reads it: the
//! base64 of a text call (`application/grpc-web-text`) is decoded here, so that a body that is
//! not base64 is refused as the caller's error (`INVALID_ARGUMENT`, HTTP 400, saying where),
//! not as a transport failure; and the answer's encoding is chosen as the gRPC-Web protocol
//! says: the one the client's `Accept` names, else the request's own (a text call is answered in
//! text).

use std::pin::Pin;
use std::task::{Context, Poll};

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Request, header};
use http_body::{Body, Frame, SizeHint};
use tokio::sync::oneshot;

use crate::error::{ApiError, Reason};

/// The text content types, whose bodies are base64.
const TEXT_TYPES: [&str; 2] = [
    "application/grpc-web-text",
    "application/grpc-web-text+proto",
];
/// The binary content types.
const BINARY_TYPES: [&str; 2] = ["application/grpc-web", "application/grpc-web+proto"];

/// The media types of a header's value, without parameters, lowercased.
fn media_types(value: &HeaderValue) -> impl Iterator<Item = String> + '_ {
    value.to_str().unwrap_or_default().split(',').map(|part| {
        part.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    })
}

/// Whether `request` is a gRPC-Web text call.
pub fn is_text<B>(request: &Request<B>) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| media_types(value).any(|t| TEXT_TYPES.contains(&t.as_str())))
}

/// Whether the answer to `request` is to be text: the encoding its `Accept` names, else the
/// request's own.
pub fn answers_in_text<B>(request: &Request<B>) -> bool {
    let mut named = None;
    for value in request.headers().get_all(header::ACCEPT) {
        for media in media_types(value) {
            if TEXT_TYPES.contains(&media.as_str()) {
                return true;
            }
            if BINARY_TYPES.contains(&media.as_str()) {
                named = Some(false);
            }
        }
    }
    named.unwrap_or_else(|| is_text(request))
}

/// The content type of an answer in text or binary.
pub fn answer_type(text: bool) -> HeaderValue {
    HeaderValue::from_static(if text {
        "application/grpc-web-text+proto"
    } else {
        "application/grpc-web+proto"
    })
}

/// Prepares a gRPC-Web call for the translation: the answer's encoding set in `Accept` (which the
/// translation reads), and a text call's body decoded to binary. The receiver gets the refusal of
/// a body that is not base64, if one comes.
pub fn prepare<B>(request: Request<B>) -> (Request<Base64Body<B>>, oneshot::Receiver<ApiError>) {
    let text_answer = answers_in_text(&request);
    let text = is_text(&request);
    let (refused_tx, refused_rx) = oneshot::channel();
    let (mut parts, body) = request.into_parts();
    parts
        .headers
        .insert(header::ACCEPT, answer_type(text_answer));
    if text {
        parts
            .headers
            .insert(header::CONTENT_TYPE, answer_type(false));
        parts.headers.remove(header::CONTENT_LENGTH);
    }
    let body = Base64Body {
        inner: body,
        decoding: text,
        pending: BytesMut::new(),
        offset: 0,
        refused: Some(refused_tx),
    };
    (Request::from_parts(parts, body), refused_rx)
}

/// The error a refused body ends with (the caller gets the refusal, not this).
#[derive(Debug, thiserror::Error)]
#[error("the gRPC-Web text body is not base64")]
pub struct NotBase64;

pin_project_lite::pin_project! {
    /// A gRPC-Web request body: passed on as it is (binary), or decoded from base64 (text), a
    /// whole base64 group at a time; padded groups may come one after another, as clients that
    /// encode each message on its own send them.
    pub struct Base64Body<B> {
        #[pin]
        inner: B,
        decoding: bool,
        pending: BytesMut,
        // Characters decoded so far, to say where a bad one is.
        offset: usize,
        refused: Option<oneshot::Sender<ApiError>>,
    }
}

/// Why a text body is refused, in the caller's terms.
fn not_base64(problem: String) -> ApiError {
    ApiError::new(
        Reason::InvalidArgument,
        format!("the gRPC-Web text body (application/grpc-web-text) is not base64: {problem}"),
    )
    .with_metadata("content_type", "application/grpc-web-text")
}

/// Decodes the whole groups at the start of `pending`: the bytes, or what is wrong.
fn decode_groups(pending: &mut BytesMut, offset: &mut usize) -> Result<Bytes, ApiError> {
    let mut out = BytesMut::new();
    loop {
        let whole = pending.len() / 4 * 4;
        if whole == 0 {
            return Ok(out.freeze());
        }
        // Up to the end of the first padded group, if any: padding ends a chunk.
        let end = pending[..whole]
            .iter()
            .position(|b| *b == b'=')
            .map_or(whole, |at| (at / 4 + 1) * 4);
        let chunk = pending.split_to(end);
        match base64::engine::general_purpose::STANDARD.decode(&chunk) {
            Ok(bytes) => out.extend_from_slice(&bytes),
            Err(error) => {
                let problem = match error {
                    base64::DecodeError::InvalidByte(at, byte)
                    | base64::DecodeError::InvalidLastSymbol(at, byte) => {
                        format!(
                            "character {} at offset {} is not one of base64",
                            crate::error::quote(&char::from(byte).to_string()),
                            *offset + at
                        )
                    }
                    _ => format!("a group of four characters at offset {offset} is malformed"),
                };
                return Err(not_base64(problem));
            }
        }
        *offset += end;
    }
}

impl<B> Base64Body<B> {
    fn refuse(
        refused: &mut Option<oneshot::Sender<ApiError>>,
        error: ApiError,
    ) -> Poll<Option<Result<Frame<Bytes>, crate::limit::BoxError>>> {
        tracing::info!(reason = %error.reason, "gRPC-Web text body refused");
        if let Some(refused) = refused.take() {
            let _ = refused.send(error);
        }
        Poll::Ready(Some(Err(Box::new(NotBase64))))
    }
}

impl<B> Body for Base64Body<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<crate::limit::BoxError>,
{
    type Data = Bytes;
    type Error = crate::limit::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        loop {
            let frame = match std::task::ready!(this.inner.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => frame,
                Some(Err(error)) => return Poll::Ready(Some(Err(error.into()))),
                None if *this.decoding && !this.pending.is_empty() => {
                    let left = this.pending.len();
                    this.pending.clear();
                    return Self::refuse(
                        this.refused,
                        not_base64(format!(
                            "it ends with {left} character{} short of a group of four",
                            if left == 1 { "" } else { "s" }
                        )),
                    );
                }
                None => return Poll::Ready(None),
            };
            if !*this.decoding {
                return Poll::Ready(Some(Ok(frame)));
            }
            match frame.into_data() {
                Ok(data) => {
                    this.pending.extend_from_slice(&data);
                    match decode_groups(this.pending, this.offset) {
                        Ok(bytes) if bytes.is_empty() => {}
                        Ok(bytes) => return Poll::Ready(Some(Ok(Frame::data(bytes)))),
                        Err(error) => {
                            this.pending.clear();
                            *this.decoding = false;
                            return Self::refuse(this.refused, error);
                        }
                    }
                }
                Err(frame) => return Poll::Ready(Some(Ok(frame))),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.pending.is_empty() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.decoding {
            SizeHint::default()
        } else {
            self.inner.size_hint()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use http_body_util::BodyExt;

    use super::*;

    fn text_call(body: &'static str, accept: Option<&str>) -> Request<http_body_util::Full<Bytes>> {
        let mut request = Request::post("/a.B/C")
            .header(header::CONTENT_TYPE, "application/grpc-web-text")
            .body(http_body_util::Full::new(Bytes::from_static(
                body.as_bytes(),
            )))
            .unwrap();
        if let Some(accept) = accept {
            request
                .headers_mut()
                .insert(header::ACCEPT, accept.parse().unwrap());
        }
        request
    }

    #[tokio::test]
    async fn a_text_body_is_decoded_chunk_after_padded_chunk() {
        // "AAAAAAE=" is a frame prefix of length 1, "Qg==" the byte 'B'.
        let (request, mut refused) = prepare(text_call("AAAAAAE=Qg==", None));
        assert_eq!(
            request.headers()[header::CONTENT_TYPE],
            "application/grpc-web+proto"
        );
        assert_eq!(
            request.headers()[header::ACCEPT],
            "application/grpc-web-text+proto"
        );
        let body = request.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"\x00\x00\x00\x00\x01B");
        assert!(refused.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_body_that_is_not_base64_is_refused_saying_where() {
        for (body, says) in [
            ("AAAA!!!!", "at offset 4"),
            ("AAAAAAE", "3 characters short"),
            ("*", "1 character short"),
        ] {
            let (request, mut refused) = prepare(text_call(body, None));
            assert!(request.into_body().collect().await.is_err(), "{body}");
            let error = refused.try_recv().unwrap();
            assert_eq!(error.reason.as_str(), "INVALID_ARGUMENT");
            assert!(error.message.contains("is not base64"), "{}", error.message);
            assert!(error.message.contains(says), "{body}: {}", error.message);
        }
    }

    #[test]
    fn the_answer_is_in_the_encoding_accept_names_else_the_requests() {
        let answers = |body: bool, accept: Option<&str>| {
            let mut request = text_call("", accept);
            if !body {
                request.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/grpc-web+proto"),
                );
            }
            answers_in_text(&request)
        };
        assert!(answers(true, None));
        assert!(answers(true, Some("*/*")));
        assert!(answers(true, Some("application/grpc-web-text, */*")));
        assert!(!answers(true, Some("application/grpc-web+proto")));
        assert!(!answers(false, None));
        assert!(answers(false, Some("application/grpc-web-text")));
    }
}
