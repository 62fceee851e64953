//! Deadlines on every server: a call gets the caller's `grpc-timeout` or the server's default,
//! whichever is shorter, and one that has no answer by then ends with `DEADLINE_EXCEEDED`
//! (reason `DEADLINE_EXCEEDED`), not with a dropped connection or `UNAVAILABLE`.
//!
//! The deadline bounds the wait for the response to start; a stream that has started runs on,
//! bounded by the caller. An answer ready only after the deadline has passed is
//! `DEADLINE_EXCEEDED` too, however short the deadline (`grpc-timeout: 1n`). A `grpc-timeout`
//! that is not one the gRPC protocol spells (1 to 8 digits, then `H`, `M`, `S`, `m`, `u` or `n`)
//! is refused with `INVALID_ARGUMENT`, naming the header, rather than ignored.
//!
//! While the handler works, the deadline is known to it ([`remaining`]), and every call it makes
//! to another component carries what is left of it as its own `grpc-timeout`
//! ([`crate::telemetry::TraceContextInterceptor`] sets it): an upstream does not go on working
//! for a caller who has given up.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame, SizeHint};
use tower::{Layer, Service};

use crate::error::{ApiError, Reason};

/// Layer giving every call a deadline of at most `default`.
#[derive(Clone, Copy, Debug)]
pub struct DeadlineLayer {
    default: Duration,
}

impl DeadlineLayer {
    /// Calls without a shorter `grpc-timeout` get `default`.
    pub fn new(default: Duration) -> Self {
        Self { default }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Deadline {
            inner,
            default: self.default,
        }
    }
}

/// The service of [`DeadlineLayer`].
#[derive(Clone, Debug)]
pub struct Deadline<S> {
    inner: S,
    default: Duration,
}

use crate::call_deadline::CALL_DEADLINE;
pub use crate::call_deadline::remaining;

/// The `grpc-timeout` header's duration (`1H`, `30S`, `200m`, `500u`, `100n`), if well formed.
pub fn grpc_timeout(headers: &HeaderMap) -> Option<Duration> {
    parse_grpc_timeout(headers.get("grpc-timeout")?.to_str().ok()?)
}

/// A `grpc-timeout` value's duration, if well formed.
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    // At most 8 digits, then one unit, as the gRPC protocol spells it.
    let (digits, unit) = value.split_at_checked(value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

impl<S, B, ResBody> Service<Request<B>> for Deadline<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = Response<DeadlineBody<ResBody>>;
    type Error = S::Error;
    type Future = DeadlineFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let limit = match call_limit(request.headers(), self.default) {
            Ok(limit) => limit,
            Err(error) => {
                return DeadlineFuture {
                    state: DeadlineState::Refused { error: Some(error) },
                };
            }
        };
        let deadline = tokio::time::Instant::now() + limit;
        DeadlineFuture {
            state: DeadlineState::Running {
                inner: CALL_DEADLINE.scope(deadline, self.inner.call(request)),
                sleep: None,
                deadline,
                limit,
            },
        }
    }
}

/// The time a call is given: the caller's `grpc-timeout` less a twentieth (so that the caller,
/// whose transport also ends the call then, learns why) or `default`, whichever is shorter. A
/// `grpc-timeout` the protocol does not spell is refused, naming the header.
///
/// The one reading of the header and the limit: the deadline layer and the fault layer's
/// delays both end a call by it.
pub fn call_limit(headers: &HeaderMap, default: Duration) -> Result<Duration, ApiError> {
    let Some(value) = headers.get("grpc-timeout") else {
        return Ok(default);
    };
    let asked = value
        .to_str()
        .ok()
        .and_then(parse_grpc_timeout)
        .ok_or_else(|| malformed_timeout(value))?;
    Ok((asked - asked / 20).min(default))
}

