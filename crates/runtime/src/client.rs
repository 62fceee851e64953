//! Outgoing gRPC channels, one per peer, shared by every call to it.
//!
//! [`peer_channel`] is what components call each other with: a [`PeerChannel`] calls a server
//! of the same process in-process when it is registered ([`crate::in_process`]), else over TCP
//! and HTTP/2 as [`grpc_channel`] does.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, Uri};
use tonic::body::Body;
use tonic::transport::{Channel, Endpoint};
use tower::Service;
use tower::util::Oneshot;

use crate::http2;
use crate::in_process::{self, LocalService};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long establishing a connection may take before the call fails as unavailable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Errors of [`grpc_channel`].
#[derive(Debug, thiserror::Error)]
#[error("invalid grpc url {url:?}: {source}")]
pub struct ChannelError {
    /// The URL given.
    pub url: String,
    /// Why it is refused.
    pub source: tonic::transport::Error,
}

/// A lazily-connecting channel to `url` (e.g. `http://127.0.0.1:4610`); connects on first use
/// and reconnects after failures. Must be called within a Tokio runtime.
///
/// Wrap it with [`crate::telemetry::TraceContextInterceptor`] so calls continue the trace.
pub fn grpc_channel(url: &str) -> Result<Channel, ChannelError> {
    let endpoint = Endpoint::from_shared(url.to_owned()).map_err(|source| ChannelError {
        url: url.to_owned(),
        source,
    })?;
    Ok(endpoint
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .http2_adaptive_window(false)
        // What the suite's servers send back is bounded as what they receive (see `http2`);
        // the peer's stream limit is theirs, 256 by default.
        .initial_stream_window_size(http2::STREAM_WINDOW)
        .initial_connection_window_size(http2::CONNECTION_WINDOW)
        .http2_max_header_list_size(http2::MAX_RESPONSE_HEADER_LIST_SIZE)
        .http2_keep_alive_interval(http2::KEEPALIVE_INTERVAL)
        .keep_alive_timeout(http2::KEEPALIVE_TIMEOUT)
        .keep_alive_while_idle(true)
        .connect_lazy())
}

/// A channel to `url` that calls the server listening there in-process when this process
/// serves it with in-process hops allowed ([`crate::config::Limits::in_process_hops`], on under
/// `up`), else over TCP as [`grpc_channel`]. The server is looked for at each call until found
/// (it may start after the client), and again only when servers start or stop.
pub fn peer_channel(url: &str) -> Result<PeerChannel, ChannelError> {
    Ok(PeerChannel::new(grpc_channel(url)?, url))
}

/// A channel to one peer: in-process while the peer is registered in this process, else the
/// TCP [`Channel`]. Cheap to clone; clones share what they found.
pub struct PeerChannel {
    tcp: Channel,
    local: Option<Arc<LocalPeer>>,
    ready: Ready,
}

/// Where an in-process peer would be, and what was last found there.
struct LocalPeer {
    addr: SocketAddr,
    scheme: Scheme,
    authority: Authority,
    /// The registry generation of the last look, and what it found.
    found: RwLock<(u64, Option<LocalService>)>,
}

/// What the last `poll_ready` chose for the next call.
enum Ready {
    No,
    Tcp,
    Local(LocalService),
}

impl PeerChannel {
    /// `tcp`, used in-process when a server of this process is registered at `url`'s address.
    fn new(tcp: Channel, url: &str) -> Self {
        let local = url.parse::<Uri>().ok().and_then(|uri| {
            let authority = uri.authority()?.clone();
            let ip = authority
                .host()
                .trim_start_matches('[')
                .trim_end_matches(']');
            let addr = SocketAddr::new(ip.parse().ok()?, authority.port_u16()?);
            Some(Arc::new(LocalPeer {
                addr,
                scheme: uri.scheme().cloned().unwrap_or(Scheme::HTTP),
                authority,
                found: RwLock::new((0, None)),
            }))
        });
        Self {
            tcp,
            local,
            ready: Ready::No,
        }
    }

    /// The TCP channel, for calls that must cross the socket (health checks of the listener).
    pub fn tcp(&self) -> &Channel {
        &self.tcp
    }

    /// Whether the next call would be in-process.
    pub fn is_in_process(&self) -> bool {
        self.local
            .as_ref()
            .and_then(|local| local.current())
            .is_some()
    }
}

