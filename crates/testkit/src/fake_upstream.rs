//! A fake upstream: a real gRPC server that answers every call the way a test tells it to (an
//! empty message, a status, or never), so a service's handling of a failing or stalled upstream
//! is tested over a real socket. It runs on a loopback port of its own ([`FakeUpstream`]), or in
//! a component's place in the suite ([`Fake::component`]).

use std::{
    convert::Infallible,
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use bytes::Bytes;
use figment::Figment;
use http_body_util::{BodyExt as _, Full};
use sandbox06_runtime::{
    component::{Component, ComponentSpec, Context, Running, Shutdown, StartError},
    config::{ConfigError, Limits},
    server::ServerBuilder,
};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tonic::{Code, Status};

/// How the fake answers every call.
#[derive(Clone, Debug)]
pub enum Answer {
    /// OK with an empty message: every field of the method's response at its default.
    Empty,
    /// A gRPC status (trailers only), with this code and message.
    Status(Code, String),
    /// No answer at all: the call hangs until the caller gives up.
    Stall,
}

/// One call the fake received.
#[derive(Clone, Debug)]
struct Call {
    path: String,
    headers: http::HeaderMap,
}

/// What a fake answers and the calls it received: a handle shared by its server and the test.
#[derive(Clone, Debug)]
pub struct Fake {
    answer: Arc<Mutex<Answer>>,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Fake {
    /// A fake answering `answer` to every call.
    pub fn new(answer: Answer) -> Self {
        Self {
            answer: Arc::new(Mutex::new(answer)),
            calls: Arc::default(),
        }
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
    pub fn deadlines(&self) -> Vec<Option<Duration>> {
        lock(&self.calls)
            .iter()
            .map(|call| sandbox06_runtime::deadline::grpc_timeout(&call.headers))
            .collect()
    }

    /// The headers (gRPC metadata) each call so far came with, in order.
    pub fn headers(&self) -> Vec<http::HeaderMap> {
        lock(&self.calls)
            .iter()
            .map(|call| call.headers.clone())
            .collect()
    }

    /// The fake in the place of `spec`'s component: it serves on the listener the suite gives
    /// it (so calls from the suite's other components take no socket), under the component's
    /// name, with every gRPC service of `spec` listed and SERVING.
    pub fn component(&self, spec: &'static ComponentSpec) -> Arc<dyn Component> {
        Arc::new(FakeComponent {
            spec,
            fake: self.clone(),
        })
    }

    /// A server answering every call as told, its services still to add.
    fn server(&self, limits: &Limits) -> ServerBuilder {
        let fake = self.clone();
        let respond = tower::service_fn(move |request: http::Request<axum::body::Body>| {
            let fake = fake.clone();
            async move {
                lock(&fake.calls).push(Call {
                    path: request.uri().path().to_owned(),
                    headers: request.headers().clone(),
                });
                let answer = lock(&fake.answer).clone();
                match answer {
                    Answer::Empty => Ok::<_, Infallible>(empty_message()),
                    Answer::Status(code, message) => {
                        Ok(Status::new(code, message).into_http::<axum::body::Body>())
                    }
                    Answer::Stall => std::future::pending().await,
                }
            }
        });
        ServerBuilder::new(limits).fallback(respond)
    }
}

/// A gRPC OK answer carrying one empty message, which decodes as any message's default.
fn empty_message() -> http::Response<axum::body::Body> {
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
    // The message frame: not compressed, zero bytes long.
    let body = Full::new(Bytes::from_static(&[0, 0, 0, 0, 0]))
        .map_err(|never| match never {})
        .with_trailers(async move { Some(Ok::<_, Infallible>(trailers)) });
    let mut response = http::Response::new(axum::body::Body::new(body));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/grpc"),
    );
    response
}

/// A [`Fake`] serving as a component of the suite.
#[derive(Debug)]
struct FakeComponent {
    spec: &'static ComponentSpec,
    fake: Fake,
}

impl Component for FakeComponent {
    fn spec(&self) -> &'static ComponentSpec {
        self.spec
    }

    fn listen(&self, _config: &Figment) -> Result<SocketAddr, ConfigError> {
        Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }

    fn serve(&self, ctx: Context, listener: TcpListener, shutdown: Shutdown) -> Running {
        let name = self.spec.name;
        let server = self.spec.grpc_services.iter().fold(
            self.fake.server(&ctx.limits).component(name),
            |server, service| server.list_service(*service),
        );
        Box::pin(async move {
            server
                .serve_while(listener, shutdown, || async { true })
                .await
                .map_err(StartError::serve(name))
        })
    }
}

/// A running fake upstream on a loopback port of its own; stops when dropped. It reads as its
/// [`Fake`]: `answer`, `calls`, `deadlines`, `headers`.
#[derive(Debug)]
pub struct FakeUpstream {
    /// Where it listens.
    pub addr: SocketAddr,
    fake: Fake,
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
        let fake = Fake::new(answer);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = fake.server(&Limits::default());
        let task = tokio::spawn(async move {
            let _ = server
                .serve(listener, async {
                    let _ = stopped.await;
                })
                .await;
        });
        FakeUpstream {
            addr,
            fake,
            stop: Some(stop),
            task,
        }
    }

    /// Its URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl std::ops::Deref for FakeUpstream {
    type Target = Fake;

    fn deref(&self) -> &Fake {
        &self.fake
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