/// The refusal of a `grpc-timeout` the protocol does not spell.
fn malformed_timeout(value: &http::HeaderValue) -> ApiError {
    let text = String::from_utf8_lossy(value.as_bytes());
    ApiError::new(
        Reason::InvalidArgument,
        format!(
            "grpc-timeout {} is not a timeout: 1 to 8 digits, then a unit (H, M, S, m, u or n), e.g. 200m",
            crate::error::quote(&text)
        ),
    )
    .with_metadata("header", "grpc-timeout")
}

/// The trailers-only answer of `error`.
fn answer<B>(error: ApiError) -> Response<DeadlineBody<B>> {
    let status: tonic::Status = error.into();
    status.into_http::<()>().map(|()| DeadlineBody::Expired)
}

/// The answer of a call whose deadline of `limit` passed.
fn expired<B>(limit: Duration) -> Response<DeadlineBody<B>> {
    answer(deadline_exceeded(limit))
}

/// The error of a call whose deadline of `limit` passed.
pub(crate) fn deadline_exceeded(limit: Duration) -> ApiError {
    let text = if limit < Duration::from_millis(1) {
        format!("{} µs", limit.as_micros())
    } else {
        format!("{} ms", limit.as_millis())
    };
    ApiError::new(
        Reason::DeadlineExceeded,
        format!("no answer within the call's deadline of {text}"),
    )
}

pin_project_lite::pin_project! {
    /// The future of [`Deadline`].
    pub struct DeadlineFuture<F> {
        #[pin]
        state: DeadlineState<F>,
    }
}

pin_project_lite::pin_project! {
    /// What a [`DeadlineFuture`] is doing.
    #[project = DeadlineStateProj]
    enum DeadlineState<F> {
        /// The call runs.
        Running {
            #[pin]
            inner: tokio::task::futures::TaskLocalFuture<tokio::time::Instant, F>,
            deadline: tokio::time::Instant,
            // Armed only when the answer is not ready at once: most calls that finish on their
            // first poll never touch the timer.
            sleep: Option<Pin<Box<tokio::time::Sleep>>>,
            limit: Duration,
        },
        /// The call is refused before it runs.
        Refused { error: Option<ApiError> },
    }
}

impl<F, ResBody, E> Future for DeadlineFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<DeadlineBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (inner, deadline, sleep, limit) = match self.project().state.project() {
            DeadlineStateProj::Refused { error } => {
                let error = error
                    .take()
                    .unwrap_or_else(|| ApiError::new(Reason::Internal, "polled after its end"));
                return Poll::Ready(Ok(answer(error)));
            }
            DeadlineStateProj::Running {
                inner,
                deadline,
                sleep,
                limit,
            } => (inner, *deadline, sleep, *limit),
        };
        if let Poll::Ready(result) = inner.poll(cx) {
            // An answer made after the deadline is too late, even one ready at once.
            if tokio::time::Instant::now() >= deadline {
                return Poll::Ready(Ok(expired(limit)));
            }
            return Poll::Ready(result.map(|response| response.map(DeadlineBody::Inner)));
        }
        let sleep = sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Ok(expired(limit)));
        }
        Poll::Pending
    }
}

