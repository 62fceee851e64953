//! The edge's journal of calls, for contract tests (`sandbox06.admin.v1.JournalControl`).
//!
//! Every call that reaches the edge as gRPC, gRPC-Web or REST is recorded once, whatever its
//! outcome: refused by the authorizer, not routed, failed in its backend, past its deadline.
//! The call's entry point (`proxy.rs` for gRPC, `rest/` for REST) opens a [`Recording`]; the
//! phases and the bodies of the call fill it in; the entry is committed when the last part of
//! the call holding it is gone (the answer's body ended, or the call was dropped), so a call is
//! recorded exactly once, in the order calls end.
//!
//! On the call path the journal only keeps what it is handed: the bodies' bytes as they pass
//! (copied, up to `gateway.journal.max_body_bytes` a side: a `Bytes` clone would hold on to the
//! whole transport buffer it shares, past the bound), the status headers (`HeaderValue`
//! clones), the caller's names. JSON rendering and masking happen when the
//! journal is read ([`render`]). With `gateway.journal.enabled = false` no recording is opened
//! at all.
//!
//! The journal keeps at most `gateway.journal.max_entries` calls, dropping the oldest first,
//! in the edge's memory only.
//!
//! Each entry keeps the call's `x-sandbox06-tenant` header (a header value's clone, only when
//! the call carries one): a caller of `JournalControl` with a tenant lists, verifies and clears
//! that tenant's calls only; one without a tenant, every call. The bound and its count of
//! dropped entries are the journal's, shared by every tenant.

mod render;
mod service;
mod tap;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use http::{HeaderMap, HeaderValue};
use sandbox06_runtime::config::ConfigError;
use serde::{Deserialize, Serialize};

pub(crate) use self::service::JournalService;
pub(crate) use self::tap::{Side, Tap};

/// How request and response bodies are kept (`gateway.journal.bodies`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bodies {
    /// As JSON with personal data masked as the logs mask it (the default).
    #[default]
    Masked,
    /// As JSON as sent: only for a suite serving synthetic data.
    Full,
    /// Not kept: message counts only.
    None,
}

/// The `gateway.journal` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JournalConfig {
    /// Record calls and serve `JournalControl` (default `true`).
    pub enabled: bool,
    /// Most calls kept; the oldest is dropped first (default 1000).
    pub max_entries: usize,
    /// Most bytes of each call's request, and of its response, kept for their bodies (default
    /// 16 KiB each); the messages past it are counted, not kept.
    pub max_body_bytes: usize,
    /// How bodies are kept: `masked` (default), `full` or `none`.
    pub bodies: Bodies,
}

/// The most entries `gateway.journal.max_entries` may ask for.
const MAX_ENTRIES_LIMIT: usize = 1_000_000;
/// The most bytes a side `gateway.journal.max_body_bytes` may ask for.
const MAX_BODY_BYTES_LIMIT: usize = 16 * 1024 * 1024;

impl Default for JournalConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_entries: 1000,
            max_body_bytes: 16 * 1024,
            bodies: Bodies::Masked,
        }
    }
}

impl JournalConfig {
    /// Refuses bounds the journal cannot keep; `section` is where the keys live
    /// (`gateway.journal`).
    pub fn check(&self, section: &str) -> Result<(), ConfigError> {
        if !(1..=MAX_ENTRIES_LIMIT).contains(&self.max_entries) {
            return Err(ConfigError::Value {
                key: format!("{section}.max_entries"),
                message: format!(
                    "must be 1 to {MAX_ENTRIES_LIMIT} (set enabled = false to keep no journal), not {}",
                    self.max_entries
                ),
            });
        }
        if self.max_body_bytes > MAX_BODY_BYTES_LIMIT {
            return Err(ConfigError::Value {
                key: format!("{section}.max_body_bytes"),
                message: format!(
                    "must be at most {MAX_BODY_BYTES_LIMIT}, not {}",
                    self.max_body_bytes
                ),
            });
        }
        Ok(())
    }
}

/// How a call reached the edge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// gRPC over HTTP/2.
    #[default]
    Grpc,
    /// gRPC-Web, turned into gRPC by the server.
    GrpcWeb,
    /// REST, transcoded.
    Rest,
}

