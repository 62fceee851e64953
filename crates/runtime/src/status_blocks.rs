//! One layer for every rule on the status blocks of an answer: the response headers (where a
//! unary call's status travels) and the trailers (where a stream's does). A rule
//! ([`StatusBlockRule`]) states only what it does to a block; [`StatusBlocks`] applies it to
//! each answer of the service it wraps, without allocating per call.
//!
//! ```
//! use http::HeaderMap;
//! use sandbox06_runtime::status_blocks::{Head, StatusBlockRule, StatusBlocks};
//! use tower::Layer;
//!
//! /// Marks every status block.
//! #[derive(Clone, Copy, Debug)]
//! struct Mark;
//!
//! impl StatusBlockRule for Mark {
//!     fn headers(&self, headers: &mut HeaderMap) -> Head {
//!         headers.insert("x-checked", http::HeaderValue::from_static("1"));
//!         Head::Keep
//!     }
//!
//!     fn trailers(&self, trailers: &mut HeaderMap) {
//!         trailers.insert("x-checked", http::HeaderValue::from_static("1"));
//!     }
//! }
//!
//! impl<S> Layer<S> for Mark {
//!     type Service = StatusBlocks<S, Mark>;
//!
//!     fn layer(&self, inner: S) -> Self::Service {
//!         StatusBlocks::new(inner, *self)
//!     }
//! }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame, SizeHint};
use tower::Service;

/// What a rule makes of an answer's headers.
#[derive(Debug)]
pub enum Head {
    /// The answer goes on, its headers as the rule left them.
    Keep,
    /// The answer is replaced by a trailers-only one with these headers (a status block): its
    /// body is never sent.
    Replace(HeaderMap),
}

/// A rule on an answer's status blocks.
pub trait StatusBlockRule: Clone {
    /// Applied to the answer's headers when they come.
    fn headers(&self, headers: &mut HeaderMap) -> Head;
    /// Applied to each trailers block of the answer's body.
    fn trailers(&self, trailers: &mut HeaderMap);
}

/// The service applying rule `R` to the answers of `S`.
#[derive(Clone, Debug)]
pub struct StatusBlocks<S, R> {
    inner: S,
    rule: R,
}

impl<S, R> StatusBlocks<S, R> {
    /// `inner`, its answers under `rule`.
    pub fn new(inner: S, rule: R) -> Self {
        Self { inner, rule }
    }
}

impl<S, R, B, ResBody> Service<Request<B>> for StatusBlocks<S, R>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    R: StatusBlockRule,
{
    type Response = Response<StatusBlocksBody<ResBody, R>>;
    type Error = S::Error;
    type Future = StatusBlocksFuture<S::Future, R>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        StatusBlocksFuture {
            inner: self.inner.call(request),
            rule: Some(self.rule.clone()),
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`StatusBlocks`].
    pub struct StatusBlocksFuture<F, R> {
        #[pin]
        inner: F,
        rule: Option<R>,
    }
}

impl<F, R, ResBody, E> Future for StatusBlocksFuture<F, R>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    R: StatusBlockRule,
{
    type Output = Result<Response<StatusBlocksBody<ResBody, R>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = std::task::ready!(this.inner.poll(cx))?;
        let Some(rule) = this.rule.take() else {
            // Polled again after its end: a future's contract violation, answered as an empty
            // body rather than a panic.
            return Poll::Ready(Ok(response.map(|_| StatusBlocksBody::Replaced)));
        };
        match rule.headers(response.headers_mut()) {
            Head::Keep => Poll::Ready(Ok(
                response.map(|inner| StatusBlocksBody::Checked { inner, rule })
            )),
            Head::Replace(headers) => {
                let (mut parts, _body) = response.into_parts();
                parts.headers = headers;
                parts.status = http::StatusCode::OK;
                Poll::Ready(Ok(Response::from_parts(parts, StatusBlocksBody::Replaced)))
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// The response body of [`StatusBlocks`]: the service's, its trailers under the rule.
    #[project = StatusBlocksBodyProj]
    pub enum StatusBlocksBody<B, R> {
        /// The service's body.
        Checked {
            #[pin]
            inner: B,
            rule: R,
        },
        /// None: the headers were replaced by a status.
        Replaced,
    }
}

impl<B, R> Body for StatusBlocksBody<B, R>
where
    B: Body<Data = Bytes>,
    R: StatusBlockRule,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.project() {
            StatusBlocksBodyProj::Checked { inner, rule } => inner.poll_frame(cx).map(|frame| {
                frame.map(|frame| {
                    frame.map(|mut frame| {
                        if let Some(trailers) = frame.trailers_mut() {
                            rule.trailers(trailers);
                        }
                        frame
                    })
                })
            }),
            StatusBlocksBodyProj::Replaced => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            StatusBlocksBody::Checked { inner, .. } => inner.is_end_stream(),
            StatusBlocksBody::Replaced => true,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            StatusBlocksBody::Checked { inner, .. } => inner.size_hint(),
            StatusBlocksBody::Replaced => SizeHint::with_exact(0),
        }
    }
}
