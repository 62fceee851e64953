//! The accept loop of every listener: at most [`Limits::max_connections`] connections at once
//! (past it, new ones wait in the listen backlog), a connection that sends no request within
//! [`Limits::handshake_timeout_seconds`] or has none open for [`Limits::idle_timeout_seconds`]
//! is closed (HTTP/2 with a GOAWAY first), running out of file descriptors backs off and says so
//! instead of spinning, and shutdown stops accepting, then lets open calls finish.
//!
//! Each connection is served by hyper with the HTTP/2 settings of [`crate::http2`]; HTTP/1.1
//! request heads must arrive within the handshake timeout too.

use std::convert::Infallible;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tonic::transport::server::TcpConnectInfo;
use tower::{Service, ServiceExt};

use crate::config::Limits;
use crate::http2;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// First pause after the process ran out of file descriptors; doubled while it lasts.
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
/// Longest pause between accept attempts while out of file descriptors.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// How long a connection closed for a timeout may take to go after its GOAWAY.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// TCP keepalive of accepted connections.
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// What a listener serves: the server's whole stack, cloned for each connection.
pub(crate) trait Serves<B>:
    Service<
        Request<tonic::body::Body>,
        Response = Response<B>,
        Error = Infallible,
        Future: Send + 'static,
    > + Clone
    + Send
    + 'static
{
}

impl<S, B> Serves<B> for S where
    S: Service<
            Request<tonic::body::Body>,
            Response = Response<B>,
            Error = Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + 'static
{
}

/// The response body of what a listener serves.
pub(crate) trait ResponseBody:
    Body<Data = Bytes, Error: Into<BoxError>> + Send + 'static
{
}

impl<B> ResponseBody for B where B: Body<Data = Bytes, Error: Into<BoxError>> + Send + 'static {}

/// Serves `service` on every connection `listener` accepts until `shutdown` completes; then
/// stops accepting and waits for the open connections to finish their calls.
pub(crate) async fn serve<S, B>(
    listener: TcpListener,
    service: S,
    limits: &Limits,
    shutdown: impl Future<Output = ()>,
) where
    S: Serves<B>,
    B: ResponseBody,
{
    let builder = connection_builder(limits);
    let timeouts = Timeouts {
        handshake: limits.handshake_timeout(),
        idle: limits.idle_timeout(),
    };
    let local_addr = listener.local_addr().ok();
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (closing, closing_seen) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    let mut backoff = FIRST_BACKOFF;
    loop {
        let permit = match Arc::clone(&permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                tracing::warn!(
                    addr = ?local_addr,
                    max_connections = limits.max_connections,
                    "connection limit reached: new connections wait until one closes"
                );
                tokio::select! {
                    () = &mut shutdown => break,
                    permit = Arc::clone(&permits).acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                }
            }
        };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote_addr) = match accepted {
            Ok(accepted) => {
                backoff = FIRST_BACKOFF;
                accepted
            }
            Err(error) if out_of_resources(&error) => {
                // Accepting again at once would fail again at once: a spinning core.
                tracing::warn!(
                    addr = ?local_addr,
                    %error,
                    retry_in_ms = backoff.as_millis() as u64,
                    "cannot accept a connection: out of file descriptors or memory"
                );
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
            Err(error) => {
                // The peer gave up before it was accepted (reset, aborted): nothing to do.
                tracing::debug!(%error, "a connection failed while being accepted");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let _ = socket2::SockRef::from(&stream)
            .set_tcp_keepalive(&socket2::TcpKeepalive::new().with_time(TCP_KEEPALIVE));
        let info = TcpConnectInfo {
            local_addr,
            remote_addr: Some(remote_addr),
        };
        let connection = serve_connection(
            stream,
            info,
            service.clone(),
            builder.clone(),
            timeouts,
            closing_seen.clone(),
        );
        tokio::spawn(async move {
            connection.await;
            drop(permit);
        });
    }
    drop(listener);
    // Every connection says goodbye, then finishes the calls it has.
    let _ = closing.send(true);
    drop(closing_seen);
    closing.closed().await;
}

/// Whether accepting failed for want of descriptors or memory, which only time can cure.
fn out_of_resources(error: &std::io::Error) -> bool {
    // EMFILE, ENFILE, ENOBUFS, ENOMEM
    matches!(error.raw_os_error(), Some(24 | 23 | 105 | 12))
}

/// The hyper connection settings of every listener.
fn connection_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.handshake_timeout());
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_concurrent_streams)
        .initial_stream_window_size(http2::stream_window(limits.max_concurrent_streams))
        .initial_connection_window_size(http2::CONNECTION_WINDOW)
        .adaptive_window(false)
        .max_frame_size(http2::MAX_FRAME_SIZE)
        .max_header_list_size(http2::MAX_HEADER_LIST_SIZE)
        .max_pending_accept_reset_streams(http2::MAX_PENDING_ACCEPT_RESET_STREAMS)
        .keep_alive_interval(http2::KEEPALIVE_INTERVAL)
        .keep_alive_timeout(http2::KEEPALIVE_TIMEOUT);
    builder
}

