//! State: one [`Store`] abstraction with two backends that behave identically.
//!
//! - [`MemoryStore`] (the default, `memory`): nothing to install; state lives as long as the
//!   process and belongs to one store value.
//! - [`RedisStore`] (`redis://…`): shared by every replica opened on the same URL and namespace;
//!   as durable as the Redis server is configured to be (AOF).
//!
//! A store holds three kinds of values under string keys: byte strings (with an optional TTL),
//! append-only lists of byte strings, and sorted sets of text members with whole-number scores
//! ([`Store::zadd`], [`Store::zrange`]; no TTL). Reading or writing a key as another kind is an
//! error in both backends, as it is in Redis (`WRONGTYPE`); [`Store::put`] and
//! [`Store::delete`] take a key of any kind.
//!
//! Sorted-set scores are `i64`, but Redis keeps them as doubles: both backends keep exactly the
//! scores within ±2^53 ([`MAX_SCORE`]) and refuse others, and an empty sorted set is no key.
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
//! The sandbox controls reset a namespace ([`Store::reset`]) or save its state under a name
//! and restore it ([`Store::snapshot_save`] and the other `snapshot_*` operations); the
//! [`snapshot`] module says what a snapshot holds, which keys a component keeps through both,
//! where snapshots live on each backend and how atomic a restore is.
//!
//! The store a component serves from is scoped by tenant ([`tenant`], [`TenantStores`]): a call
//! carrying the `x-sandbox06-tenant` header reads and writes that tenant's state alone, under
//! the namespace `<namespace>.tenant.<tenant>`, and resets and snapshots it alone; a call
//! without one uses the component's own namespace. Outboxes are routed the same way; workers
//! (which run without a tenant) visit the component's own, then those of each tenant
//! [`TenantStores::outbox_tenants`] names, as that tenant; see [`tenant`].
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
pub mod control;
mod memory;
mod outbox;
mod redis_store;
pub mod snapshot;
pub mod tenant;
mod zset;

pub use checked::CheckedStore;
pub use memory::MemoryStore;
pub use outbox::{
    Delivery, EntryId, EntryStatus, OUTBOX_BATCH_MAX, OutboxEntry, StateWrite, hash_tag,
};
pub use redis_store::RedisStore;
pub use snapshot::{InvalidSnapshotName, SNAPSHOT_NAME_MAX, SnapshotInfo, check_snapshot_name};
pub use tenant::{MAX_MEMORY_TENANTS, TenantRefusal, TenantStores};
pub use zset::{MAX_SCORE, ScoreRange, Scored};

use std::sync::Arc;
use std::time::Duration;

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
    /// `memory` or `redis` (or `store` when no backend was chosen yet, [`tenant::REFUSED`]
    /// when the call's tenant was refused a store).
    pub backend: &'static str,
    /// The operation that failed, e.g. `append` or `connect`.
    pub operation: &'static str,
    /// What went wrong.
    pub message: String,
    /// Why the operation was refused before any backend was asked (the call's tenant, with
    /// `backend` [`tenant::REFUSED`]; a snapshot name): no backend failed.
    pub refusal: Option<Refusal>,
}

/// Why a store refused an operation without asking its backend ([`StoreError::refusal`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The call's tenant was refused a store.
    Tenant(TenantRefusal),
    /// The snapshot name is not one a store takes ([`check_snapshot_name`]).
    SnapshotName(InvalidSnapshotName),
    /// A sorted-set score outside ±[`MAX_SCORE`], which Redis cannot keep exactly.
    Score,
}

impl StoreError {
    /// A failure of `operation` on `backend`.
    pub fn new(backend: &'static str, operation: &'static str, message: impl Into<String>) -> Self {
        Self {
            backend,
            operation,
            message: message.into(),
            refusal: None,
        }
    }

