//! State scoped by tenant: each parallel job naming itself with the `x-sandbox06-tenant`
//! header keeps a component's state of its own, on the component's backend, with no code in
//! the component.
//!
//! [`TenantStores`] is the [`Store`] a component serves from
//! ([`StoreConfig::open_checked`](crate::StoreConfig::open_checked)). It routes each operation,
//! when it is called (the future made; a worker's outbox operations when first polled, see
//! below), by the tenant of the call being served ([`call_tenant_header`]):
//!
//! - no tenant (the operator, a plain call, a worker): the component's own store, the **base**,
//!   as before tenants existed;
//! - tenant `T`: the store under the namespace `<base namespace>.tenant.<T>` on the same backend.
//!   Every kind of value is routed so: byte strings, lists, sorted sets and outboxes.
//!   On Redis it shares the base store's connection (a [`RedisStore`] over the same
//!   connection manager, no new connection per tenant); in memory each tenant has a
//!   [`MemoryStore`] of its own, at most [`MAX_MEMORY_TENANTS`] of them per component.
//! - a key starting with one of the component's **kept** prefixes (configuration kept in the
//!   store, such as the single sign-on's signing keys, see [`crate::snapshot`]) always goes to
//!   the base store, whoever asks: every tenant shares the configuration. One call's keys must
//!   all be kept or all be state.
//!
//! # The sandbox controls
//!
//! A caller with a tenant resets, saves, restores, lists and deletes snapshots of its own
//! tenant's state only, and its time passing ages its own values only. A caller without one
//! (the operator):
//!
//! - [`Store::reset`] and [`Store::clear`] clear the base state **and every tenant's** (memory:
//!   every tenant store, then forgets the tenants left with no snapshot; Redis: every
//!   `<base namespace>.tenant.*` namespace, found by `SCAN`, no registry, and the record of
//!   [`TenantStores::outbox_tenants`]); snapshots stay;
//! - [`Store::pass_time`] ages the base values and every tenant's (the suite's one clock
//!   moves for every job);
//! - the `snapshot_*` operations are of the base state alone: an operator's snapshot neither
//!   holds nor restores a tenant's state.
//!
//! # Outboxes
//!
//! An outbox is routed by the tenant like any key (its entry is enqueued in the same atomic
//! step as the state write, so it must live in the same store). Workers run without a tenant,
//! so on their own they would claim, acknowledge and trim the base store's outboxes only, and
//! an entry enqueued by a call with a tenant would wait in that tenant's store. So a worker
//! (the lodging service's, delivering declarations) visits the base's outboxes, then asks
//! [`TenantStores::outbox_tenants`] (also [`Store::outbox_tenants`], through a
//! [`CheckedStore`](crate::CheckedStore)) for the tenants whose calls enqueued on an outbox,
//! and visits each one's as that tenant:
//!
//! ```no_run
//! # async fn visit(store: &dyn sandbox06_store::Store) -> Result<(), Box<dyn std::error::Error>> {
//! use sandbox06_runtime::faults::as_tenant;
//! let lease = std::time::Duration::from_secs(30);
//! for tenant in store.outbox_tenants().await? {
//!     let claimed = as_tenant(&tenant, store.outbox_claim("outbox:{lodging}", 10, lease))?.await?;
//!     // Deliver each, then acknowledge it as the same tenant.
//! #   let _ = claimed;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! `outbox_claim`, `outbox_ack`, `outbox_range` and `outbox_trim` are routed when first
//! polled, so the future may be made outside `as_tenant` as above. How the tenants are known:
//!
//! - in memory, the tenants whose store holds an outbox;
//! - on Redis, a set beside the base namespace, `{<base namespace>}:outbox-tenants`: a call
//!   with a tenant adds its tenant (`SADD`) before each `outbox_commit`, and after a snapshot
//!   restore that found its snapshot (it may bring an outbox back): one command more for those
//!   calls, none for calls without a tenant. `SMEMBERS` reads it. It begins with `{`, so the
//!   base's snapshots neither hold nor restore it; the operator's reset and clear delete it
//!   first, then the base's and every tenant's state.
//!
//! # Cost
//!
//! A call without a tenant pays one task-local read per operation and no allocation of its
//! own: a data operation or an outbox commit hands back the base store's own future (a
//! worker's outbox operations, routed when polled, cost one boxed future). A call with a
//! tenant also checks the kept prefixes and finds (or makes) its tenant's store: a map lookup
//! in memory, a namespace string on Redis, and one more boxed future; its outbox commit also
//! records the tenant (one `SADD` on Redis).

