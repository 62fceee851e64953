//! A fake upstream: a real gRPC server on a loopback port that answers every call the way a
//! test tells it to (a status, or never), so a service's handling of a failing or stalled
//! upstream is tested over a real socket.

use std::{
    convert::Infallible,
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
};

use sandbox06_runtime::{config::Limits, server::ServerBuilder};
use tokio::{sync::oneshot, task::JoinHandle};
use tonic::{Code, Status};

/// How the fake answers every call.
#[derive(Clone, Debug)]
pub enum Answer {
    /// A gRPC status (trailers only), with this code and message.
    Status(Code, String),
    /// No answer at all: the call hangs until the caller gives up.
    Stall,
}

/// One call the fake received.
#[derive(Clone, Debug)]
struct Call {
    path: String,
    deadline: Option<std::time::Duration>,
}

/// A running fake upstream; stops when dropped.
#[derive(Debug)]
pub struct FakeUpstream {
    /// Where it listens.
    pub addr: SocketAddr,
    answer: Arc<Mutex<Answer>>,
    calls: Arc<Mutex<Vec<Call>>>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl FakeUpstream {
    /// Starts a fake on an ephemeral loopback port, answering `answer` to every call.
    pub async fn start(answer: Answer) -> FakeUpstream {
        let listener = sandbox06_runtime::server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let answer = Arc::new(Mutex::new(answer));
        let calls = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = oneshot::channel::<()>();
        let respond = {
            let answer = Arc::clone(&answer);
            let calls = Arc::clone(&calls);
            tower::service_fn(move |request: http::Request<axum::body::Body>| {
                let answer = Arc::clone(&answer);
                let calls = Arc::clone(&calls);
                async move {
                    lock(&calls).push(Call {
                        path: request.uri().path().to_owned(),
                        deadline: sandbox06_runtime::deadline::grpc_timeout(request.headers()),
                    });
                    let answer = lock(&answer).clone();
                    match answer {
                        Answer::Status(code, message) => Ok::<_, Infallible>(
                            Status::new(code, message).into_http::<axum::body::Body>(),
                        ),
                        Answer::Stall => std::future::pending().await,
                    }
                }
            })
        };
        let server = ServerBuilder::new(&Limits::default()).fallback(respond);
        let task = tokio::spawn(async move {
            let _ = server
                .serve(listener, async {
                    let _ = stopped.await;
                })
                .await;
        });
        FakeUpstream {
            addr,
            answer,
            calls,
            stop: Some(stop),
            task,
        }
    }

    /// Its URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers `answer` to every call from now on.
    pub fn answer(&self, answer: Answer) {
        *lock(&self.answer) = answer;
    }

    /// The paths called so far, e.g. `/sandbox06.upstream.population.v1.PopulationService/GetCitizen`.
    pub fn calls(&self) -> Vec<String> {
        lock(&self.calls)
            .iter()
            .map(|call| call.path.clone())
            .collect()
    }

    /// The deadline (`grpc-timeout`) each call so far came with, in order.
    pub fn deadlines(&self) -> Vec<Option<std::time::Duration>> {
        lock(&self.calls).iter().map(|call| call.deadline).collect()
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
