//! A store that knows whether its backend answers: a probe marks it up or down, a failed
//! operation marks it down, and while it is down every operation fails at once instead of
//! waiting for the backend's timeout.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use crate::snapshot::SnapshotInfo;
use crate::{
    Delivery, EntryId, ListAppend, OutboxEntry, ScoreRange, Scored, StateWrite, Store, StoreError,
    TimePassed,
};

/// Key the probe reads; it is never written.
const PROBE_KEY: &str = "health:probe";

/// A [`Store`] that fails fast while its backend is down.
#[derive(Debug)]
pub struct CheckedStore {
    inner: Arc<dyn Store>,
    up: AtomicBool,
}

impl CheckedStore {
    /// Wraps `inner`, assumed up until a probe or an operation says otherwise.
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            up: AtomicBool::new(true),
        }
    }

    /// Whether the backend answered the last probe or operation.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Asks the backend for one key within `timeout`; marks the store up or down by the answer.
    pub async fn probe(&self, timeout: Duration) -> bool {
        let answered = matches!(
            tokio::time::timeout(timeout, self.inner.get(PROBE_KEY)).await,
            Ok(Ok(_))
        );
        self.up.store(answered, Ordering::Relaxed);
        answered
    }

    /// A dependency check for a server: each call probes the store within `timeout`.
    pub fn answers(
        self: &Arc<Self>,
        timeout: Duration,
    ) -> impl FnMut() -> std::pin::Pin<Box<dyn Future<Output = bool> + Send>> + Send + 'static {
        let store = Arc::clone(self);
        move || {
            let store = Arc::clone(&store);
            Box::pin(async move { store.probe(timeout).await })
        }
    }

    /// Runs `operation` on the backend only while it is up, and marks the store down when it
    /// fails.
    async fn guarded<T, F>(
        &self,
        operation: &'static str,
        call: impl FnOnce() -> F,
    ) -> Result<T, StoreError>
    where
        F: Future<Output = Result<T, StoreError>>,
    {
        if !self.is_up() {
            return Err(self.down(operation));
        }
        let result = call().await;
        // A call refused a store for its tenant asked no backend: the backend is not down.
        if result.as_ref().is_err_and(|error| error.refusal.is_none()) {
            self.up.store(false, Ordering::Relaxed);
        }
        result
    }

    fn down(&self, operation: &'static str) -> StoreError {
        StoreError::new(
            self.inner.backend(),
            operation,
            "unavailable: the store did not answer its last check; retry later",
        )
    }
}

#[async_trait::async_trait]
impl Store for CheckedStore {
    async fn append(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.guarded("append", || self.inner.append(key, value))
            .await
    }

    async fn append_if_len(&self, appends: &[ListAppend<'_>]) -> Result<bool, StoreError> {
        self.guarded("append_if_len", || self.inner.append_if_len(appends))
            .await
    }

    async fn list(&self, key: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        self.guarded("list", || self.inner.list(key)).await
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        self.guarded("put", || self.inner.put(key, value, ttl))
            .await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.guarded("get", || self.inner.get(key)).await
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        self.guarded("delete", || self.inner.delete(key)).await
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
        self.guarded("put_if_absent", || {
            self.inner.put_if_absent(key, value, ttl)
        })
        .await
    }

    async fn clear(&self) -> Result<(), StoreError> {
        self.guarded("clear", || self.inner.clear()).await
    }

    async fn zadd(&self, key: &str, member: &str, score: i64) -> Result<bool, StoreError> {
        self.guarded("zadd", || self.inner.zadd(key, member, score))
            .await
    }

    async fn zrem(&self, key: &str, member: &str) -> Result<bool, StoreError> {
        self.guarded("zrem", || self.inner.zrem(key, member)).await
    }

    async fn zrange(&self, key: &str, range: ScoreRange) -> Result<Vec<Scored>, StoreError> {
        self.guarded("zrange", || self.inner.zrange(key, range))
            .await
    }

    async fn zcard(&self, key: &str) -> Result<u64, StoreError> {
        self.guarded("zcard", || self.inner.zcard(key)).await
    }

    async fn outbox_commit(
        &self,
        outbox: &str,
        write: StateWrite<'_>,
        payload: &[u8],
    ) -> Result<Option<EntryId>, StoreError> {
        self.guarded("outbox_commit", || {
            self.inner.outbox_commit(outbox, write, payload)
        })
        .await
    }

    async fn outbox_claim(
        &self,
        outbox: &str,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.guarded("outbox_claim", || {
            self.inner.outbox_claim(outbox, max, lease)
        })
        .await
    }

    async fn outbox_ack(
        &self,
        outbox: &str,
        id: EntryId,
        attempt: u64,
    ) -> Result<bool, StoreError> {
        self.guarded("outbox_ack", || self.inner.outbox_ack(outbox, id, attempt))
            .await
    }

    async fn outbox_range(
        &self,
        outbox: &str,
        after: EntryId,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.guarded("outbox_range", || {
            self.inner.outbox_range(outbox, after, limit)
        })
        .await
    }

    async fn outbox_trim(&self, outbox: &str, through: EntryId) -> Result<u64, StoreError> {
        self.guarded("outbox_trim", || self.inner.outbox_trim(outbox, through))
            .await
    }

    async fn outbox_tenants(&self) -> Result<Vec<String>, StoreError> {
        self.guarded("outbox_tenants", || self.inner.outbox_tenants())
            .await
    }

    async fn reset(&self, keep: &[&str]) -> Result<(), StoreError> {
        self.guarded("reset", || self.inner.reset(keep)).await
    }

    async fn snapshot_save(&self, name: &str, keep: &[&str]) -> Result<SnapshotInfo, StoreError> {
        self.guarded("snapshot_save", || self.inner.snapshot_save(name, keep))
            .await
    }

    async fn snapshot_restore(
        &self,
        name: &str,
        keep: &[&str],
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        self.guarded("snapshot_restore", || {
            self.inner.snapshot_restore(name, keep)
        })
        .await
    }

    async fn snapshot_list(&self) -> Result<Vec<SnapshotInfo>, StoreError> {
        self.guarded("snapshot_list", || self.inner.snapshot_list())
            .await
    }

    async fn snapshot_delete(&self, name: &str) -> Result<bool, StoreError> {
        self.guarded("snapshot_delete", || self.inner.snapshot_delete(name))
            .await
    }

    async fn pass_time(&self, by: Duration) -> Result<TimePassed, StoreError> {
        self.guarded("pass_time", || self.inner.pass_time(by)).await
    }

    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
}
