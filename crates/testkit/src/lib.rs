//! What sandbox06's tests share: the whole suite started in-process on ephemeral ports (talked
//! to through the edge, as an integrator would), the personas' ID numbers as named constants,
//! a store that fails on demand, a fake upstream, a TCP proxy that fails on demand, and the Redis
//! URL of the Redis-backed tests.

mod failing_store;
mod fake_upstream;
mod fault_proxy;
pub mod spans;
mod stub_component;

pub use failing_store::FailingStore;
pub use fake_upstream::{Answer, Fake, FakeUpstream};
pub use fault_proxy::{Fault, FaultProxy};
pub use stub_component::{STUB_SPEC, StubComponent};

use figment::{Figment, providers::Serialized};
use sandbox06::{Config, Suite, components};
use sandbox06_proto::citizen::citizen_service_client::CitizenServiceClient;
use tonic::transport::Channel;

pub use sandbox06_world::personas::ids as personas;

/// `n` single women old enough to marry (20 or older), none of them a persona: brides for tests
/// of concurrent marriages.
pub fn single_women(country: &sandbox06_world::Country, n: usize) -> Vec<String> {
    use sandbox06_world::person::Marital;
    let reference = country.reference_date();
    (0..country.population())
        .filter_map(|i| country.citizen_at(i))
        .filter_map(|c| country.person(c, sandbox06_world::View::Full))
        .filter(|p| {
            p.sex == sandbox06_vn::Sex::Female
                && p.marital == Marital::Single
                && p.is_alive()
                && p.persona.is_none()
                && sandbox06_world::rules::age_on(p.date_of_birth, reference) >= 20
        })
        .take(n)
        .map(|p| p.id.to_string())
        .collect()
}

/// The first generated single citizen of `sex` aged 25 or more, alive, no persona: one party of a
/// marriage a test records.
pub fn single_of(country: &sandbox06_world::Country, sex: sandbox06_vn::Sex) -> String {
    use sandbox06_world::person::Marital;
    let reference = country.reference_date();
    (0..country.population())
        .filter_map(|i| country.citizen_at(i))
        .filter_map(|c| country.person(c, sandbox06_world::View::Full))
        .find(|p| {
            p.sex == sex
                && p.marital == Marital::Single
                && p.is_alive()
                && p.persona.is_none()
                && sandbox06_world::rules::age_on(p.date_of_birth, reference) >= 25
        })
        .map(|p| p.id.to_string())
        .expect("a single citizen of that sex")
}

/// The reference date the tests' country is computed for, so verdicts do not drift with time.
pub const REFERENCE_DATE: &str = "2026-11-27";