    /// The error a component answers for this failure of its store, `system` in words ("the
    /// population database's state store"): the one mapping of a store's error to a status.
    ///
    /// A backend's failure is logged and answered `UNAVAILABLE`, `UPSTREAM_UNAVAILABLE`
    /// ([`UpstreamFailure::store`](sandbox06_runtime::error::UpstreamFailure::store)). A refusal
    /// of the call's tenant says why: too many tenants in memory is `RESOURCE_EXHAUSTED`,
    /// `TENANTS_FULL` (an operator's reset frees places); a malformed tenant is
    /// `INVALID_ARGUMENT` naming the `x-sandbox06-tenant` header; configuration and state keys
    /// in one call are `INTERNAL`, a bug of the component's. A refused snapshot name is
    /// `INVALID_ARGUMENT`; a caller that took the name from a request field names the field
    /// ([`Self::snapshot_name_refused`]). A refused sorted-set score is `INVALID_ARGUMENT` too.
    pub fn into_api_error(self, system: &'static str) -> sandbox06_runtime::error::ApiError {
        use sandbox06_runtime::error::{ApiError, Reason, STORE_BACKEND, UpstreamFailure};
        let refusal = match self.refusal {
            None => {
                return UpstreamFailure::store(system, self.backend, self.operation, &self.message)
                    .into();
            }
            Some(Refusal::SnapshotName(invalid)) => {
                return ApiError::new(Reason::InvalidArgument, invalid.to_string());
            }
            Some(Refusal::Score) => {
                return ApiError::new(Reason::InvalidArgument, self.message);
            }
            Some(Refusal::Tenant(refusal)) => refusal,
        };
        tracing::info!(
            backend = STORE_BACKEND,
            store = self.backend,
            operation = self.operation,
            refusal = ?refusal,
            error = %self.message,
            "the state store refused the call's tenant"
        );
        match refusal {
            TenantRefusal::TooMany => ApiError::new(
                Reason::TenantsFull,
                format!(
                    "{system} keeps state for at most {MAX_MEMORY_TENANTS} tenants in memory and \
                     has that many: an operator's reset (ResetSandbox without a tenant) forgets \
                     the tenants that keep no snapshot and frees their places; a Redis store has \
                     no such limit"
                ),
            )
            .with_metadata("backend", STORE_BACKEND)
            .with_metadata("max_tenants", MAX_MEMORY_TENANTS.to_string()),
            TenantRefusal::Malformed => sandbox06_runtime::faults::malformed_tenant(),
            TenantRefusal::MixedKeys => ApiError::new(
                Reason::Internal,
                format!(
                    "{system} was asked for configuration keys, shared by every tenant, and a \
                     tenant's state in one call: a bug in sandbox06"
                ),
            ),
        }
    }

    /// The snapshot name refused, when the store refused one.
    pub fn snapshot_name_refused(&self) -> Option<&InvalidSnapshotName> {
        match &self.refusal {
            Some(Refusal::SnapshotName(invalid)) => Some(invalid),
            _ => None,
        }
    }

