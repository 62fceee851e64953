//! A listener whose process has run out of file descriptors backs off instead of spinning a
//! core, and serves again once descriptors are free. Alone in its test binary: it lowers the
//! process's descriptor limit.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::net::SocketAddr;
use std::time::Duration;

use sandbox06_runtime::config::Limits;
use sandbox06_runtime::server::{ServerBuilder, bind};

/// CPU time (user and system) the process has used so far.
fn cpu_time() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

fn set_soft_descriptor_limit(limit: u64) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut current = getrlimit(Resource::Nofile);
    current.current = Some(match current.maximum {
        Some(maximum) => limit.min(maximum),
        None => limit,
    });
    setrlimit(Resource::Nofile, current).unwrap();
}

fn open_descriptors() -> u64 {
    std::fs::read_dir("/proc/self/fd").unwrap().count() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_descriptors_the_listener_backs_off_and_recovers() {
    let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(ServerBuilder::new(&Limits::default()).serve(listener, std::future::pending()));
    tokio::time::sleep(Duration::from_millis(100)).await;

    set_soft_descriptor_limit(open_descriptors() + 32);
    // Clients until the process has no descriptor left: the ones they queued in the backlog
    // cannot be accepted.
    let mut clients = Vec::new();
    while let Ok(client) = std::net::TcpStream::connect(addr) {
        clients.push(client);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    let before = cpu_time();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let spent = cpu_time() - before;
    assert!(
        spent < Duration::from_millis(300),
        "{spent:?} of CPU in a second without descriptors: the listener spins"
    );

    drop(clients);
    set_soft_descriptor_limit(u64::MAX);
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy();
    let status = tokio::time::timeout(
        Duration::from_secs(5),
        sandbox06_runtime::client::health_status(channel, ""),
    )
    .await
    .expect("served again once descriptors are free");
    assert_eq!(status.unwrap(), "SERVING");
}