use std::collections::HashMap;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use sandbox06_runtime::faults::{call_tenant_header, is_tenant};

use crate::snapshot::{SnapshotInfo, is_kept};
use crate::{
    Delivery, EntryId, ListAppend, MemoryStore, OutboxEntry, RedisStore, ScoreRange, Scored,
    StateWrite, Store, StoreError, TimePassed,
};

/// The most tenants one component's memory store keeps state for; past it a new tenant's call
/// fails until an operator's reset forgets the tenants that keep no snapshot.
pub const MAX_MEMORY_TENANTS: usize = 1000;

/// [`StoreError::backend`] of a call refused a store for its tenant (too many tenants, a
/// malformed tenant, configuration and state in one call): no backend was asked, so a
/// [`CheckedStore`](crate::CheckedStore) does not take it for the backend being down.
pub const REFUSED: &str = "tenant";

/// Why a call was refused a store for its tenant ([`StoreError::refusal`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TenantRefusal {
    /// The component keeps state for [`MAX_MEMORY_TENANTS`] tenants in memory already, and the
    /// call's tenant is a new one: an operator's reset frees places.
    TooMany,
    /// The call's tenant is not one the `x-sandbox06-tenant` header takes.
    Malformed,
    /// One call mixed configuration keys, shared by every tenant, with a tenant's state: a bug
    /// of the component's.
    MixedKeys,
}

/// The refusal of `operation` for the call's tenant.
fn refused(
    operation: &'static str,
    refusal: TenantRefusal,
    message: impl Into<String>,
) -> StoreError {
    StoreError {
        refusal: Some(crate::Refusal::Tenant(refusal)),
        ..StoreError::new(REFUSED, operation, message)
    }
}

/// What the tenants' stores live on.
#[derive(Debug)]
enum Backend {
    /// One store per tenant, made on its first call.
    Memory {
        base: Arc<MemoryStore>,
        tenants: Mutex<HashMap<String, Arc<MemoryStore>>>,
    },
    /// A namespace per tenant beside the base's, over the base's connection.
    Redis { base: RedisStore },
}

/// A component's store, routed by the tenant of each call; see the [module docs](self).
#[derive(Debug)]
pub struct TenantStores {
    backend: Backend,
    /// Prefixes of the keys that are configuration: always the base store's.
    keep: &'static [&'static str],
}

/// The store one operation goes to.
enum Route<'a> {
    Base(&'a dyn Store),
    Tenant(Arc<dyn Store>),
}

impl Deref for Route<'_> {
    type Target = dyn Store;

    fn deref(&self) -> &Self::Target {
        match self {
            Route::Base(store) => *store,
            Route::Tenant(store) => &**store,
        }
    }
}

