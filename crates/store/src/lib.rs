//! State: one [`Store`] abstraction with two backends that behave identically.
//!
//! - [`MemoryStore`] (the default, `memory`): nothing to install; state lives as long as the
//!   process and belongs to one store value.
//! - [`RedisStore`] (`redis://…`): shared by every replica opened on the same URL and namespace;
//!   as durable as the Redis server is configured to be (AOF).
//!
//! A store holds two kinds of values under string keys: byte strings (with an optional TTL) and
//! append-only lists of byte strings. Reading or appending a key as the other kind is an error in
//! both backends, as it is in Redis.
//!
//! [`Store::append_if_len`] is the one write that depends on what is stored: it appends to one or
//! more lists only while each still has the length the caller read, all or nothing, so a
//! read-check-write cycle cannot be overtaken by another writer (another task, or another
//! replica on the same Redis). On Redis it is one Lua script; on a Redis Cluster every key of
//! one call must carry the same hash tag.
//!
//! The outbox operations (`outbox_*`, from [`Store::outbox_commit`]) keep entries
//! to deliver elsewhere: one is enqueued in the same atomic step as a state write, and workers
//! claim entries under a lease, acknowledge the delivered ones and trim them.
//!
//! Every key lives under the store's namespace: Redis sees `<namespace>:<key>`. Keys that must
//! land in one Redis Cluster slot carry a hash tag themselves, for example
//! `population:{overlay:058090001234}`; the namespace never contains braces, so the caller's tag
//! is the one Redis hashes.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sandbox06_store::StoreError> {
//! let store = sandbox06_store::open("memory", "sandbox06").await?;
//! store.append("population:{overlay:058090001234}", b"moved").await?;
//! assert_eq!(store.list("population:{overlay:058090001234}").await?.len(), 1);
//! # Ok(())
//! # }
//! ```

mod checked;
mod outbox;

pub use checked::CheckedStore;
pub use outbox::{
    Delivery, EntryId, EntryStatus, OUTBOX_BATCH_MAX, OutboxEntry, StateWrite, hash_tag,
};

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// Namespace used when the configuration names none.
pub const DEFAULT_NAMESPACE: &str = "sandbox06";

/// URL of the in-process backend.
pub const MEMORY_URL: &str = "memory";

/// Longest TTL a store keeps; longer ones are shortened to it (about 2,230 years), because Redis
/// rejects expiry times that overflow its clock.
pub const MAX_TTL: Duration = Duration::from_millis(1 << 46);

/// How long [`RedisStore::connect`] waits for Redis before giving up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long one Redis command may take before it fails instead of hanging a request.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

fn no_answer() -> String {
    format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())
}

/// Keys deleted per `UNLINK` while clearing a namespace.
const CLEAR_BATCH: usize = 500;

/// A failed store operation.
///
/// The message never contains the key: keys carry personal ID numbers.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{backend} store {operation} failed: {message}")]
pub struct StoreError {
    /// `memory` or `redis` (or `store` when no backend was chosen yet).
    pub backend: &'static str,
    /// The operation that failed, e.g. `append` or `connect`.
    pub operation: &'static str,
    /// What went wrong.
    pub message: String,
}

impl StoreError {
    fn new(backend: &'static str, operation: &'static str, message: impl Into<String>) -> Self {
        Self {
            backend,
            operation,
            message: message.into(),
        }
    }
}