/// The response body: the service's own, or none when the deadline answered.
#[derive(Debug)]
pub enum DeadlineBody<B> {
    /// The service answered in time.
    Inner(B),
    /// The deadline answered (a trailers-only response).
    Expired,
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.get_mut() {
            DeadlineBody::Inner(body) => Pin::new(body).poll_frame(cx),
            DeadlineBody::Expired => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            DeadlineBody::Inner(body) => body.is_end_stream(),
            DeadlineBody::Expired => true,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            DeadlineBody::Inner(body) => body.size_hint(),
            DeadlineBody::Expired => SizeHint::with_exact(0),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn header(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-timeout", value.parse().unwrap());
        headers
    }

    #[tokio::test]
    async fn a_handler_knows_the_time_left() {
        let mut service = DeadlineLayer::new(Duration::from_secs(30)).layer(tower::service_fn(
            |_request: Request<()>| async {
                let left = remaining().expect("inside a call");
                Ok::<_, std::convert::Infallible>(Response::new(http_body_util::Full::new(
                    Bytes::from(left.as_millis().to_string()),
                )))
            },
        ));
        let mut request = Request::new(());
        request
            .headers_mut()
            .insert("grpc-timeout", "2S".parse().unwrap());
        let response = service.call(request).await.unwrap();
        let DeadlineBody::Inner(body) = response.into_body() else {
            panic!("answered in time")
        };
        let left: u128 = String::from_utf8(
            http_body_util::BodyExt::collect(body)
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        )
        .unwrap()
        .parse()
        .unwrap();
        // A twentieth before the caller's two seconds.
        assert!((1_800..=1_900).contains(&left), "{left} ms");
        assert_eq!(remaining(), None, "outside a call");
    }

    #[test]
    fn grpc_timeouts_parse_as_the_protocol_spells_them() {
        assert_eq!(
            grpc_timeout(&header("200m")),
            Some(Duration::from_millis(200))
        );
        assert_eq!(grpc_timeout(&header("3S")), Some(Duration::from_secs(3)));
        assert_eq!(grpc_timeout(&header("1H")), Some(Duration::from_secs(3600)));
        assert_eq!(grpc_timeout(&header("5u")), Some(Duration::from_micros(5)));
        for bad in ["", "m", "123456789m", "12x", "-1S", "1.5S"] {
            assert_eq!(grpc_timeout(&header(bad)), None, "{bad:?}");
        }
        assert_eq!(grpc_timeout(&HeaderMap::new()), None);
        assert_eq!(grpc_timeout(&header("1n")), Some(Duration::from_nanos(1)));
        assert_eq!(grpc_timeout(&header("2M")), Some(Duration::from_secs(120)));
        assert_eq!(
            grpc_timeout(&header("99999999H")),
            Some(Duration::from_secs(99_999_999 * 3600))
        );
    }

    /// A service answering at once, OK, behind the deadline.
    async fn call_instant(
        timeout: Option<&str>,
    ) -> Response<DeadlineBody<http_body_util::Empty<Bytes>>> {
        use tower::ServiceExt as _;
        let service = DeadlineLayer::new(Duration::from_secs(30)).layer(tower::service_fn(
            |_request: Request<()>| async {
                // Two microseconds of work, on the test's paused clock.
                tokio::time::sleep(Duration::from_micros(2)).await;
                Ok::<_, std::convert::Infallible>(Response::new(
                    http_body_util::Empty::<Bytes>::new(),
                ))
            },
        ));
        let mut request = Request::new(());
        if let Some(timeout) = timeout {
            request
                .headers_mut()
                .insert("grpc-timeout", timeout.parse().unwrap());
        }
        service.oneshot(request).await.unwrap()
    }

    fn status_of<B>(response: &Response<B>) -> Option<tonic::Status> {
        tonic::Status::from_header_map(response.headers())
    }

    #[tokio::test(start_paused = true)]
    async fn a_tiny_deadline_has_passed_when_the_answer_comes() {
        for tiny in ["1n", "100n", "1u", "0S", "0n", "2u"] {
            let response = call_instant(Some(tiny)).await;
            let status = status_of(&response).unwrap_or_else(|| panic!("{tiny}: answered"));
            assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{tiny}");
            assert_eq!(
                crate::error::reason_of(&status).as_deref(),
                Some("DEADLINE_EXCEEDED")
            );
        }
        for ample in [None, Some("10S"), Some("1H")] {
            let response = call_instant(ample).await;
            assert!(
                status_of(&response).is_none(),
                "{ample:?}: answered in time"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_malformed_grpc_timeout_is_refused_naming_the_header() {
        use tonic_types::StatusExt as _;
        for bad in ["", "m", "123456789m", "12x", "-1S", "1.5S", "1 S", "10s"] {
            let response = call_instant(Some(bad)).await;
            let status = status_of(&response).expect("a status");
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{bad:?}");
            assert!(status.message().contains("grpc-timeout"), "{status:?}");
            assert_eq!(
                status.get_details_error_info().unwrap().metadata["header"],
                "grpc-timeout"
            );
        }
    }
}