    /// [`Self::into_api_error`] as a status.
    pub fn into_status(self, system: &'static str) -> tonic::Status {
        self.into_api_error(system).into()
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

    /// Deletes every key of this store's namespace except those starting with one of the
    /// `keep` prefixes (configuration kept in the store, see [`snapshot`]): the sandbox reset.
    /// Outboxes go too unless kept, and their entry ids start from 1 again; snapshots stay.
    /// With nothing to keep it is [`Store::clear`].
    async fn reset(&self, keep: &[&str]) -> Result<(), StoreError> {
        let _ = keep;
        Err(no_snapshots(self.backend(), "reset"))
    }

    /// Saves the namespace's state under `name` (see [`check_snapshot_name`]), replacing a
    /// snapshot of that name: every key except those starting with one of the `keep`
    /// prefixes, values with their remaining TTLs, lists and outboxes. What it saved.
    async fn snapshot_save(&self, name: &str, keep: &[&str]) -> Result<SnapshotInfo, StoreError> {
        let _ = (name, keep);
        Err(no_snapshots(self.backend(), "snapshot_save"))
    }

    /// Replaces the namespace's state with the snapshot `name`, exactly (keys written since are
    /// gone), leaving the keys starting with one of the `keep` prefixes as they are; the
    /// snapshot stays. `None` when no snapshot has that name (nothing changed).
    async fn snapshot_restore(
        &self,
        name: &str,
        keep: &[&str],
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        let _ = (name, keep);
        Err(no_snapshots(self.backend(), "snapshot_restore"))
    }

    /// Every snapshot of the namespace, ordered by name.
    async fn snapshot_list(&self) -> Result<Vec<SnapshotInfo>, StoreError> {
        Err(no_snapshots(self.backend(), "snapshot_list"))
    }

    /// Deletes the snapshot `name`; whether there was one.
    async fn snapshot_delete(&self, name: &str) -> Result<bool, StoreError> {
        let _ = name;
        Err(no_snapshots(self.backend(), "snapshot_delete"))
    }

    /// Ages every value of the namespace that has a TTL by `by`, as if that much time had
    /// passed (the sandbox's clock moving forward): a value with no more than `by` left is
    /// deleted, the others live `by` less. Values without a TTL, lists and outboxes are left.
    async fn pass_time(&self, by: Duration) -> Result<TimePassed, StoreError> {
        let _ = by;
        Err(no_snapshots(self.backend(), "pass_time"))
    }

    /// Adds `member` to the sorted set at `key` with `score`, or moves it to `score`; whether it
    /// was new.
    ///
    /// `score` must be within ±[`MAX_SCORE`] (Redis keeps scores as doubles, exact only there);
    /// another is refused ([`Refusal::Score`]) and nothing changes. An absent key becomes a
    /// sorted set, with no TTL; a key holding another kind is an error.
    async fn zadd(&self, key: &str, member: &str, score: i64) -> Result<bool, StoreError> {
        let _ = (key, member, score);
        Err(no_sorted_sets(self.backend(), "zadd"))
    }

    /// Removes `member`; whether it was there. The set's last member takes the key with it.
    async fn zrem(&self, key: &str, member: &str) -> Result<bool, StoreError> {
        let _ = (key, member);
        Err(no_sorted_sets(self.backend(), "zrem"))
    }

    /// The members in `range`, in its order (empty when the key is absent).
    async fn zrange(&self, key: &str, range: ScoreRange) -> Result<Vec<Scored>, StoreError> {
        let _ = (key, range);
        Err(no_sorted_sets(self.backend(), "zrange"))
    }

    /// How many members the set has (0 when absent).
    async fn zcard(&self, key: &str) -> Result<u64, StoreError> {
        let _ = key;
        Err(no_sorted_sets(self.backend(), "zcard"))
    }

    /// The tenants that may have entries on this component's outboxes, by name: a worker
    /// visits the store's own outboxes, then each of these as that tenant
    /// ([`sandbox06_runtime::faults::as_tenant`]). Empty for a store not routed by tenant; see
    /// [`TenantStores::outbox_tenants`].
    async fn outbox_tenants(&self) -> Result<Vec<String>, StoreError> {
        Ok(Vec::new())
    }

    /// Name of the backend: `memory` or `redis`.
    fn backend(&self) -> &'static str;
}

/// What [`Store::pass_time`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimePassed {
    /// Values whose TTL ran out: deleted.
    pub expired: u64,
    /// Values with time left: shortened.
    pub aged: u64,
}

/// The answer of a store that keeps no snapshots.
fn no_snapshots(backend: &'static str, operation: &'static str) -> StoreError {
    StoreError::new(backend, operation, "this store keeps no snapshots")
}

/// The answer of a store that keeps no sorted sets.
fn no_sorted_sets(backend: &'static str, operation: &'static str) -> StoreError {
    StoreError::new(backend, operation, "this store keeps no sorted sets")
}

