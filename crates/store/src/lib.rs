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

pub use checked::CheckedStore;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
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
    async fn clear(&self) -> Result<(), StoreError>;

    /// Name of the backend: `memory` or `redis`.
    fn backend(&self) -> &'static str;
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
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: RwLock<HashMap<String, Entry>>,
    writes: AtomicU64,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Entry>> {
        // No code panics while holding the lock, so a poisoned map is still consistent.
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Entry>> {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if self.writes.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            let now = Instant::now();
            entries.retain(|_, entry| entry.is_live(now));
        }
        entries
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
        operation: &'static str,
    ) -> Result<(), StoreError> {
        match entries.get_mut(key) {
            Some(entry) if entry.is_live(Instant::now()) => match &mut entry.value {
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

    fn entry(value: &[u8], ttl: Option<Duration>) -> Entry {
        Entry {
            value: Value::Bytes(value.to_vec()),
            // An instant beyond the clock's range is as good as never.
            expires_at: ttl
                .and_then(|ttl| Instant::now().checked_add(Duration::from_millis(ttl_millis(ttl)))),
        }
    }
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    async fn append(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        Self::push(&mut self.write(), key, value, "append")
    }

    async fn append_if_len(&self, appends: &[ListAppend<'_>]) -> Result<bool, StoreError> {
        let mut entries = self.write();
        let now = Instant::now();
        for append in appends {
            let len = match entries.get(append.key) {
                Some(entry) if entry.is_live(now) => match &entry.value {
                    Value::List(items) => items.len(),
                    Value::Bytes(_) => return Err(Self::wrong_kind("append_if_len")),
                },
                _ => 0,
            };
            if len != append.expected_len {
                return Ok(false);
            }
        }
        for append in appends {
            Self::push(&mut entries, append.key, append.value, "append_if_len")?;
        }
        Ok(true)
    }

    async fn list(&self, key: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        match self.read().get(key) {
            Some(entry) if entry.is_live(Instant::now()) => match &entry.value {
                Value::List(items) => Ok(items.clone()),
                Value::Bytes(_) => Err(Self::wrong_kind("list")),
            },
            _ => Ok(Vec::new()),
        }
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        self.write().insert(key.to_owned(), Self::entry(value, ttl));
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.read().get(key) {
            Some(entry) if entry.is_live(Instant::now()) => match &entry.value {
                Value::Bytes(bytes) => Ok(Some(bytes.clone())),
                Value::List(_) => Err(Self::wrong_kind("get")),
            },
            _ => Ok(None),
        }
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let removed = self.write().remove(key);
        Ok(removed.is_some_and(|entry| entry.is_live(Instant::now())))
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
        let mut entries = self.write();
        if entries
            .get(key)
            .is_some_and(|entry| entry.is_live(Instant::now()))
        {
            return Ok(false);
        }
        entries.insert(key.to_owned(), Self::entry(value, ttl));
        Ok(true)
    }

    async fn clear(&self) -> Result<(), StoreError> {
        self.write().clear();
        Ok(())
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

    fn backend(&self) -> &'static str {
        "redis"
    }
}