/// Key-value and list storage shared by the services; see the [module docs](self).
#[async_trait::async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// Appends `value` to the list at `key`, creating the list when absent.
    async fn append(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;

    /// Appends each [`ListAppend::value`] to its list only when every list of `appends` has
    /// exactly its [`ListAppend::expected_len`] items (an absent list has none); whether it
    /// appended. All the appends happen, or none, as one step no other write comes between.
    ///
    /// On a Redis Cluster the keys of one call must share a hash tag (one slot).
    async fn append_if_len(&self, appends: &[ListAppend<'_>]) -> Result<bool, StoreError>;

    /// The whole list at `key`, oldest first; empty when absent.
    async fn list(&self, key: &str) -> Result<Vec<Vec<u8>>, StoreError>;

    /// Sets `key` to `value`, replacing any value of either kind; it expires after `ttl`.
    ///
    /// A TTL below one millisecond counts as one millisecond; one above [`MAX_TTL`] as
    /// [`MAX_TTL`].
    async fn put(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError>;

    /// The value at `key`, `None` when absent or expired.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Deletes `key` of either kind; whether it was there.
    async fn delete(&self, key: &str) -> Result<bool, StoreError>;

    /// Sets `key` like [`Store::put`] only when it holds nothing; whether it was set.
    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError>;

    /// Deletes every key of this store's namespace, and nothing else (the sandbox reset).
    /// Outboxes go too, and their entry ids start from 1 again.
    async fn clear(&self) -> Result<(), StoreError>;

    /// Writes `write` and enqueues `payload` on `outbox`, as one step: both happen or neither,
    /// and no other write comes between. The new entry's id; `None` when a length of
    /// [`StateWrite::AppendIfLen`] did not match (nothing written, nothing enqueued).
    ///
    /// `outbox` must carry a hash tag (`outbox:{lodging}`) and every key of `write` the same
    /// one, so that the step lands in one Redis Cluster slot; other keys are refused.
    async fn outbox_commit(
        &self,
        outbox: &str,
        write: StateWrite<'_>,
        payload: &[u8],
    ) -> Result<Option<EntryId>, StoreError> {
        let _ = (outbox, write, payload);
        Err(no_outbox(self.backend(), "outbox_commit"))
    }

    /// Claims up to `max` (at most [`OUTBOX_BATCH_MAX`]) entries of `outbox` that no live
    /// lease holds, oldest first, each for `lease` (bounded as TTLs are): until it ends no
    /// other claim gets them. An entry whose lease ended without an acknowledgement is
    /// claimed again, with the next attempt number.
    async fn outbox_claim(
        &self,
        outbox: &str,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>, StoreError> {
        let _ = (outbox, max, lease);
        Err(no_outbox(self.backend(), "outbox_claim"))
    }

    /// Acknowledges entry `id` as delivered by the claim numbered `attempt`; whether it did.
    ///
    /// Only the entry's latest claim may acknowledge it, even after its lease ended (nobody
    /// claimed it since, so the delivery stands). An acknowledgement from an older claim (the
    /// entry was claimed again after that lease ended), of an entry already acknowledged or
    /// trimmed, or of an unknown id changes nothing and answers `false`; the latest claim's
    /// worker delivers the entry again, which receivers absorb by entry id.
    async fn outbox_ack(
        &self,
        outbox: &str,
        id: EntryId,
        attempt: u64,
    ) -> Result<bool, StoreError> {
        let _ = (outbox, id, attempt);
        Err(no_outbox(self.backend(), "outbox_ack"))
    }

    /// Up to `limit` (at most [`OUTBOX_BATCH_MAX`]) entries of `outbox` with ids after
    /// `after`, oldest first, whatever their status (trimmed entries are gone). For
    /// inspection; workers use [`Store::outbox_claim`].
    async fn outbox_range(
        &self,
        outbox: &str,
        after: EntryId,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let _ = (outbox, after, limit);
        Err(no_outbox(self.backend(), "outbox_range"))
    }

    /// Forgets the acknowledged entries of `outbox` with ids up to `through`; how many.
    /// Entries not acknowledged stay, whatever their id.
    async fn outbox_trim(&self, outbox: &str, through: EntryId) -> Result<u64, StoreError> {
        let _ = (outbox, through);
        Err(no_outbox(self.backend(), "outbox_trim"))
    }

    /// Name of the backend: `memory` or `redis`.
    fn backend(&self) -> &'static str;
}

/// The answer of a store that keeps no outbox.
fn no_outbox(backend: &'static str, operation: &'static str) -> StoreError {
    StoreError::new(backend, operation, "this store keeps no outbox")
}

/// One append of [`Store::append_if_len`]: `value` goes at the end of the list at `key` if the
/// list holds `expected_len` items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListAppend<'a> {
    /// The list.
    pub key: &'a str,
    /// How many items the caller saw in it.
    pub expected_len: usize,
    /// What to append.
    pub value: &'a [u8],
}

/// The configuration section of the store, shared by every component that keeps state.
pub const SECTION: &str = "store";

/// Where state lives: the `store` section of the configuration.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// `memory` (in the process) or `redis://host:port` (shared by replicas).
    pub url: String,
    /// Prefix of every key, so several sandboxes can share one Redis.
    pub namespace: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            url: MEMORY_URL.to_owned(),
            namespace: DEFAULT_NAMESPACE.to_owned(),
        }
    }
}

