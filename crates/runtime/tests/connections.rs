//! Every listener bounds its connections: how many, how long one may take to say what it wants,
//! and how long it may stay open doing nothing.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use sandbox06_runtime::config::Limits;
use sandbox06_runtime::server::{ServerBuilder, bind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server with `limits` whose every unknown path hangs; its address. Stops when the test ends.
async fn server(limits: Limits) -> SocketAddr {
    let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hang = tower::service_fn(|_request: http::Request<axum::body::Body>| async {
        std::future::pending::<Result<http::Response<axum::body::Body>, Infallible>>().await
    });
    let server = ServerBuilder::new(&limits).fallback(hang);
    tokio::spawn(server.serve(listener, std::future::pending()));
    addr
}

fn limits(change: impl FnOnce(&mut Limits)) -> Limits {
    let mut limits = Limits::default();
    change(&mut limits);
    limits
}

/// Reads until the server closes the connection (or `within` passes): whether it did.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 4096];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

async fn health(addr: SocketAddr) -> Result<&'static str, tonic::Status> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy();
    sandbox06_runtime::client::health_status(channel, "").await
}

#[tokio::test]
async fn a_connection_that_says_nothing_is_closed_after_the_handshake_timeout() {
    let addr = server(limits(|l| l.handshake_timeout_seconds = 1)).await;
    let mut silent = TcpStream::connect(addr).await.unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(8)).await);
    // Half an HTTP/1.1 request head is not a request either.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    assert!(closed_within(&mut slow, Duration::from_secs(8)).await);
}

#[tokio::test]
async fn an_idle_connection_is_closed_but_one_with_an_open_call_is_not() {
    let addr = server(limits(|l| l.idle_timeout_seconds = 1)).await;
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0u8; 12];
    idle.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    assert!(closed_within(&mut idle, Duration::from_secs(8)).await);

    // A call the server has not answered yet keeps its connection, however quiet.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = tonic::client::Grpc::new(channel);
    client.ready().await.unwrap();
    let call = client.unary::<(), (), _>(
        tonic::Request::new(()),
        http::uri::PathAndQuery::from_static("/a.B/Hangs"),
        tonic_prost::ProstCodec::default(),
    );
    assert!(
        tokio::time::timeout(Duration::from_secs(3), call)
            .await
            .is_err(),
        "the call is still waiting for its answer"
    );
}

#[tokio::test]
async fn past_the_connection_limit_new_connections_wait_for_one_to_close() {
    let addr = server(limits(|l| l.max_connections = 2)).await;
    let first = TcpStream::connect(addr).await.unwrap();
    let _second = TcpStream::connect(addr).await.unwrap();
    // The third is in the listen backlog: its handshake gets no answer.
    let waiting = tokio::spawn(health(addr));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "served past the limit");
    drop(first);
    let answered = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("served once a connection closed")
        .unwrap();
    assert_eq!(answered.unwrap(), "SERVING");
}
