//! A handler that panics answers its call with `INTERNAL` (reason `INTERNAL`) instead of
//! resetting the stream, which a client through the edge would see as the whole service being
//! unavailable. The panic is logged; the server goes on serving.

use std::any::Any;

use tower::Layer;

use crate::error::{ApiError, Reason};

/// Turns a panicking call into an `INTERNAL` answer: tower-http's panic catcher, answering with
/// the suite's status.
#[derive(Clone, Copy, Debug, Default)]
pub struct CatchPanicLayer;

impl<S> Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;

    fn layer(&self, inner: S) -> CatchPanic<S> {
        tower_http::catch_panic::CatchPanicLayer::custom(PanicAnswer).layer(inner)
    }
}

/// The service of [`CatchPanicLayer`].
pub type CatchPanic<S> = tower_http::catch_panic::CatchPanic<S, PanicAnswer>;

/// The answer to a call that panicked: `INTERNAL`, the panic logged (masked).
#[derive(Clone, Copy, Debug, Default)]
pub struct PanicAnswer;

impl tower_http::catch_panic::ResponseForPanic for PanicAnswer {
    type ResponseBody = tonic::body::Body;

    fn response_for_panic(
        &mut self,
        payload: Box<dyn Any + Send + 'static>,
    ) -> http::Response<tonic::body::Body> {
        internal(payload.as_ref())
    }
}

fn internal(payload: &(dyn Any + Send)) -> http::Response<tonic::body::Body> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use http::{Request, Response};
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
}