/// The client the tests call the suite as: every scope of the contract.
pub const ADMIN_CLIENT: &str = "sandbox06-admin";
/// Its documented secret.
pub const ADMIN_SECRET: &str = "sandbox06-admin-secret";

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone, Debug)]
pub struct Bearer(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl Bearer {
    /// Adds nothing: calls without a token.
    pub fn none() -> Self {
        Self(None)
    }

    /// The interceptor for `token`.
    pub fn new(token: &str) -> Self {
        Self(Some(
            format!("Bearer {token}")
                .parse()
                .expect("a token is header-safe"),
        ))
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A channel to the edge that sends a token with every call.
pub type Edge = tonic::service::interceptor::InterceptedService<Channel, Bearer>;

/// A running suite and clients connected to its edge.
pub struct Harness {
    /// The suite.
    pub suite: Suite,
    /// The edge, every call carrying the admin client's token (every scope).
    pub edge: Edge,
    /// The edge without a token.
    pub channel: Channel,
    /// The admin client's access token.
    pub token: String,
}

/// The suite's config for tests: every port ephemeral, a fixed reference date.
pub fn test_config() -> Config {
    test_config_with(Figment::new())
}

/// [`test_config`] with more settings on top.
pub fn test_config_with(extra: Figment) -> Config {
    let every_port_ephemeral = components().iter().fold(Figment::new(), |f, c| {
        f.merge(Serialized::default(
            &format!("{}.listen", c.spec().section),
            "127.0.0.1:0",
        ))
    });
    let overrides = every_port_ephemeral
        .merge(Serialized::default(
            "population.reference_date",
            REFERENCE_DATE,
        ))
        .merge(extra);
    Config::load(None, overrides).expect("test config")
}

/// Starts the suite and waits until the edge reports it ready.
pub async fn start() -> Harness {
    start_with(&test_config()).await
}

/// Starts the suite with `config` and waits until the edge reports it ready.
pub async fn start_with(config: &Config) -> Harness {
    let mut suite = Suite::start(config).await.expect("suite starts");
    suite
        .wait_ready(std::time::Duration::from_secs(10))
        .await
        .expect("suite ready");
    let channel = Channel::from_shared(format!("http://{}", suite.edge))
        .expect("edge url")
        .connect()
        .await
        .expect("edge");
    let token = client_token(suite.edge, ADMIN_CLIENT, ADMIN_SECRET, None).await;
    let edge =
        tonic::service::interceptor::InterceptedService::new(channel.clone(), Bearer::new(&token));
    Harness {
        suite,
        edge,
        channel,
        token,
    }
}

impl Harness {
    /// The URL of component `name` (e.g. `population-db`), for tests that call it directly.
    pub fn url_of(&self, name: &str) -> String {
        let addr = self.suite.addr(name).expect("a component of the list");
        format!("http://{addr}")
    }

    /// A citizen service client through the edge.
    pub fn citizens(&self) -> CitizenServiceClient<Edge> {
        CitizenServiceClient::new(self.edge.clone())
    }

    /// Sets the suite's clock, running, to `hour`:00 in Vietnam on the suite's today: for tests
    /// whose verdicts depend on the time of day (lodging deadlines at 23:00, daily quotas and
    /// counts), which must not depend on when the test runs. The clock then stands on the
    /// reference date: when that is ahead of the system time, stored lifetimes age by the
    /// difference and tokens issued before (the harness's own) may have expired; get new ones.
    pub async fn set_time_of_day(&self, hour: u8) {
        use sandbox06_proto::admin::{self as admin, admin_service_client::AdminServiceClient};
        let clock = AdminServiceClient::new(self.edge.clone())
            .get_clock(admin::GetClockRequest {})
            .await
            .expect("the suite's clock")
            .into_inner();
        let today = clock.today.expect("today");
        let today = sandbox06_proto::dates::date_from_proto(&today, "today").expect("a date");
        self.set_clock_on(today, hour, false).await;
    }

    /// Sets the suite's clock to `hour`:00 in Vietnam on `day`, running or `frozen`.
    pub async fn set_clock_on(&self, day: time::Date, hour: u8, frozen: bool) {
        use sandbox06_proto::admin::{self as admin, admin_service_client::AdminServiceClient};
        let at = day
            .with_hms(hour, 0, 0)
            .expect("an hour of the day")
            .assume_offset(time::UtcOffset::from_hms(7, 0, 0).expect("Vietnam's offset"));
        AdminServiceClient::new(self.edge.clone())
            .set_clock(admin::SetClockRequest {
                time: Some(sandbox06_runtime::clock::timestamp_to_proto(at)),
                freeze: frozen,
            })
            .await
            .expect("the clock is set");
    }

    /// Makes `component` answer UNAVAILABLE through a fault rule: every call of it, or of
    /// `method` ("package.Service/Method") when given, the next `times` times (0: until the
    /// rules are cleared).
    pub async fn make_unavailable(&self, component: &str, method: Option<&str>, times: u32) {
        use sandbox06_proto::admin::{self as admin, admin_service_client::AdminServiceClient};
        AdminServiceClient::new(self.edge.clone())
            .create_fault_rule(admin::CreateFaultRuleRequest {
                rule: Some(admin::FaultRule {
                    component: component.to_owned(),
                    method: method.unwrap_or_default().to_owned(),
                    action: Some(admin::fault_rule::Action::Status(admin::StatusFault {
                        code: tonic::Code::Unavailable as i32,
                        ..admin::StatusFault::default()
                    })),
                    times,
                    ..admin::FaultRule::default()
                }),
            })
            .await
            .expect("the fault rule is made");
    }

    /// A citizen's full record as the population database holds it, asked of it directly.
    pub async fn record(&self, citizen_id: &str) -> sandbox06_proto::population::Citizen {
        use sandbox06_proto::population as pop;
        pop::population_service_client::PopulationServiceClient::connect(
            self.url_of("population-db"),
        )
        .await
        .expect("the population database")
        .get_citizen(pop::GetCitizenRequest {
            citizen_id: citizen_id.to_owned(),
            view: pop::RecordView::Full as i32,
        })
        .await
        .expect("a citizen of the database")
        .into_inner()
        .citizen
        .expect("a record")
    }
}

/// Waits, when Vietnam's midnight (17:00 UTC) is less than `margin` away, until it has passed:
/// for tests of the running clock, whose "today" moves at that midnight as the system's date
/// does.
pub async fn clear_of_vietnam_midnight(margin: std::time::Duration) {
    let vietnam = time::UtcOffset::from_hms(7, 0, 0).expect("Vietnam's offset");
    let now = time::OffsetDateTime::now_utc().to_offset(vietnam);
    let to_midnight = time::Duration::DAY - (now.time() - time::Time::MIDNIGHT);
    if to_midnight < margin {
        let wait = std::time::Duration::try_from(to_midnight).unwrap_or_default();
        tokio::time::sleep(wait + std::time::Duration::from_secs(1)).await;
    }
}

/// A client-credentials access token of `client` from the edge at `edge` (its token endpoint),
/// for `scope` or every scope the client may have.
pub async fn client_token(
    edge: std::net::SocketAddr,
    client: &str,
    secret: &str,
    scope: Option<&str>,
) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials")
        .append_pair("client_id", client)
        .append_pair("client_secret", secret);
    if let Some(scope) = scope {
        form.append_pair("scope", scope);
    }
    let request = http::Request::post("/oidc/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.finish())
        .expect("a request");
    let (status, body) = http1(edge, request).await;
    assert_eq!(status, http::StatusCode::OK, "token endpoint: {body}");
    let answer: serde_json::Value = serde_json::from_str(&body).expect("token JSON");
    answer["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

/// An HTTP/1.1 request to `addr` through a real client: (status, body).
pub async fn http1(
    addr: std::net::SocketAddr,
    request: http::Request<String>,
) -> (http::StatusCode, String) {
    use http_body_util::BodyExt;
    let (parts, body) = request.into_parts();
    let mut request =
        http::Request::from_parts(parts, http_body_util::Full::new(bytes::Bytes::from(body)));
    let uri = format!("http://{addr}{}", request.uri());
    *request.uri_mut() = uri.parse().expect("a valid uri");
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let response = client.request(request).await.expect("an HTTP answer");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the whole body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A component running alone (as `sandbox06 serve <name>` runs it); stops when dropped.
#[derive(Debug)]
pub struct RunningAlone {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), sandbox06_runtime::component::StartError>>,
}

impl RunningAlone {
    /// Its URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops it; what it ended with.
    pub async fn stop(mut self) -> Result<(), sandbox06_runtime::component::StartError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.expect("the component's task")
    }
}

impl Drop for RunningAlone {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts component `name` alone with the test config plus `extra` (its peers' URLs, say).
pub async fn serve_alone(name: &str, extra: Figment) -> RunningAlone {
    serve_alone_in(name, components(), extra).await
}

/// [`serve_alone`] for component `name` of `list` (the suite's list with more, say).
pub async fn serve_alone_in(
    name: &str,
    list: Vec<std::sync::Arc<dyn sandbox06_runtime::component::Component>>,
    extra: Figment,
) -> RunningAlone {
    let config = test_config_with(extra);
    let component = list
        .iter()
        .find(|c| c.spec().name == name)
        .cloned()
        .expect("a component of the list");
    let alone = sandbox06::Alone::bind_component(&config, component, list)
        .await
        .expect("the component binds");
    let addr = alone.addr().expect("its address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        alone
            .serve(
                &config,
                Box::pin(async {
                    let _ = stopped.await;
                }),
            )
            .await
    });
    RunningAlone {
        addr,
        stop: Some(stop),
        task,
    }
}

/// The citizen service alone, its population database at `url`.
pub async fn citizen_in_front_of(url: &str) -> RunningAlone {
    serve_alone(
        "citizen",
        Figment::new().merge(Serialized::default("citizen.population_url", url)),
    )
    .await
}

/// The edge alone, with `extra` settings, routing the citizen service to `citizen_url`; no
/// single sign-on runs (its backend is a closed port), so tokens are not enforced.
pub async fn edge_in_front_of(citizen_url: &str, extra: Figment) -> RunningAlone {
    // Every other service's backend is a closed port.
    let others = components()
        .iter()
        .filter(|c| c.spec().role == sandbox06_runtime::component::Role::Service)
        .fold(Figment::new(), |f, c| {
            f.merge(Serialized::default(
                &format!("gateway.backends.{}", c.spec().name),
                "http://127.0.0.1:9",
            ))
        });
    serve_alone(
        "gateway",
        others
            .merge(Serialized::default("gateway.enforce_auth", false))
            .merge(extra)
            .merge(Serialized::default("gateway.backends.citizen", citizen_url)),
    )
    .await
}

/// A store namespace no other test or test run uses, e.g. `sandbox06-test-outbox-4242-…`.
pub fn unique_namespace(label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    format!("sandbox06-test-{label}-{}-{nanos}", std::process::id())
}

/// Deletes the state every component of the suite keeps under `config`'s store (each in its
/// own namespace, [`sandbox06_store::StoreConfig::for_component`]), every tenant's state
/// with it: a Redis-backed test's clean-up.
pub async fn clear_stores(config: &Config) {
    use sandbox06_store::Store as _;
    for component in components() {
        let store = config
            .store
            .for_component(component.spec().name)
            .open_by_tenant(&[])
            .await
            .expect("the store opens");
        store.clear().await.expect("the store clears");
    }
}

/// The Redis URL of the Redis-backed tests, or `None` (after saying they are skipped).
pub fn redis_url(test: &str) -> Option<String> {
    match std::env::var("SANDBOX06_TEST_REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            // Written past the test harness's output capture, so the skip shows in every run.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "{test}: skipped, SANDBOX06_TEST_REDIS_URL is not set"
            );
            None
        }
    }
}