impl Protocol {
    /// gRPC-Web or gRPC, from a call's headers as the edge receives it: the server has already
    /// turned gRPC-Web into gRPC, but such a call still comes over HTTP/1.1, or carries the
    /// headers gRPC-Web clients send.
    pub(crate) fn of_grpc(request: &http::Request<axum::body::Body>) -> Self {
        let headers = request.headers();
        let web_agent = headers
            .get("x-user-agent")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("grpc-web"));
        if request.version() < http::Version::HTTP_2
            || headers.contains_key("x-grpc-web")
            || web_agent
        {
            Protocol::GrpcWeb
        } else {
            Protocol::Grpc
        }
    }
}

/// A REST call's HTTP side.
#[derive(Clone, Debug, Default)]
pub(crate) struct HttpSide {
    pub(crate) method: http::Method,
    /// The route's template, or the path with its digit runs masked.
    pub(crate) template: String,
    pub(crate) status: u16,
}

/// What the journal keeps of one side's body: its gRPC frames as they passed.
#[derive(Clone, Debug, Default)]
pub(crate) struct Captured {
    /// The data frames kept, whole and in order.
    pub(crate) bytes: Vec<u8>,
    /// Some bytes were not kept.
    pub(crate) truncated: bool,
    /// Messages that passed (counted from the 5-byte frame headers).
    pub(crate) counter: tap::FrameCounter,
}

/// What is known of a call, filled in as it goes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Facts {
    pub(crate) protocol: Protocol,
    /// The full method path (`/pkg.Service/Method`); masked when not a method of the contract.
    pub(crate) method: String,
    pub(crate) http: Option<HttpSide>,
    pub(crate) client_id: Option<String>,
    pub(crate) subject: Option<String>,
    /// The gRPC status code, once known.
    pub(crate) code: Option<i32>,
    /// `grpc-message`, as received.
    pub(crate) message: Option<HeaderValue>,
    /// `grpc-status-details-bin`, as received.
    pub(crate) details: Option<HeaderValue>,
    /// A reason known without details (a REST refusal before the call).
    pub(crate) reason: Option<String>,
    /// `traceparent` of the call toward the backend, or as the caller sent it.
    pub(crate) traceparent: Option<HeaderValue>,
    /// The call's `x-sandbox06-tenant` header, when it carries a well-formed one.
    pub(crate) tenant: Option<HeaderValue>,
    pub(crate) request: Captured,
    pub(crate) response: Captured,
}

impl Facts {
    /// Takes the gRPC status of `headers` (a trailers-only answer, or trailers), when they
    /// carry one.
    pub(crate) fn status_from(&mut self, headers: &HeaderMap) {
        let Some(code) = headers
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i32>().ok())
        else {
            return;
        };
        self.code = Some(code);
        self.message = headers.get("grpc-message").cloned();
        self.details = headers.get("grpc-status-details-bin").cloned();
    }
}

/// One recorded call.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) sequence: u64,
    pub(crate) time: SystemTime,
    pub(crate) latency: Duration,
    pub(crate) facts: Facts,
}

impl Entry {
    /// The gRPC code of the call (every entry has one once committed).
    pub(crate) fn code(&self) -> i32 {
        self.facts.code.unwrap_or(tonic::Code::Unknown as i32)
    }

    /// Whether a caller of `tenant` sees the entry: one of that tenant's calls, or any call for
    /// a caller without a tenant.
    pub(crate) fn seen_by(&self, tenant: Option<&str>) -> bool {
        tenant.is_none_or(|tenant| {
            self.facts
                .tenant
                .as_ref()
                .is_some_and(|value| value.as_bytes() == tenant.as_bytes())
        })
    }
}

/// The kept entries, oldest first.
#[derive(Debug, Default)]
struct State {
    entries: VecDeque<Arc<Entry>>,
    /// The next entry's sequence number.
    next: u64,
    /// Entries dropped by the bound since the last clear.
    dropped: u64,
}

/// The journal of one edge.
#[derive(Debug)]
pub(crate) struct Journal {
    config: JournalConfig,
    state: Mutex<State>,
}

