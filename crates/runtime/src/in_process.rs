//! The in-process registry: every server of a process that allows in-process hops
//! ([`crate::config::Limits::in_process_hops`]) registers its whole layered service under its
//! listener's address while it serves, and a [`crate::client::PeerChannel`] to that address
//! calls it directly: no HTTP/2, no socket, the messages still encoded and decoded and every
//! layer of the server (trace context, deadline, message limit, decode errors, panics) still
//! run. A server that stops serving is removed first, so later calls go to its (closed) socket
//! and fail as they would between processes.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, PoisonError, RwLock};

use http::{Request, Response};
use tower::util::BoxCloneSyncService;

/// A server's whole stack as a client calls it in-process.
pub(crate) type LocalService =
    BoxCloneSyncService<Request<tonic::body::Body>, Response<tonic::body::Body>, Infallible>;

struct Registered {
    id: u64,
    service: LocalService,
}

/// The registered servers by listener address.
static SERVERS: LazyLock<RwLock<HashMap<SocketAddr, Registered>>> = LazyLock::new(RwLock::default);
/// Bumped on every registration and removal: a channel's cached answer is good while it holds.
static GENERATION: AtomicU64 = AtomicU64::new(1);
/// Numbers the registrations, so that a server only ever removes its own.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The registry's current generation.
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// The service registered at `addr` (or, for a loopback address, at the unspecified address
/// of the same port, which also listens there).
pub(crate) fn lookup(addr: SocketAddr) -> Option<LocalService> {
    let servers = SERVERS.read().unwrap_or_else(PoisonError::into_inner);
    if servers.is_empty() {
        return None;
    }
    let found = servers.get(&addr).or_else(|| {
        let any = match addr.ip() {
            IpAddr::V4(ip) if ip.is_loopback() => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(ip) if ip.is_loopback() => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => return None,
        };
        servers.get(&SocketAddr::new(any, addr.port()))
    });
    found.map(|registered| registered.service.clone())
}

/// Whether a server is registered at `addr` (as [`lookup`] finds it): calls to it from this
/// process take no socket.
pub fn is_registered(addr: SocketAddr) -> bool {
    lookup(addr).is_some()
}

/// A server's place in the registry; dropping it removes the server.
#[derive(Debug)]
pub(crate) struct Registration {
    addr: SocketAddr,
    id: u64,
}

/// Registers `service` as the server listening at `addr` until the registration is dropped.
pub(crate) fn register(addr: SocketAddr, service: LocalService) -> Registration {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    SERVERS
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(addr, Registered { id, service });
    GENERATION.fetch_add(1, Ordering::AcqRel);
    Registration { addr, id }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut servers = SERVERS.write().unwrap_or_else(PoisonError::into_inner);
        if servers.get(&self.addr).is_some_and(|r| r.id == self.id) {
            servers.remove(&self.addr);
            GENERATION.fetch_add(1, Ordering::AcqRel);
        }
    }
}
