//! The request body limit of the HTTP side: the JSON 413 at once when the declared length is
//! above it, or as soon as a streamed body passes it.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Request, Response, header};
use http_body::{Frame, SizeHint};
use tower::{Layer, Service};

use super::body_too_large;

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