impl Journal {
    /// An empty journal kept as `config` says.
    pub(crate) fn new(config: JournalConfig) -> Arc<Self> {
        Arc::new(Self {
            config,
            state: Mutex::new(State {
                next: 1,
                ..State::default()
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves whole entries behind: go on with them.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How bodies are kept.
    pub(crate) fn bodies(&self) -> Bodies {
        self.config.bodies
    }

    /// Opens the recording of a call that reached the edge now.
    pub(crate) fn record(self: &Arc<Self>, protocol: Protocol) -> Recording {
        Recording(Arc::new(Draft {
            journal: Arc::clone(self),
            time: SystemTime::now(),
            started: Instant::now(),
            deadline: sandbox06_runtime::deadline::remaining().map(|left| Instant::now() + left),
            facts: Mutex::new(Facts {
                protocol,
                ..Facts::default()
            }),
        }))
    }

    fn commit(&self, time: SystemTime, latency: Duration, facts: Facts) {
        let mut state = self.state();
        let sequence = state.next;
        state.next += 1;
        state.entries.push_back(Arc::new(Entry {
            sequence,
            time,
            latency,
            facts,
        }));
        while state.entries.len() > self.config.max_entries {
            state.entries.pop_front();
            state.dropped += 1;
        }
    }

    /// The entries `keep` accepts, newest first, while `more` says to go on; and the number
    /// dropped since the last clear.
    pub(crate) fn select(
        &self,
        mut keep: impl FnMut(&Entry) -> bool,
        mut more: impl FnMut(usize) -> bool,
    ) -> (Vec<Arc<Entry>>, u64) {
        let state = self.state();
        let mut found = Vec::new();
        for entry in state.entries.iter().rev() {
            if !more(found.len()) {
                break;
            }
            if keep(entry) {
                found.push(Arc::clone(entry));
            }
        }
        (found, state.dropped)
    }

    /// Forgets the entries a caller of `tenant` sees (that tenant's, or every entry without a
    /// tenant: every entry); the number forgotten. Only a clear of every entry starts the count of dropped
    /// entries again.
    pub(crate) fn clear_as(&self, tenant: Option<&str>) -> usize {
        let mut state = self.state();
        if tenant.is_none() {
            state.dropped = 0;
            return std::mem::take(&mut state.entries).len();
        }
        let before = state.entries.len();
        state.entries.retain(|entry| !entry.seen_by(tenant));
        before - state.entries.len()
    }
}

/// Whether the call of gRPC `path` is recorded: every call but those of the sandbox's own
/// controls (`sandbox06.admin.v1`: the admin surface, and the control services the admin calls
/// on the edge), which would otherwise crowd the calls a test verifies, as an admin API's
/// calls stay out of a mock server's request log.
pub(crate) fn records(path: &str) -> bool {
    !path
        .strip_prefix('/')
        .is_some_and(|name| name.starts_with(sandbox06_runtime::faults::CONTROLS_PACKAGE))
}

/// A call being recorded: committed to the journal when the last clone is dropped.
#[derive(Clone, Debug)]
pub(crate) struct Recording(Arc<Draft>);

#[derive(Debug)]
struct Draft {
    journal: Arc<Journal>,
    time: SystemTime,
    started: Instant,
    /// When the call's deadline passes, as the server set it.
    deadline: Option<Instant>,
    facts: Mutex<Facts>,
}

impl Recording {
    /// Runs `f` on the call's facts.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Facts) -> R) -> R {
        f(&mut self.0.facts.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The most body bytes kept a side; `None` when bodies are not kept.
    pub(crate) fn max_body_bytes(&self) -> Option<usize> {
        match self.0.journal.config.bodies {
            Bodies::None => None,
            Bodies::Masked | Bodies::Full => Some(self.0.journal.config.max_body_bytes),
        }
    }
}

impl Drop for Draft {
    fn drop(&mut self) {
        let mut facts =
            std::mem::take(self.facts.get_mut().unwrap_or_else(PoisonError::into_inner));
        if facts.code.is_none() {
            // No answer: the server gave up at the deadline, or the caller went away.
            let late = self.deadline.is_some_and(|at| Instant::now() >= at);
            facts.code = Some(if late {
                tonic::Code::DeadlineExceeded as i32
            } else {
                tonic::Code::Cancelled as i32
            });
        }
        self.journal
            .commit(self.time, self.started.elapsed(), facts);
    }
}