impl StoreConfig {
    /// Opens the store this section names.
    pub async fn open(&self) -> Result<Arc<dyn Store>, StoreError> {
        open(&self.url, &self.namespace).await
    }

    /// Opens the store this section names, checked ([`CheckedStore`]): what a component
    /// serves from, serving only while [`CheckedStore::answers`] says so.
    pub async fn open_checked(&self) -> Result<Arc<CheckedStore>, StoreError> {
        Ok(Arc::new(CheckedStore::new(self.open().await?)))
    }
}

/// Opens the store a URL names: `memory` (or empty) or `redis://…` / `rediss://…`.
pub async fn open(url: &str, namespace: &str) -> Result<Arc<dyn Store>, StoreError> {
    validate_namespace("store", namespace)?;
    let url = url.trim();
    if url.is_empty() || url == MEMORY_URL {
        return Ok(Arc::new(MemoryStore::new()));
    }
    if url.starts_with("redis://") || url.starts_with("rediss://") {
        return Ok(Arc::new(RedisStore::connect(url, namespace).await?));
    }
    Err(StoreError::new(
        "unknown",
        "open",
        format!(
            "unsupported store url {:?}: use \"memory\", \"redis://host:port\" or \"rediss://host:port\"",
            redact_url(url)
        ),
    ))
}

/// Checks that a namespace is a non-empty run of `A-Z a-z 0-9 - _ .`.
///
/// `:` would let one namespace's keys fall inside another's (`a:*` matches `a:b:key`), and glob
/// or brace characters would change what `SCAN MATCH` and Cluster hash tags see.
fn validate_namespace(backend: &'static str, namespace: &str) -> Result<(), StoreError> {
    let valid = !namespace.is_empty()
        && namespace
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(StoreError::new(
            backend,
            "open",
            format!(
                "namespace must be non-empty and use only letters, digits, '-', '_' and '.', got {namespace:?}"
            ),
        ))
    }
}

/// The URL without its password, for messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***{}", &url[..scheme_end], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// The TTL both backends actually apply, in milliseconds.
fn ttl_millis(ttl: Duration) -> u64 {
    // Both bounds fit u64; MAX_TTL is 2^46 ms.
    let millis = u64::try_from(ttl.min(MAX_TTL).as_millis()).unwrap_or(1 << 46);
    millis.max(1)
}

/// What a memory key holds.
#[derive(Debug)]
enum Value {
    Bytes(Vec<u8>),
    List(Vec<Vec<u8>>),
}

#[derive(Debug)]
struct Entry {
    value: Value,
    expires_at: Option<Instant>,
}

impl Entry {
    fn is_live(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

/// How many writes between sweeps of expired memory entries, so keys written with a TTL and
/// never read again do not pile up.
const SWEEP_EVERY: u64 = 1024;

/// The in-process backend: a map behind a lock; TTLs are honoured when a key is read.
///
/// Its clock is the process's, moved forward by [`MemoryStore::advance_clock`]: tests make
/// TTLs and outbox leases run out without waiting.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: RwLock<HashMap<String, Entry>>,
    /// Locked after `entries` when both are.
    outboxes: Mutex<HashMap<String, outbox::MemoryOutbox>>,
    writes: AtomicU64,
    /// How far [`MemoryStore::advance_clock`] moved the clock, in milliseconds.
    clock_offset_ms: AtomicU64,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves this store's clock forward by `by` (whole milliseconds): values and outbox
    /// leases expire as if that time had passed.
    pub fn advance_clock(&self, by: Duration) {
        let millis = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let _ = self
            .clock_offset_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |offset| {
                Some(offset.saturating_add(millis))
            });
    }

