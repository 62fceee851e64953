//! A TCP proxy that can fail on demand, put between a component and what it depends on (Redis,
//! say): passing bytes, a black hole (connections stay open and nothing crosses, as in a network
//! partition), or refusing (every connection closed at once, as when the server is gone).

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does with connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Bytes cross both ways.
    None,
    /// Nothing crosses; connections stay open.
    BlackHole,
    /// Open connections are closed, new ones closed on arrival.
    Refuse,
}

/// A running proxy; stops when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    /// Where it listens.
    pub addr: SocketAddr,
    fault: watch::Sender<Fault>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// A proxy on an ephemeral loopback port, in front of `target`, passing bytes.
    pub async fn start(target: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let (fault, watching) = watch::channel(Fault::None);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if *watching.borrow() == Fault::Refuse {
                    continue;
                }
                tokio::spawn(relay(client, target, watching.clone()));
            }
        });
        FaultProxy { addr, fault, task }
    }

    /// From now on, `fault`.
    pub fn set(&self, fault: Fault) {
        self.fault.send_replace(fault);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Relays one connection while the proxy lets it.
async fn relay(mut client: TcpStream, target: SocketAddr, mut fault: watch::Receiver<Fault>) {
    let Ok(mut server) = TcpStream::connect(target).await else {
        return;
    };
    let (mut from_client, mut to_client) = client.split();
    let (mut from_server, mut to_server) = server.split();
    let mut up = vec![0u8; 16 * 1024];
    let mut down = vec![0u8; 16 * 1024];
    loop {
        let passing = *fault.borrow() == Fault::None;
        tokio::select! {
            read = from_client.read(&mut up), if passing => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => if to_server.write_all(&up[..n]).await.is_err() { return },
            },
            read = from_server.read(&mut down), if passing => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => if to_client.write_all(&down[..n]).await.is_err() { return },
            },
            changed = fault.changed() => {
                if changed.is_err() || *fault.borrow() == Fault::Refuse {
                    return;
                }
            }
        }
    }
}