impl TenantStores {
    /// Memory: a base store, and one more per tenant.
    pub fn memory(keep: &'static [&'static str]) -> Self {
        Self {
            backend: Backend::Memory {
                base: Arc::new(MemoryStore::new()),
                tenants: Mutex::new(HashMap::new()),
            },
            keep,
        }
    }

    /// Redis: `base`, and a namespace beside it per tenant over its connection.
    pub fn redis(base: RedisStore, keep: &'static [&'static str]) -> Self {
        Self {
            backend: Backend::Redis { base },
            keep,
        }
    }

    /// The prefixes of the keys every tenant shares with the base.
    pub fn kept(&self) -> &'static [&'static str] {
        self.keep
    }

    /// The store of calls without a tenant.
    fn base(&self) -> &dyn Store {
        match &self.backend {
            Backend::Memory { base, .. } => &**base,
            Backend::Redis { base } => base,
        }
    }

    fn tenants(
        tenants: &Mutex<HashMap<String, Arc<MemoryStore>>>,
    ) -> MutexGuard<'_, HashMap<String, Arc<MemoryStore>>> {
        // Nothing panics while holding it.
        tenants.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The store of `tenant`, made on its first call.
    fn tenant_store(
        &self,
        operation: &'static str,
        tenant: &str,
    ) -> Result<Arc<dyn Store>, StoreError> {
        if !is_tenant(tenant.as_bytes()) {
            return Err(refused(
                operation,
                TenantRefusal::Malformed,
                "the call's tenant is malformed",
            ));
        }
        match &self.backend {
            Backend::Memory { tenants, .. } => {
                let mut tenants = Self::tenants(tenants);
                if let Some(store) = tenants.get(tenant) {
                    return Ok(Arc::clone(store) as Arc<dyn Store>);
                }
                if tenants.len() >= MAX_MEMORY_TENANTS {
                    return Err(refused(
                        operation,
                        TenantRefusal::TooMany,
                        format!(
                            "this component keeps state for at most {MAX_MEMORY_TENANTS} tenants \
                             in memory and has that many: reset the sandbox without a tenant to \
                             forget them, or use a Redis store"
                        ),
                    ));
                }
                let store = Arc::new(MemoryStore::new());
                tenants.insert(tenant.to_owned(), Arc::clone(&store));
                Ok(store)
            }
            Backend::Redis { base } => Ok(Arc::new(
                base.with_namespace(format!("{}.tenant.{tenant}", base.namespace()))?,
            )),
        }
    }

    /// The store of the call being served: the base without a tenant, its tenant's with one.
    fn for_call(&self, operation: &'static str) -> Result<Route<'_>, StoreError> {
        match call_tenant_header() {
            None => Ok(Route::Base(self.base())),
            Some(tenant) => {
                let tenant = tenant.to_str().map_err(|_| {
                    refused(
                        operation,
                        TenantRefusal::Malformed,
                        "the call's tenant is malformed",
                    )
                })?;
                self.tenant_store(operation, tenant).map(Route::Tenant)
            }
        }
    }

    /// The store of `keys` for the call being served: the base for kept keys, whoever asks;
    /// the call's otherwise. Kept and other keys in one call are refused under a tenant.
    fn for_keys<'k>(
        &self,
        operation: &'static str,
        keys: impl IntoIterator<Item = &'k str>,
    ) -> Result<Route<'_>, StoreError> {
        let Some(tenant) = call_tenant_header() else {
            return Ok(Route::Base(self.base()));
        };
        let (mut kept, mut state) = (false, false);
        for key in keys {
            if is_kept(key, self.keep) {
                kept = true;
            } else {
                state = true;
            }
        }
        match (kept, state) {
            (true, false) => Ok(Route::Base(self.base())),
            (true, true) => Err(refused(
                operation,
                TenantRefusal::MixedKeys,
                "one call mixes configuration keys, shared by every tenant, with a tenant's state",
            )),
            _ => {
                let tenant = tenant.to_str().map_err(|_| {
                    refused(
                        operation,
                        TenantRefusal::Malformed,
                        "the call's tenant is malformed",
                    )
                })?;
                self.tenant_store(operation, tenant).map(Route::Tenant)
            }
        }
    }

    fn for_key(&self, operation: &'static str, key: &str) -> Result<Route<'_>, StoreError> {
        self.for_keys(operation, [key])
    }

    /// Every tenant's memory store there is now.
    fn memory_tenants(&self) -> Vec<Arc<MemoryStore>> {
        match &self.backend {
            Backend::Memory { tenants, .. } => Self::tenants(tenants).values().cloned().collect(),
            Backend::Redis { .. } => Vec::new(),
        }
    }

    /// The `SCAN` pattern of every tenant's keys on Redis: `<base>.tenant.*:*`.
    fn tenant_pattern(base: &RedisStore) -> String {
        format!("{}.tenant.*:*", base.namespace())
    }

    /// The tenants whose calls enqueued on an outbox of this component since its state was last
    /// cleared by an operator, by name: a worker visits the base's outboxes, then each of these
    /// under `sandbox06_runtime::faults::as_tenant`.
    ///
    /// In memory, the tenants whose store holds an outbox now; on Redis, the tenants recorded
    /// by their `outbox_commit` (or snapshot restore) since the operator's last reset or clear,
    /// which may include one whose outbox its own reset emptied since (the worker finds nothing
    /// there). Ordered by name.
    pub async fn outbox_tenants(&self) -> Result<Vec<String>, StoreError> {
        let mut names: Vec<String> = match &self.backend {
            Backend::Memory { tenants, .. } => Self::tenants(tenants)
                .iter()
                .filter(|(_, store)| store.has_outbox())
                .map(|(name, _)| name.clone())
                .collect(),
            Backend::Redis { base } => base.recorded_outbox_tenants().await?,
        };
        names.sort();
        Ok(names)
    }

    /// Records `tenant` among those [`TenantStores::outbox_tenants`] answers: one `SADD` on
    /// Redis; nothing in memory, where the tenants' stores say it.
    async fn record_outbox_tenant(&self, tenant: Option<&str>) -> Result<(), StoreError> {
        match (&self.backend, tenant) {
            (Backend::Redis { base }, Some(tenant)) => base.record_outbox_tenant(tenant).await,
            _ => Ok(()),
        }
    }

    /// The operator's reset: the base state and every tenant's, snapshots left.
    async fn reset_everyone(&self, keep: &[&str]) -> Result<(), StoreError> {
        if let Backend::Redis { base } = &self.backend {
            // First: a tenant's commit racing the reset records itself again.
            base.forget_outbox_tenants().await?;
        }
        self.base().reset(keep).await?;
        match &self.backend {
            Backend::Memory { tenants, .. } => {
                for store in self.memory_tenants() {
                    store.reset(keep).await?;
                }
                // A tenant with nothing left (no snapshot) and no call under way is forgotten,
                // freeing its place; a call under way holds its store, which stays.
                Self::tenants(tenants)
                    .retain(|_, store| Arc::strong_count(store) > 1 || !store.is_blank());
                Ok(())
            }
            Backend::Redis { base } => {
                base.unlink_matching("clear", &Self::tenant_pattern(base), keep)
                    .await
            }
        }
    }
}