    /// The store's clock.
    fn now(&self) -> Instant {
        let now = Instant::now();
        let offset = Duration::from_millis(self.clock_offset_ms.load(Ordering::Relaxed));
        // Beyond the clock's range the clock stops; nothing lives that long.
        now.checked_add(offset).unwrap_or(now)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Entry>> {
        // No code panics while holding the lock, so a poisoned map is still consistent.
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Entry>> {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if self.writes.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            let now = self.now();
            entries.retain(|_, entry| entry.is_live(now));
        }
        entries
    }

    fn outboxes(&self) -> MutexGuard<'_, HashMap<String, outbox::MemoryOutbox>> {
        // As for `entries`: nothing panics while holding it.
        self.outboxes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether every list of `appends` has its expected length.
    fn lengths_match(
        entries: &HashMap<String, Entry>,
        appends: &[ListAppend<'_>],
        now: Instant,
        operation: &'static str,
    ) -> Result<bool, StoreError> {
        for append in appends {
            let len = match entries.get(append.key) {
                Some(entry) if entry.is_live(now) => match &entry.value {
                    Value::List(items) => items.len(),
                    Value::Bytes(_) => return Err(Self::wrong_kind(operation)),
                },
                _ => 0,
            };
            if len != append.expected_len {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn wrong_kind(operation: &'static str) -> StoreError {
        StoreError::new(
            "memory",
            operation,
            "key holds a value of the other kind (list versus single value)",
        )
    }

    /// Appends `value` to the list at `key`, creating it when absent or expired.
    fn push(
        entries: &mut HashMap<String, Entry>,
        key: &str,
        value: &[u8],
        now: Instant,
        operation: &'static str,
    ) -> Result<(), StoreError> {
        match entries.get_mut(key) {
            Some(entry) if entry.is_live(now) => match &mut entry.value {
                Value::List(items) => items.push(value.to_vec()),
                Value::Bytes(_) => return Err(Self::wrong_kind(operation)),
            },
            _ => {
                entries.insert(
                    key.to_owned(),
                    Entry {
                        value: Value::List(vec![value.to_vec()]),
                        expires_at: None,
                    },
                );
            }
        }
        Ok(())
    }

    fn entry(value: &[u8], ttl: Option<Duration>, now: Instant) -> Entry {
        Entry {
            value: Value::Bytes(value.to_vec()),
            // An instant beyond the clock's range is as good as never.
            expires_at: ttl.and_then(|ttl| now.checked_add(Duration::from_millis(ttl_millis(ttl)))),
        }
    }
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    async fn append(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let now = self.now();
        Self::push(&mut self.write(), key, value, now, "append")
    }

    async fn append_if_len(&self, appends: &[ListAppend<'_>]) -> Result<bool, StoreError> {
        let now = self.now();
        let mut entries = self.write();
        if !Self::lengths_match(&entries, appends, now, "append_if_len")? {
            return Ok(false);
        }
        for append in appends {
            Self::push(&mut entries, append.key, append.value, now, "append_if_len")?;
        }
        Ok(true)
    }

    async fn list(&self, key: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        let now = self.now();
        match self.read().get(key) {
            Some(entry) if entry.is_live(now) => match &entry.value {
                Value::List(items) => Ok(items.clone()),
                Value::Bytes(_) => Err(Self::wrong_kind("list")),
            },
            _ => Ok(Vec::new()),
        }
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        let now = self.now();
        self.write()
            .insert(key.to_owned(), Self::entry(value, ttl, now));
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let now = self.now();
        match self.read().get(key) {
            Some(entry) if entry.is_live(now) => match &entry.value {
                Value::Bytes(bytes) => Ok(Some(bytes.clone())),
                Value::List(_) => Err(Self::wrong_kind("get")),
            },
            _ => Ok(None),
        }
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let now = self.now();
        let removed = self.write().remove(key);
        Ok(removed.is_some_and(|entry| entry.is_live(now)))
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
        let now = self.now();
        let mut entries = self.write();
        if entries.get(key).is_some_and(|entry| entry.is_live(now)) {
            return Ok(false);
        }
        entries.insert(key.to_owned(), Self::entry(value, ttl, now));
        Ok(true)
    }

    async fn clear(&self) -> Result<(), StoreError> {
        let mut entries = self.write();
        entries.clear();
        self.outboxes().clear();
        Ok(())
    }

    async fn outbox_commit(
        &self,
        outbox: &str,
        write: StateWrite<'_>,
        payload: &[u8],
    ) -> Result<Option<EntryId>, StoreError> {
        outbox::check_commit("memory", outbox, &write)?;
        let now = self.now();
        let mut entries = self.write();
        if let StateWrite::AppendIfLen(appends) = write
            && !Self::lengths_match(&entries, appends, now, "outbox_commit")?
        {
            return Ok(None);
        }
        // Checked: nothing below fails, so the step is all or nothing.
        let id = self
            .outboxes()
            .entry(outbox.to_owned())
            .or_default()
            .enqueue(payload);
        match write {
            StateWrite::Put { key, value, ttl } => {
                entries.insert(key.to_owned(), Self::entry(value, ttl, now));
            }
            StateWrite::AppendIfLen(appends) => {
                for append in appends {
                    Self::push(&mut entries, append.key, append.value, now, "outbox_commit")?;
                }
            }
        }
        Ok(Some(id))
    }

    async fn outbox_claim(
        &self,
        outbox: &str,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>, StoreError> {
        outbox::outbox_tag("memory", "outbox_claim", outbox)?;
        let now = self.now();
        let lease = Duration::from_millis(ttl_millis(lease));
        Ok(match self.outboxes().get_mut(outbox) {
            Some(entries) => entries.claim(now, max.min(OUTBOX_BATCH_MAX), lease),
            None => Vec::new(),
        })
    }

    async fn outbox_ack(
        &self,
        outbox: &str,
        id: EntryId,
        attempt: u64,
    ) -> Result<bool, StoreError> {
        outbox::outbox_tag("memory", "outbox_ack", outbox)?;
        Ok(self
            .outboxes()
            .get_mut(outbox)
            .is_some_and(|entries| entries.ack(id, attempt)))
    }

    async fn outbox_range(
        &self,
        outbox: &str,
        after: EntryId,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        outbox::outbox_tag("memory", "outbox_range", outbox)?;
        let now = self.now();
        Ok(match self.outboxes().get(outbox) {
            Some(entries) => entries.range(now, after, limit.min(OUTBOX_BATCH_MAX)),
            None => Vec::new(),
        })
    }

    async fn outbox_trim(&self, outbox: &str, through: EntryId) -> Result<u64, StoreError> {
        outbox::outbox_tag("memory", "outbox_trim", outbox)?;
        Ok(self
            .outboxes()
            .get_mut(outbox)
            .map_or(0, |entries| entries.trim(through)))
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}

/// The shared backend: Redis through a [`ConnectionManager`], which reconnects on its own.
///
/// `clear` scans `<namespace>:*` on the server it is connected to; against a Redis Cluster it
/// would need to visit every primary.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    namespace: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection's Debug shows the client's address info, which may carry a password.
        f.debug_struct("RedisStore")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to Redis at `url`; fails within about two seconds when it cannot be reached.
    pub async fn connect(url: &str, namespace: &str) -> Result<Self, StoreError> {
        validate_namespace("redis", namespace)?;
        let connect_error = |message: String| {
            StoreError::new(
                "redis",
                "connect",
                format!("cannot use redis at {}: {message}", redact_url(url)),
            )
        };
        let client = redis::Client::open(url).map_err(|error| connect_error(error.to_string()))?;
        // One plain attempt first: the manager retries with backoff, which would turn "connection
        // refused" into a timeout without a reason.
        let probe =
            tokio::time::timeout(CONNECT_TIMEOUT, client.get_multiplexed_async_connection())
                .await
                .map_err(|_| connect_error(no_answer()))?
                .map_err(|error| connect_error(error.to_string()))?;
        drop(probe);
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_max_delay(Duration::from_secs(2));
        let connection = tokio::time::timeout(
            CONNECT_TIMEOUT,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| connect_error(no_answer()))?
        .map_err(|error| connect_error(error.to_string()))?;
        Ok(Self {
            connection,
            namespace: namespace.to_owned(),
        })
    }

    /// The namespace every key of this store lives under.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.namespace)
    }

    /// `EVAL script 7+n <the outbox's keys> <extra keys>`, arguments to follow.
    fn outbox_script(&self, script: &str, outbox: &str, extra_keys: &[&str]) -> redis::Cmd {
        let mut command = redis::cmd("EVAL");
        command
            .arg(script)
            .arg(outbox::REDIS_PARTS.len() + extra_keys.len());
        for part in outbox::REDIS_PARTS {
            command.arg(self.key(&format!("outbox:{outbox}:{part}")));
        }
        for key in extra_keys {
            command.arg(self.key(key));
        }
        command
    }

    async fn query<T: redis::FromRedisValue>(
        &self,
        operation: &'static str,
        command: &redis::Cmd,
    ) -> Result<T, StoreError> {
        // The manager is a cheap handle over one multiplexed connection.
        let mut connection = self.connection.clone();
        command
            .query_async(&mut connection)
            .await
            .map_err(|error| StoreError::new("redis", operation, error.to_string()))
    }
}

/// [`Store::append_if_len`] on Redis: every length is checked before anything is written, and a
/// script runs with no other command between its steps. `LLEN` of a single value fails the
/// script with `WRONGTYPE` before any write. Sent with `EVAL`: it is short, and a restarted
/// server needs no reload.
const APPEND_IF_LEN_SCRIPT: &str = r#"
for i, key in ipairs(KEYS) do
  if redis.call('LLEN', key) ~= tonumber(ARGV[2 * i - 1]) then
    return 0
  end
end
for i, key in ipairs(KEYS) do
  redis.call('RPUSH', key, ARGV[2 * i])
end
return 1
"#;

/// `SET key value [PX ttl] [NX]`.
fn set_command(
    key: String,
    value: &[u8],
    ttl: Option<Duration>,
    only_if_absent: bool,
) -> redis::Cmd {
    let mut command = redis::cmd("SET");
    command.arg(key).arg(value);
    if let Some(ttl) = ttl {
        command.arg("PX").arg(ttl_millis(ttl));
    }
    if only_if_absent {
        command.arg("NX");
    }
    command
}

#[async_trait::async_trait]
impl Store for RedisStore {
    async fn append(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let _length: u64 = self
            .query("append", redis::cmd("RPUSH").arg(self.key(key)).arg(value))
            .await?;
        Ok(())
    }

    async fn append_if_len(&self, appends: &[ListAppend<'_>]) -> Result<bool, StoreError> {
        if appends.is_empty() {
            return Ok(true);
        }
        let mut command = redis::cmd("EVAL");
        command.arg(APPEND_IF_LEN_SCRIPT).arg(appends.len());
        for append in appends {
            command.arg(self.key(append.key));
        }
        for append in appends {
            command.arg(append.expected_len).arg(append.value);
        }
        let appended: u8 = self.query("append_if_len", &command).await?;
        Ok(appended == 1)
    }

    async fn list(&self, key: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        self.query(
            "list",
            redis::cmd("LRANGE").arg(self.key(key)).arg(0).arg(-1),
        )
        .await
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        self.query("put", &set_command(self.key(key), value, ttl, false))
            .await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.query("get", redis::cmd("GET").arg(self.key(key)))
            .await
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let removed: u64 = self
            .query("delete", redis::cmd("DEL").arg(self.key(key)))
            .await?;
        Ok(removed > 0)
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
        // `SET … NX` answers OK when it set the key and nil when the key was there.
        let reply: Option<String> = self
            .query(
                "put_if_absent",
                &set_command(self.key(key), value, ttl, true),
            )
            .await?;
        Ok(reply.is_some())
    }

    async fn clear(&self) -> Result<(), StoreError> {
        // Never FLUSHDB: other namespaces (other sandboxes, other tests) share the database.
        let pattern = format!("{}:*", self.namespace);
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) = self
                .query(
                    "clear",
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(CLEAR_BATCH),
                )
                .await?;
            for batch in keys.chunks(CLEAR_BATCH) {
                let _removed: u64 = self.query("clear", redis::cmd("UNLINK").arg(batch)).await?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    async fn outbox_commit(
        &self,
        outbox: &str,
        write: StateWrite<'_>,
        payload: &[u8],
    ) -> Result<Option<EntryId>, StoreError> {
        outbox::check_commit("redis", outbox, &write)?;
        let command = match write {
            StateWrite::Put { key, value, ttl } => {
                let mut command = self.outbox_script(outbox::COMMIT_SCRIPT, outbox, &[key]);
                command.arg(payload).arg("put").arg(value);
                match ttl {
                    Some(ttl) => command.arg(ttl_millis(ttl)),
                    None => command.arg(""),
                };
                command
            }
            StateWrite::AppendIfLen(appends) => {
                let keys: Vec<&str> = appends.iter().map(|append| append.key).collect();
                let mut command = self.outbox_script(outbox::COMMIT_SCRIPT, outbox, &keys);
                command.arg(payload).arg("append");
                for append in appends {
                    command.arg(append.expected_len).arg(append.value);
                }
                command
            }
        };
        let id: u64 = self.query("outbox_commit", &command).await?;
        Ok((id > 0).then_some(EntryId(id)))
    }

    async fn outbox_claim(
        &self,
        outbox: &str,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>, StoreError> {
        outbox::outbox_tag("redis", "outbox_claim", outbox)?;
        let max = max.min(OUTBOX_BATCH_MAX);
        if max == 0 {
            return Ok(Vec::new());
        }
        let mut command = self.outbox_script(&outbox::timed(outbox::CLAIM_SCRIPT), outbox, &[]);
        command.arg(max).arg(ttl_millis(lease));
        let claimed: Vec<(u64, u64, Vec<u8>)> = self.query("outbox_claim", &command).await?;
        Ok(claimed
            .into_iter()
            .map(|(id, attempt, payload)| Delivery {
                id: EntryId(id),
                attempt,
                payload,
            })
            .collect())
    }

    async fn outbox_ack(
        &self,
        outbox: &str,
        id: EntryId,
        attempt: u64,
    ) -> Result<bool, StoreError> {
        outbox::outbox_tag("redis", "outbox_ack", outbox)?;
        if attempt == 0 {
            return Ok(false);
        }
        let mut command = self.outbox_script(outbox::ACK_SCRIPT, outbox, &[]);
        command.arg(id.0).arg(attempt);
        let acked: u8 = self.query("outbox_ack", &command).await?;
        Ok(acked == 1)
    }

    async fn outbox_range(
        &self,
        outbox: &str,
        after: EntryId,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        outbox::outbox_tag("redis", "outbox_range", outbox)?;
        let limit = limit.min(OUTBOX_BATCH_MAX);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut command = self.outbox_script(&outbox::timed(outbox::RANGE_SCRIPT), outbox, &[]);
        command.arg(after.0).arg(limit);
        let entries: Vec<(u64, u64, Vec<u8>, u8)> = self.query("outbox_range", &command).await?;
        Ok(entries
            .into_iter()
            .map(|(id, attempts, payload, status)| OutboxEntry {
                id: EntryId(id),
                attempts,
                status: match status {
                    2 => EntryStatus::Acknowledged,
                    1 => EntryStatus::Claimed,
                    _ => EntryStatus::Pending,
                },
                payload,
            })
            .collect())
    }

    async fn outbox_trim(&self, outbox: &str, through: EntryId) -> Result<u64, StoreError> {
        outbox::outbox_tag("redis", "outbox_trim", outbox)?;
        let mut command = self.outbox_script(outbox::TRIM_SCRIPT, outbox, &[]);
        command.arg(through.0);
        self.query("outbox_trim", &command).await
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}