impl LocalPeer {
    /// The registered service, looked up again only when the registry changed.
    fn current(&self) -> Option<LocalService> {
        let generation = in_process::generation();
        {
            let found = self.found.read().unwrap_or_else(PoisonError::into_inner);
            if found.0 == generation {
                return found.1.clone();
            }
        }
        let service = in_process::lookup(self.addr);
        *self.found.write().unwrap_or_else(PoisonError::into_inner) = (generation, service.clone());
        service
    }

    /// `request` as the server would read it off the wire: with the peer's origin, HTTP/2,
    /// and none of the caller's extensions.
    fn prepare(&self, request: Request<Body>) -> Result<Request<Body>, http::Error> {
        let (mut parts, body) = request.into_parts();
        let mut uri = std::mem::take(&mut parts.uri).into_parts();
        uri.scheme = Some(self.scheme.clone());
        uri.authority = Some(self.authority.clone());
        if uri.path_and_query.is_none() {
            uri.path_and_query = Some(PathAndQuery::from_static("/"));
        }
        parts.uri = Uri::from_parts(uri)?;
        parts.version = http::Version::HTTP_2;
        parts.extensions = http::Extensions::new();
        Ok(Request::from_parts(parts, body))
    }
}

impl Clone for PeerChannel {
    fn clone(&self) -> Self {
        Self {
            tcp: self.tcp.clone(),
            local: self.local.clone(),
            // A clone is not ready: readiness is the TCP channel's, per clone.
            ready: Ready::No,
        }
    }
}

impl std::fmt::Debug for PeerChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerChannel")
            .field("addr", &self.local.as_ref().map(|local| local.addr))
            .finish_non_exhaustive()
    }
}

impl From<Channel> for PeerChannel {
    /// A channel that always takes TCP.
    fn from(tcp: Channel) -> Self {
        Self {
            tcp,
            local: None,
            ready: Ready::No,
        }
    }
}

impl Service<Request<Body>> for PeerChannel {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = PeerFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if let Some(service) = self.local.as_ref().and_then(|local| local.current()) {
            self.ready = Ready::Local(service);
            return Poll::Ready(Ok(()));
        }
        match self.tcp.poll_ready(cx) {
            Poll::Ready(Ok(())) => {
                self.ready = Ready::Tcp;
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error.into())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let inner = match std::mem::replace(&mut self.ready, Ready::No) {
            Ready::Local(service) => {
                match self.local.as_ref().map(|local| local.prepare(request)) {
                    Some(Ok(request)) => Inner::Local {
                        inner: tower::ServiceExt::oneshot(service, request),
                    },
                    Some(Err(error)) => Inner::Failed {
                        error: Some(error.into()),
                    },
                    None => Inner::Failed {
                        error: Some("no in-process peer".into()),
                    },
                }
            }
            Ready::Tcp => Inner::Tcp {
                inner: self.tcp.call(request),
            },
            Ready::No => Inner::Failed {
                error: Some("PeerChannel called before it was ready".into()),
            },
        };
        PeerFuture { inner }
    }
}

pin_project_lite::pin_project! {
    /// The answer of one [`PeerChannel`] call.
    pub struct PeerFuture {
        #[pin]
        inner: Inner,
    }
}

pin_project_lite::pin_project! {
    #[project = InnerProj]
    enum Inner {
        Tcp { #[pin] inner: tonic::transport::channel::ResponseFuture },
        Local { #[pin] inner: Oneshot<LocalService, Request<Body>> },
        Failed { error: Option<BoxError> },
    }
}

impl Future for PeerFuture {
    type Output = Result<Response<Body>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().inner.project() {
            InnerProj::Tcp { inner } => inner.poll(cx).map_err(Into::into),
            InnerProj::Local { inner } => {
                let Ok(mut response) = std::task::ready!(inner.poll(cx));
                // The wire carries none of the server's extensions either.
                *response.extensions_mut() = http::Extensions::new();
                Poll::Ready(Ok(response))
            }
            InnerProj::Failed { error } => Poll::Ready(Err(error
                .take()
                .unwrap_or_else(|| "PeerChannel polled after completion".into()))),
        }
    }
}

/// One `grpc.health.v1` Check of `service` (`""` for the whole server) over `channel`: its
/// status name (`SERVING`, `NOT_SERVING`, …), or the status the check itself failed with.
pub async fn health_status<T>(channel: T, service: &str) -> Result<&'static str, tonic::Status>
where
    T: tonic::client::GrpcService<Body>,
    T::Error: Into<BoxError>,
    T::ResponseBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    <T::ResponseBody as http_body::Body>::Error: Into<BoxError> + Send,
{
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await?;
    Ok(ServingStatus::try_from(response.into_inner().status)
        .map_or("UNKNOWN", |status| status.as_str_name()))
}