/// The answer of a store that keeps no outbox.
fn no_outbox(backend: &'static str, operation: &'static str) -> StoreError {
    StoreError::new(backend, operation, "this store keeps no outbox")
}

/// One append of [`Store::append_if_len`]: `value` goes at the end of the list at `key` if the
/// list holds `expected_len` items (and, when `expected_last` is set, its last item is that).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListAppend<'a> {
    /// The list.
    pub key: &'a str,
    /// How many items the caller saw in it.
    pub expected_len: usize,
    /// The last item the caller saw, for a caller that keeps the tail it read rather than read
    /// it again: a list restored or rewritten to the same length with another last item is then
    /// not appended to. `None` checks the length alone.
    pub expected_last: Option<&'a [u8]>,
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
    /// The store of `component` (`sso`, `population-db`): on the same backend, under the
    /// namespace `<namespace>.<component>`. Every component keeps its state in a namespace of
    /// its own, so that resetting, restoring or ageing one component's state on a Redis that
    /// several share touches no other's; replicas of one component share it.
    pub fn for_component(&self, component: &str) -> StoreConfig {
        StoreConfig {
            url: self.url.clone(),
            namespace: format!("{}.{component}", self.namespace),
        }
    }

    /// Opens the store this section names.
    pub async fn open(&self) -> Result<Arc<dyn Store>, StoreError> {
        open(&self.url, &self.namespace).await
    }

    /// Opens the store this section names, routed by the tenant of each call
    /// ([`TenantStores`]): a call without a tenant uses this namespace, a call of tenant `T`
    /// the namespace `<namespace>.tenant.<T>` on the same backend, except for the keys
    /// starting with one of `keep` (configuration, such as signing keys), which every tenant
    /// shares with this namespace. The same `keep` the component gives its
    /// [`StateService`](control::StateService).
    pub async fn open_by_tenant(
        &self,
        keep: &'static [&'static str],
    ) -> Result<TenantStores, StoreError> {
        validate_namespace("store", &self.namespace)?;
        let url = self.url.trim();
        if url.is_empty() || url == MEMORY_URL {
            return Ok(TenantStores::memory(keep));
        }
        if url.starts_with("redis://") || url.starts_with("rediss://") {
            return Ok(TenantStores::redis(
                RedisStore::connect(url, &self.namespace).await?,
                keep,
            ));
        }
        Err(unsupported(url))
    }

    /// Opens the store this section names, checked ([`CheckedStore`]) and shared by every
    /// tenant (not routed by tenant): for a component whose state is keyed by values no two
    /// parallel jobs share and reached by calls that carry no tenant (the single sign-on: its
    /// pages and token endpoint), whose [`StateService`](control::StateService) is then
    /// [`shared_by_tenants`](control::StateService::shared_by_tenants).
    pub async fn open_checked_shared(&self) -> Result<Arc<CheckedStore>, StoreError> {
        Ok(Arc::new(CheckedStore::new(self.open().await?)))
    }

    /// Opens the store this section names, routed by tenant ([`StoreConfig::open_by_tenant`],
    /// keeping `keep` shared) and checked ([`CheckedStore`]): what a component serves from,
    /// serving only while [`CheckedStore::answers`] says so.
    pub async fn open_checked(
        &self,
        keep: &'static [&'static str],
    ) -> Result<Arc<CheckedStore>, StoreError> {
        Ok(Arc::new(CheckedStore::new(Arc::new(
            self.open_by_tenant(keep).await?,
        ))))
    }
}

/// The refusal of a URL that names no backend.
fn unsupported(url: &str) -> StoreError {
    StoreError::new(
        "unknown",
        "open",
        format!(
            "unsupported store url {:?}: use \"memory\", \"redis://host:port\" or \"rediss://host:port\"",
            redact_url(url)
        ),
    )
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
    Err(unsupported(url))
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
