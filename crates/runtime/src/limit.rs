//! Refusal of oversized gRPC request messages, checked on the 5-byte frame prefix as the body
//! streams through, without buffering: the call ends with `RESOURCE_EXHAUSTED` and reason
//! `REQUEST_TOO_LARGE`, whether the response has started or not.
//!
//! The same scan counts the messages: a second request message on a method that takes exactly
//! one (unary or server-streaming), which the gRPC library would read past in silence, ends the
//! call with `UNIMPLEMENTED` and reason `TOO_MANY_REQUEST_MESSAGES` (a request cardinality
//! violation in the gRPC status codes), before the method answers.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame, SizeHint};
use tokio::sync::oneshot;
use tower::{Layer, Service};

use crate::error::{ApiError, Reason};

/// Boxed error of a limited request body: the inner body's error or the refusal `Status`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Length of the gRPC message prefix: compressed flag (1 byte) + big-endian length (4 bytes).
const PREFIX_LEN: usize = 5;

/// Layer refusing any request message longer than `max_bytes`, and a second request message
/// on the methods that take exactly one.
#[derive(Clone, Debug)]
pub struct MessageLimitLayer {
    max_bytes: usize,
    single_message: Arc<HashSet<String>>,
}

impl MessageLimitLayer {
    /// Refuses messages longer than `max_bytes`.
    pub fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            single_message: Arc::default(),
        }
    }

    /// Refuses, too, a second request message on each of `methods` (paths,
    /// `/package.Service/Method`): those that take exactly one.
    pub fn with_single_message_methods(
        mut self,
        methods: impl IntoIterator<Item = String>,
    ) -> Self {
        self.single_message = Arc::new(methods.into_iter().collect());
        self
    }
}

impl<S> Layer<S> for MessageLimitLayer {
    type Service = MessageLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MessageLimit {
            inner,
            max_bytes: self.max_bytes,
            single_message: Arc::clone(&self.single_message),
        }
    }
}

/// The service of [`MessageLimitLayer`].
#[derive(Clone, Debug)]
pub struct MessageLimit<S> {
    inner: S,
    max_bytes: usize,
    single_message: Arc<HashSet<String>>,
}

impl<S, B, ResBody> Service<Request<B>> for MessageLimit<S>
where
    S: Service<Request<LimitedBody<B>>, Response = Response<ResBody>>,
    B: Body,
{
    type Response = Response<LimitedResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = LimitFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (refused_tx, refused_rx) = oneshot::channel();
        let max_bytes = self.max_bytes;
        let scanner = FrameScanner {
            single_message: self.single_message.contains(request.uri().path()),
            ..FrameScanner::default()
        };
        let request = request.map(|inner| LimitedBody {
            inner,
            max_bytes,
            scanner,
            refused: Some(refused_tx),
        });
        LimitFuture {
            inner: self.inner.call(request),
            refused: Some(refused_rx),
        }
    }
}

/// The refusal of a message of `len` bytes.
fn too_large(len: u32, max_bytes: usize) -> ApiError {
    ApiError::new(
        Reason::RequestTooLarge,
        format!("request message of {len} bytes is above the limit of {max_bytes} bytes"),
    )
    .with_metadata("limit_bytes", max_bytes.to_string())
    .with_metadata("message_bytes", len.to_string())
}

/// The refusal of a second request message on a method that takes one.
fn too_many_messages() -> ApiError {
    ApiError::new(
        Reason::TooManyRequestMessages,
        "the request carries more than one message: this method takes exactly one",
    )
}

/// Why the scan refuses a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    /// A message of this many bytes, above the limit.
    TooLarge(u32),
    /// A second message on a method that takes one.
    TooMany,
}

/// Headers (or trailers) of a gRPC status.
fn status_headers(error: ApiError) -> HeaderMap {
    let status: tonic::Status = error.into();
    status.into_http::<()>().into_parts().0.headers
}