/// The boxed future of a [`Store`] operation, as `async_trait` writes it.
type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The future of `call` on the store `route` chose: the base store's own future as it is, or,
/// for a tenant's store (held here), one more box; a refusal, ready.
macro_rules! routed {
    ($route:expr, |$store:ident| $call:expr) => {
        match $route {
            Ok(Route::Base($store)) => $call,
            Ok(Route::Tenant(tenant)) => Box::pin(async move {
                let $store = &*tenant;
                $call.await
            }),
            Err(error) => Box::pin(std::future::ready(Err(error))),
        }
    };
}

#[async_trait::async_trait]
impl Store for TenantStores {
    // The data and outbox operations are written as async_trait expands them, so that a call
    // without a tenant gets the base store's own future back: no allocation of its own.

    fn append<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        key: &'life1 str,
        value: &'life2 [u8],
    ) -> StoreFuture<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        routed!(self.for_key("append", key), |store| store
            .append(key, value))
    }

    fn append_if_len<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        appends: &'life1 [ListAppend<'life2>],
    ) -> StoreFuture<'async_trait, bool>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        routed!(
            self.for_keys("append_if_len", appends.iter().map(|append| append.key)),
            |store| store.append_if_len(appends)
        )
    }

    fn list<'life0, 'life1, 'async_trait>(
        &'life0 self,
        key: &'life1 str,
    ) -> StoreFuture<'async_trait, Vec<Vec<u8>>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        routed!(self.for_key("list", key), |store| store.list(key))
    }

    fn put<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        key: &'life1 str,
        value: &'life2 [u8],
        ttl: Option<Duration>,
    ) -> StoreFuture<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        routed!(self.for_key("put", key), |store| store.put(key, value, ttl))
    }

    fn get<'life0, 'life1, 'async_trait>(
        &'life0 self,
        key: &'life1 str,
    ) -> StoreFuture<'async_trait, Option<Vec<u8>>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        routed!(self.for_key("get", key), |store| store.get(key))
    }

    fn delete<'life0, 'life1, 'async_trait>(
        &'life0 self,
        key: &'life1 str,
    ) -> StoreFuture<'async_trait, bool>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        routed!(self.for_key("delete", key), |store| store.delete(key))
    }

    fn put_if_absent<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        key: &'life1 str,
        value: &'life2 [u8],
        ttl: Option<Duration>,
    ) -> StoreFuture<'async_trait, bool>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        routed!(self.for_key("put_if_absent", key), |store| {
            store.put_if_absent(key, value, ttl)
        })
    }

    fn zadd<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        key: &'life1 str,
        member: &'life2 str,
        score: i64,
    ) -> StoreFuture<'async_trait, bool>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        routed!(self.for_key("zadd", key), |store| store
            .zadd(key, member, score))
    }

    fn zrem<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        key: &'life1 str,
        member: &'life2 str,
    ) -> StoreFuture<'async_trait, bool>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        routed!(self.for_key("zrem", key), |store| store.zrem(key, member))
    }

    fn zrange<'life0, 'life1, 'async_trait>(
        &'life0 self,
        key: &'life1 str,
        range: ScoreRange,
    ) -> StoreFuture<'async_trait, Vec<Scored>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        routed!(self.for_key("zrange", key), |store| store
            .zrange(key, range))
    }

    fn zcard<'life0, 'life1, 'async_trait>(
        &'life0 self,
        key: &'life1 str,
    ) -> StoreFuture<'async_trait, u64>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        routed!(self.for_key("zcard", key), |store| store.zcard(key))
    }

    /// A caller with a tenant clears its tenant's state; one without clears the base state
    /// and every tenant's.
    async fn clear(&self) -> Result<(), StoreError> {
        match self.for_call("clear")? {
            Route::Base(_) => self.reset_everyone(&[]).await,
            Route::Tenant(store) => store.clear().await,
        }
    }

    fn outbox_commit<'life0, 'life1, 'life2, 'life3, 'async_trait>(
        &'life0 self,
        outbox: &'life1 str,
        write: StateWrite<'life2>,
        payload: &'life3 [u8],
    ) -> StoreFuture<'async_trait, Option<EntryId>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        'life3: 'async_trait,
        Self: 'async_trait,
    {
        let (put, appends): (Option<&str>, &[ListAppend<'_>]) = match write {
            StateWrite::Put { key, .. } => (Some(key), &[]),
            StateWrite::AppendIfLen(appends) => (None, appends),
        };
        let keys = std::iter::once(outbox)
            .chain(put)
            .chain(appends.iter().map(|append| append.key));
        match self.for_keys("outbox_commit", keys) {
            Ok(Route::Base(store)) => store.outbox_commit(outbox, write, payload),
            Ok(Route::Tenant(store)) => {
                let tenant = call_tenant_header();
                Box::pin(async move {
                    // Recorded first, so that no entry waits for a worker that does not know
                    // its tenant; a record whose commit then failed costs a worker one look.
                    let tenant = tenant.as_ref().and_then(|tenant| tenant.to_str().ok());
                    self.record_outbox_tenant(tenant).await?;
                    store.outbox_commit(outbox, write, payload).await
                })
            }
            Err(error) => Box::pin(std::future::ready(Err(error))),
        }
    }

    // The workers' operations are routed when first polled, not when called: a worker makes
    // `store.outbox_claim(…)` and runs it under `as_tenant(tenant, …)`, which sets the tenant
    // around the polling alone.

    async fn outbox_claim(
        &self,
        outbox: &str,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.for_key("outbox_claim", outbox)?
            .outbox_claim(outbox, max, lease)
            .await
    }

    async fn outbox_ack(
        &self,
        outbox: &str,
        id: EntryId,
        attempt: u64,
    ) -> Result<bool, StoreError> {
        self.for_key("outbox_ack", outbox)?
            .outbox_ack(outbox, id, attempt)
            .await
    }

    async fn outbox_range(
        &self,
        outbox: &str,
        after: EntryId,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.for_key("outbox_range", outbox)?
            .outbox_range(outbox, after, limit)
            .await
    }

    async fn outbox_trim(&self, outbox: &str, through: EntryId) -> Result<u64, StoreError> {
        self.for_key("outbox_trim", outbox)?
            .outbox_trim(outbox, through)
            .await
    }

    async fn outbox_tenants(&self) -> Result<Vec<String>, StoreError> {
        TenantStores::outbox_tenants(self).await
    }

    /// A caller with a tenant resets its tenant's state; one without resets the base state
    /// and every tenant's.
    async fn reset(&self, keep: &[&str]) -> Result<(), StoreError> {
        match self.for_call("reset")? {
            Route::Base(_) => self.reset_everyone(keep).await,
            Route::Tenant(store) => store.reset(keep).await,
        }
    }

    async fn snapshot_save(&self, name: &str, keep: &[&str]) -> Result<SnapshotInfo, StoreError> {
        self.for_call("snapshot_save")?
            .snapshot_save(name, keep)
            .await
    }

    /// A tenant's restore may bring back an outbox: once restored, the tenant is recorded
    /// among [`TenantStores::outbox_tenants`], as by a commit (a failed record fails the call,
    /// which the caller repeats).
    async fn snapshot_restore(
        &self,
        name: &str,
        keep: &[&str],
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        let store = self.for_call("snapshot_restore")?;
        let restored = store.snapshot_restore(name, keep).await?;
        if let (Route::Tenant(_), Some(_)) = (&store, &restored) {
            let tenant = call_tenant_header();
            self.record_outbox_tenant(tenant.as_ref().and_then(|tenant| tenant.to_str().ok()))
                .await?;
        }
        Ok(restored)
    }

    async fn snapshot_list(&self) -> Result<Vec<SnapshotInfo>, StoreError> {
        self.for_call("snapshot_list")?.snapshot_list().await
    }

    async fn snapshot_delete(&self, name: &str) -> Result<bool, StoreError> {
        self.for_call("snapshot_delete")?
            .snapshot_delete(name)
            .await
    }

    /// A caller with a tenant ages its tenant's values; one without (the suite's clock) ages
    /// the base values and every tenant's.
    async fn pass_time(&self, by: Duration) -> Result<TimePassed, StoreError> {
        let base = match self.for_call("pass_time")? {
            Route::Base(base) => base,
            Route::Tenant(store) => return store.pass_time(by).await,
        };
        let mut passed = base.pass_time(by).await?;
        let mut add = |more: TimePassed| {
            passed.expired += more.expired;
            passed.aged += more.aged;
        };
        match &self.backend {
            Backend::Memory { .. } => {
                for store in self.memory_tenants() {
                    add(store.pass_time(by).await?);
                }
            }
            Backend::Redis { base } => {
                add(base.age_matching(&Self::tenant_pattern(base), by).await?);
            }
        }
        Ok(passed)
    }

    fn backend(&self) -> &'static str {
        match &self.backend {
            Backend::Memory { .. } => "memory",
            Backend::Redis { .. } => "redis",
        }
    }
}
