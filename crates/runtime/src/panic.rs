//! A handler that panics answers its call with `INTERNAL` (reason `INTERNAL`) instead of
//! resetting the stream, which a client through the edge would see as the whole service being
//! unavailable. The panic is logged; the server goes on serving.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::FutureExt as _;
use futures::future::CatchUnwind;
use http::{Request, Response};
use tower::{Layer, Service};

use crate::error::{ApiError, Reason};

/// Turns a panicking call into an `INTERNAL` answer.
#[derive(Clone, Copy, Debug, Default)]
pub struct CatchPanicLayer;

impl<S> Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;

    fn layer(&self, inner: S) -> CatchPanic<S> {
        CatchPanic { inner }
    }
}

/// The service of [`CatchPanicLayer`].
#[derive(Clone, Debug)]
pub struct CatchPanic<S> {
    inner: S,
}

impl<S, B, ResBody> Service<Request<B>> for CatchPanic<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<tonic::codegen::StdError>,
{
    type Response = Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = CatchPanicFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
            Ok(future) => CatchPanicFuture::Running {
                future: AssertUnwindSafe(future).catch_unwind(),
            },
            Err(payload) => CatchPanicFuture::Panicked {
                payload: Some(payload),
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`CatchPanic`]: the call's, or the answer to its panic.
    #[project = CatchPanicProj]
    pub enum CatchPanicFuture<F> {
        /// The call runs.
        Running {
            #[pin]
            future: CatchUnwind<AssertUnwindSafe<F>>,
        },
        /// The call panicked before it returned its future.
        Panicked { payload: Option<Box<dyn Any + Send + 'static>> },
    }
}

impl<F, ResBody, E> Future for CatchPanicFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<tonic::codegen::StdError>,
{
    type Output = Result<Response<tonic::body::Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            CatchPanicProj::Running { future } => match std::task::ready!(future.poll(cx)) {
                // A tonic body (what the routes answer with) is passed on as it is.
                Ok(answered) => {
                    Poll::Ready(answered.map(|response| response.map(tonic::body::Body::new)))
                }
                Err(payload) => Poll::Ready(Ok(internal(payload.as_ref()))),
            },
            CatchPanicProj::Panicked { payload } => match payload.take() {
                Some(payload) => Poll::Ready(Ok(internal(payload.as_ref()))),
                None => Poll::Ready(Ok(internal(&"polled after its end"))),
            },
        }
    }
}

/// What a panic said: its `&str` or `String` payload, else a word that it said nothing.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

fn internal(payload: &(dyn Any + Send)) -> Response<tonic::body::Body> {
    // A panic message may quote the input: ID numbers in it are masked.
    tracing::error!(
        panic = %crate::mask::path(panic_message(payload)),
        "a call panicked; answered INTERNAL"
    );
    tonic::Status::from(ApiError::new(
        Reason::Internal,
        "the service failed while handling this call (a bug in sandbox06)",
    ))
    .into_http()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use tonic_types::StatusExt as _;

    use super::*;
    use tower::ServiceExt as _;

    #[tokio::test]
    async fn a_panicking_call_is_answered_internal() {
        let service = CatchPanicLayer.layer(tower::service_fn(|_: Request<()>| async {
            if true {
                panic!("boom");
            }
            Ok::<_, std::convert::Infallible>(Response::new(tonic::body::Body::empty()))
        }));
        let response = service.oneshot(Request::new(())).await.unwrap();
        let status = tonic::Status::from_header_map(response.headers()).unwrap();
        assert_eq!(status.code(), tonic::Code::Internal);
        assert_eq!(status.get_details_error_info().unwrap().reason, "INTERNAL");
    }

    #[tokio::test]
    async fn a_call_panicking_before_its_future_is_answered_internal() {
        let service = CatchPanicLayer.layer(tower::service_fn(|_: Request<()>| {
            if true {
                panic!("boom before the future");
            }
            async { Ok::<_, std::convert::Infallible>(Response::new(tonic::body::Body::empty())) }
        }));
        let response = service.oneshot(Request::new(())).await.unwrap();
        let status = tonic::Status::from_header_map(response.headers()).unwrap();
        assert_eq!(status.code(), tonic::Code::Internal);
        assert_eq!(status.get_details_error_info().unwrap().reason, "INTERNAL");
    }
}