/// Polls a refusal channel: `Some` once a refusal arrived, `None` (and the channel dropped)
/// when the request body ended without one.
fn poll_refused(
    refused: &mut Option<oneshot::Receiver<ApiError>>,
    cx: &mut Context<'_>,
) -> Option<ApiError> {
    let receiver = refused.as_mut()?;
    match Pin::new(receiver).poll(cx) {
        Poll::Ready(Ok(error)) => {
            *refused = None;
            Some(error)
        }
        Poll::Ready(Err(_)) => {
            *refused = None;
            None
        }
        Poll::Pending => None,
    }
}

pin_project_lite::pin_project! {
    /// Response future of [`MessageLimit`].
    pub struct LimitFuture<F> {
        #[pin]
        inner: F,
        refused: Option<oneshot::Receiver<ApiError>>,
    }
}

impl<F, ResBody, E> Future for LimitFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<LimitedResponseBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // The refusal first: a proxied call fails with a transport error once its request
        // body is cut, and the client must see why.
        if let Some(error) = poll_refused(this.refused, cx) {
            let response = tonic::Status::from(error).into_http::<()>();
            return Poll::Ready(Ok(
                response.map(|()| LimitedResponseBody::Refused { trailers: None })
            ));
        }
        let response = std::task::ready!(this.inner.poll(cx))?;
        let refused = this.refused.take();
        Poll::Ready(Ok(
            response.map(|body| LimitedResponseBody::Streaming { body, refused })
        ))
    }
}

pin_project_lite::pin_project! {
    /// Response body of [`MessageLimit`]: ends the stream with the refusal status when an
    /// oversized message arrives after the response started.
    #[project = LimitedResponseBodyProj]
    pub enum LimitedResponseBody<B> {
        /// The service's body, watched for a refusal.
        Streaming {
            #[pin]
            body: B,
            refused: Option<oneshot::Receiver<ApiError>>,
        },
        /// Refused: the status trailers still to send (none for a trailers-only response).
        Refused {
            trailers: Option<HeaderMap>,
        },
    }
}

impl<B: Body> Body for LimitedResponseBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.as_mut().project() {
            LimitedResponseBodyProj::Streaming { body, refused } => {
                if let Some(error) = poll_refused(refused, cx) {
                    let trailers = status_headers(error);
                    self.set(LimitedResponseBody::Refused { trailers: None });
                    return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
                }
                body.poll_frame(cx)
            }
            LimitedResponseBodyProj::Refused { trailers } => Poll::Ready(
                trailers
                    .take()
                    .map(|trailers| Ok(Frame::trailers(trailers))),
            ),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            LimitedResponseBody::Streaming { body, .. } => body.is_end_stream(),
            LimitedResponseBody::Refused { trailers } => trailers.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            LimitedResponseBody::Streaming { body, .. } => body.size_hint(),
            LimitedResponseBody::Refused { .. } => SizeHint::default(),
        }
    }
}

/// Tracks gRPC message boundaries across data frames of any size.
#[derive(Clone, Copy, Debug, Default)]
struct FrameScanner {
    prefix: [u8; PREFIX_LEN],
    prefix_len: usize,
    payload_left: usize,
    /// Messages whose prefix has been read.
    messages: usize,
    /// The method takes exactly one message.
    single_message: bool,
}

impl FrameScanner {
    /// Advances over `data`; `Err` at the first message longer than `max_bytes`, or at the
    /// second one where the method takes one.
    fn scan(&mut self, mut data: &[u8], max_bytes: usize) -> Result<(), Refusal> {
        while !data.is_empty() {
            if self.payload_left > 0 {
                let skip = self.payload_left.min(data.len());
                self.payload_left -= skip;
                data = &data[skip..];
                continue;
            }
            if self.prefix_len == 0 && self.single_message && self.messages >= 1 {
                // The first byte of a second message (even before its whole prefix).
                return Err(Refusal::TooMany);
            }
            let take = (PREFIX_LEN - self.prefix_len).min(data.len());
            self.prefix[self.prefix_len..self.prefix_len + take].copy_from_slice(&data[..take]);
            self.prefix_len += take;
            data = &data[take..];
            if self.prefix_len == PREFIX_LEN {
                self.prefix_len = 0;
                let len = u32::from_be_bytes([
                    self.prefix[1],
                    self.prefix[2],
                    self.prefix[3],
                    self.prefix[4],
                ]);
                if len as usize > max_bytes {
                    return Err(Refusal::TooLarge(len));
                }
                self.messages += 1;
                self.payload_left = len as usize;
            }
        }
        Ok(())
    }
}

