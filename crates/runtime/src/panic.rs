//! A handler that panics answers its call with `INTERNAL` (reason `INTERNAL`) instead of
//! resetting the stream, which a client through the edge would see as the whole service being
//! unavailable. The panic is logged; the server goes on serving.

use std::panic::AssertUnwindSafe;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::FutureExt as _;
use futures::future::BoxFuture;
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

fn internal(payload: &(dyn std::any::Any + Send)) -> Response<tonic::body::Body> {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    // A panic message may quote the input: ID numbers in it are masked.
    tracing::error!(panic = %crate::mask::path(&what), "a call panicked; answered INTERNAL");
    tonic::Status::from(ApiError::new(
        Reason::Internal,
        "the service failed while handling this call (a bug in sandbox06)",
    ))
    .into_http()
}

impl<S, B, ResBody> Service<Request<B>> for CatchPanic<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<tonic::codegen::StdError>,
{
    type Response = Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let called = std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request)));
        Box::pin(async move {
            let future = match called {
                Ok(future) => future,
                Err(payload) => return Ok(internal(payload.as_ref())),
            };
            match AssertUnwindSafe(future).catch_unwind().await {
                Ok(answered) => answered.map(|response| response.map(tonic::body::Body::new)),
                Err(payload) => Ok(internal(payload.as_ref())),
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tonic_types::StatusExt as _;
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
}