#[derive(Clone, Copy, Debug)]
struct Timeouts {
    handshake: Duration,
    idle: Duration,
}

/// Serves one connection until it ends, closing it when it outstays its timeouts or when the
/// server shuts down.
async fn serve_connection<S, B>(
    stream: TcpStream,
    info: TcpConnectInfo,
    service: S,
    builder: auto::Builder<TokioExecutor>,
    timeouts: Timeouts,
    mut closing: watch::Receiver<bool>,
) where
    S: Serves<B>,
    B: ResponseBody,
{
    let activity = Arc::new(Activity::new());
    let peer = info.remote_addr;
    let tracked = Tracked {
        inner: service,
        activity: Arc::clone(&activity),
        info,
    };
    let hyper_service = TowerToHyperService::new(
        tracked.map_request(|request: Request<Incoming>| request.map(tonic::body::Body::new)),
    );
    let mut connection = pin!(builder.serve_connection(TokioIo::new(stream), hyper_service));
    let mut check_at = Instant::now() + timeouts.handshake.min(timeouts.idle);
    let mut force_close_at: Option<Instant> = None;
    let mut shutting_down = false;
    loop {
        let watching = !shutting_down && force_close_at.is_none();
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(error = %error, "connection ended with an error");
                }
                return;
            }
            changed = closing.changed(), if watching => {
                if changed.is_err() || *closing.borrow() {
                    // The server's grace period bounds the rest.
                    connection.as_mut().graceful_shutdown();
                    shutting_down = true;
                }
            }
            () = tokio::time::sleep_until(check_at), if watching => {
                let now = Instant::now();
                match activity.verdict(now, timeouts) {
                    Verdict::Keep(next) => check_at = next,
                    Verdict::Close(why) => {
                        tracing::debug!(?peer, why, "closing connection");
                        connection.as_mut().graceful_shutdown();
                        force_close_at = Some(now + CLOSE_GRACE);
                    }
                }
            }
            () = sleep_until_some(force_close_at) => return,
        }
    }
}

async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// What one connection is doing: calls open, whether any was made, and since when it has had
/// none open.
#[derive(Debug)]
struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    any_request: AtomicBool,
    /// Milliseconds from `opened` to the last call's end.
    last_end_ms: AtomicU64,
}

enum Verdict {
    /// Check again then.
    Keep(Instant),
    /// Close it, for this reason.
    Close(&'static str),
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            any_request: AtomicBool::new(false),
            last_end_ms: AtomicU64::new(0),
        }
    }

    fn start(self: &Arc<Self>) -> InFlight {
        self.any_request.store(true, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(Arc::clone(self))
    }

    fn verdict(&self, now: Instant, timeouts: Timeouts) -> Verdict {
        if !self.any_request.load(Ordering::Relaxed) {
            let until = self.opened + timeouts.handshake;
            return if now >= until {
                Verdict::Close("no request within the handshake timeout")
            } else {
                Verdict::Keep(until)
            };
        }
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Verdict::Keep(now + timeouts.idle);
        }
        let last_end =
            self.opened + Duration::from_millis(self.last_end_ms.load(Ordering::Relaxed));
        let until = last_end + timeouts.idle;
        if now >= until {
            Verdict::Close("idle for the idle timeout")
        } else {
            Verdict::Keep(until)
        }
    }
}

/// One open call; its end is noted when dropped (with the response body, or the handler if
/// the call is cancelled first).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let since_open = self.0.opened.elapsed().as_millis() as u64;
        self.0.last_end_ms.fetch_max(since_open, Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The service of one connection: notes each call's start and end, and gives each request the
/// connection's addresses.
#[derive(Clone)]
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
    info: TcpConnectInfo,
}

impl<S, B> Service<Request<tonic::body::Body>> for Tracked<S>
where
    // The response type named, so that it fixes `B`.
    S: Serves<B> + Service<Request<tonic::body::Body>, Response = Response<B>>,
    B: ResponseBody,
{
    type Response = Response<TrackedBody<B>>;
    type Error = Infallible;
    type Future = TrackedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<tonic::body::Body>) -> Self::Future {
        let in_flight = self.activity.start();
        request.extensions_mut().insert(self.info.clone());
        TrackedFuture {
            inner: self.inner.call(request),
            in_flight: Some(in_flight),
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Tracked`]: the call is open from the request until its response body is
    /// done, or until this future is dropped unanswered.
    struct TrackedFuture<F> {
        #[pin]
        inner: F,
        in_flight: Option<InFlight>,
    }
}

impl<F, B> Future for TrackedFuture<F>
where
    F: Future<Output = Result<Response<B>, Infallible>>,
{
    type Output = Result<Response<TrackedBody<B>>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = std::task::ready!(this.inner.poll(cx))?;
        let in_flight = this.in_flight.take();
        Poll::Ready(Ok(response.map(|inner| TrackedBody {
            inner,
            _in_flight: in_flight,
        })))
    }
}

pin_project_lite::pin_project! {
    /// A response body that holds its call open until it is sent or dropped.
    struct TrackedBody<B> {
        #[pin]
        inner: B,
        _in_flight: Option<InFlight>,
    }
}

impl<B: Body> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
