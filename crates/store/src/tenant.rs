//! State scoped by tenant: each parallel job naming itself with the `x-sandbox06-tenant`
//! header keeps a component's state of its own, on the component's backend, with no code in
//! the component.
//!
//! [`TenantStores`] is the [`Store`] a component serves from
//! ([`StoreConfig::open_checked`](crate::StoreConfig::open_checked)). It routes each operation
//! by the tenant of the call being served ([`call_tenant_header`]):
//!
//! - no tenant (the operator, a plain call, a worker): the component's own store, the **base**,
//!   as before tenants existed;
//! - tenant `T`: the store under the namespace `<base namespace>.tenant.<T>` on the same backend.
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
//!   `<base namespace>.tenant.*` namespace, found by `SCAN`, no registry); snapshots stay;
//! - [`Store::pass_time`] ages the base values and every tenant's (the suite's one clock
//!   moves for every job);
//! - the `snapshot_*` operations are of the base state alone: an operator's snapshot neither
//!   holds nor restores a tenant's state.
//!
//! # Outboxes
//!
//! An outbox is routed by the tenant like any key (its entry is enqueued in the same atomic
//! step as the state write, so it must live in the same store). Workers run without a tenant,
//! so they claim, acknowledge and trim the base store's outboxes only: an entry enqueued by a
//! call with a tenant waits in that tenant's store, unclaimed. No component uses an outbox
//! yet; one that does must give its workers the tenants to visit first.
//!
//! # Cost
//!
//! A call without a tenant pays one task-local read per operation, and no allocation, before
//! the base store's own work. A call with a tenant also checks the kept prefixes and finds (or
//! makes) its tenant's store: a map lookup in memory, a namespace string on Redis.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use sandbox06_runtime::faults::{call_tenant_header, is_tenant};

use crate::snapshot::{SnapshotInfo, is_kept};
use crate::{
    Delivery, EntryId, ListAppend, MemoryStore, OutboxEntry, RedisStore, StateWrite, Store,
    StoreError, TimePassed,
};

/// The most tenants one component's memory store keeps state for; past it a new tenant's call
/// fails until an operator's reset forgets the tenants that keep no snapshot.
pub const MAX_MEMORY_TENANTS: usize = 1000;

/// [`StoreError::backend`] of a call refused a store for its tenant (too many tenants, a
/// malformed tenant, configuration and state in one call): no backend was asked, so a
/// [`CheckedStore`](crate::CheckedStore) does not take it for the backend being down.
pub const REFUSED: &str = "tenant";

/// The refusal of `operation` for the call's tenant.
fn refused(operation: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::new(REFUSED, operation, message)
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
            return Err(refused(operation, "the call's tenant is malformed"));
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
                let tenant = tenant
                    .to_str()
                    .map_err(|_| refused(operation, "the call's tenant is malformed"))?;
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
                "one call mixes configuration keys, shared by every tenant, with a tenant's state",
            )),
            _ => {
                let tenant = tenant
                    .to_str()
                    .map_err(|_| refused(operation, "the call's tenant is malformed"))?;
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

    /// The operator's reset: the base state and every tenant's, snapshots left.
    async fn reset_everyone(&self, keep: &[&str]) -> Result<(), StoreError> {
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

#[async_trait::async_trait]
impl Store for TenantStores {
    async fn append(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.for_key("append", key)?.append(key, value).await
    }

    async fn append_if_len(&self, appends: &[ListAppend<'_>]) -> Result<bool, StoreError> {
        self.for_keys("append_if_len", appends.iter().map(|append| append.key))?
            .append_if_len(appends)
            .await
    }

    async fn list(&self, key: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        self.for_key("list", key)?.list(key).await
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        self.for_key("put", key)?.put(key, value, ttl).await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.for_key("get", key)?.get(key).await
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        self.for_key("delete", key)?.delete(key).await
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
        self.for_key("put_if_absent", key)?
            .put_if_absent(key, value, ttl)
            .await
    }

    /// A caller with a tenant clears its tenant's state; one without clears the base state
    /// and every tenant's.
    async fn clear(&self) -> Result<(), StoreError> {
        match self.for_call("clear")? {
            Route::Base(_) => self.reset_everyone(&[]).await,
            Route::Tenant(store) => store.clear().await,
        }
    }

    async fn outbox_commit(
        &self,
        outbox: &str,
        write: StateWrite<'_>,
        payload: &[u8],
    ) -> Result<Option<EntryId>, StoreError> {
        let (put, appends): (Option<&str>, &[ListAppend<'_>]) = match write {
            StateWrite::Put { key, .. } => (Some(key), &[]),
            StateWrite::AppendIfLen(appends) => (None, appends),
        };
        let keys = std::iter::once(outbox)
            .chain(put)
            .chain(appends.iter().map(|append| append.key));
        self.for_keys("outbox_commit", keys)?
            .outbox_commit(outbox, write, payload)
            .await
    }

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

    async fn snapshot_restore(
        &self,
        name: &str,
        keep: &[&str],
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        self.for_call("snapshot_restore")?
            .snapshot_restore(name, keep)
            .await
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