pin_project_lite::pin_project! {
    /// Request body of [`MessageLimit`]: fails with the refusal status at the first oversized
    /// message (which also resets a proxied upstream stream).
    pub struct LimitedBody<B> {
        #[pin]
        inner: B,
        max_bytes: usize,
        scanner: FrameScanner,
        refused: Option<oneshot::Sender<ApiError>>,
    }
}

impl<B> Body for LimitedBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

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
        if let Some(data) = frame.data_ref()
            && let Err(refusal) = this.scanner.scan(data, *this.max_bytes)
        {
            let error = match refusal {
                Refusal::TooLarge(len) => {
                    tracing::info!(
                        message_bytes = len,
                        limit_bytes = *this.max_bytes,
                        "request message refused as too large"
                    );
                    too_large(len, *this.max_bytes)
                }
                Refusal::TooMany => {
                    tracing::info!("a second request message refused: the method takes one");
                    too_many_messages()
                }
            };
            if let Some(refused) = this.refused.take() {
                // The receiver is gone once the response has ended: nothing left to tell.
                let _ = refused.send(error.clone());
            }
            return Poll::Ready(Some(Err(Box::new(tonic::Status::from(error)))));
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

    fn message(len: u32) -> Vec<u8> {
        let mut bytes = vec![0u8];
        bytes.extend_from_slice(&len.to_be_bytes());
        bytes.resize(PREFIX_LEN + len as usize, 7);
        bytes
    }

    #[test]
    fn accepts_messages_up_to_the_limit_in_any_split() {
        let mut stream = message(10);
        stream.extend(message(0));
        stream.extend(message(16));
        for chunk in 1..stream.len() {
            let mut scanner = FrameScanner::default();
            for piece in stream.chunks(chunk) {
                assert_eq!(scanner.scan(piece, 16), Ok(()));
            }
        }
    }

    #[test]
    fn refuses_the_first_message_above_the_limit_even_split_in_its_prefix() {
        let mut stream = message(3);
        stream.extend(message(17));
        for chunk in 1..stream.len() {
            let mut scanner = FrameScanner::default();
            let refused = stream
                .chunks(chunk)
                .map(|piece| scanner.scan(piece, 16))
                .find(Result::is_err);
            assert_eq!(
                refused,
                Some(Err(Refusal::TooLarge(17))),
                "chunk size {chunk}"
            );
        }
    }

    #[test]
    fn a_second_message_is_refused_only_where_the_method_takes_one() {
        let mut stream = message(3);
        stream.extend(message(0));
        for chunk in 1..stream.len() {
            let mut single = FrameScanner {
                single_message: true,
                ..FrameScanner::default()
            };
            let refused = stream
                .chunks(chunk)
                .map(|piece| single.scan(piece, 16))
                .find(Result::is_err);
            assert_eq!(refused, Some(Err(Refusal::TooMany)), "chunk size {chunk}");
            let mut streaming = FrameScanner::default();
            for piece in stream.chunks(chunk) {
                assert_eq!(streaming.scan(piece, 16), Ok(()));
            }
        }
        // One message, even empty, is what such a method takes.
        let mut single = FrameScanner {
            single_message: true,
            ..FrameScanner::default()
        };
        assert_eq!(single.scan(&message(0), 16), Ok(()));
        assert_eq!(single.scan(&message(16)[..0], 16), Ok(()));
    }
}
