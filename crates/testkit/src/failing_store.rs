//! A store that fails on demand: a memory store whose operations can be made to fail, by
//! operation and by key, while the test runs; it can also make concurrent requests interleave
//! as they do on a remote store.

use std::{
    sync::{Mutex, PoisonError},
    time::Duration,
};

use sandbox06_store::{ListAppend, MemoryStore, Store, StoreError};

/// Which operations fail, and on which keys.
#[derive(Debug, Clone, Default)]
struct Faults {
    /// Operations that fail (`append`, `append_if_len`, `list`, `put`, `get`, `delete`,
    /// `put_if_absent`, `clear`); every one when `all` is set.
    operations: Vec<&'static str>,
    all: bool,
    /// When set, only keys containing this text fail.
    key_containing: Option<String>,
    /// Operations that start failing once a write to a list succeeded.
    after_write: Vec<&'static str>,
    /// Whether every operation first lets other tasks run.
    interleave: bool,
    /// Whether every `append_if_len` finds a list changed, as if another writer always won.
    lose_races: bool,
    /// The backend and message of the failures, when not the injected ones.
    error: Option<StoreError>,
}

/// A memory store whose operations fail when told to.
#[derive(Debug, Default)]
pub struct FailingStore {
    inner: MemoryStore,
    faults: Mutex<Faults>,
}

impl FailingStore {
    /// A store that works until told otherwise.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every operation fails from now on.
    pub fn fail_all(&self) {
        self.update(|f| f.all = true);
    }

    /// Every operation fails from now on with `error`'s backend and message (e.g. what a real
    /// client said when it could not reach its server); the operation named is the one called.
    pub fn fail_all_with(&self, error: StoreError) {
        self.update(|f| {
            f.all = true;
            f.error = Some(error);
        });
    }

    /// `operation` (e.g. `append`) fails from now on.
    pub fn fail(&self, operation: &'static str) {
        self.update(|f| f.operations.push(operation));
    }

    /// `operation` fails once a list was written (`append` or `append_if_len`), as when the
    /// store stops answering right after a write.
    pub fn fail_after_write(&self, operation: &'static str) {
        self.update(|f| f.after_write.push(operation));
    }

    /// Every operation first yields to other tasks, so requests run concurrently on one thread
    /// interleave between their store calls, as they do on a remote store.
    pub fn interleave(&self) {
        self.update(|f| f.interleave = true);
    }

    /// Every `append_if_len` writes nothing and answers that a list changed, as if another
    /// writer always came first.
    pub fn lose_races(&self) {
        self.update(|f| f.lose_races = true);
    }

    /// Only keys containing `text` fail (for the operations told to fail).
    pub fn only_keys_containing(&self, text: impl Into<String>) {
        let text = text.into();
        self.update(|f| f.key_containing = Some(text));
    }

    /// Every operation works again.
    pub fn heal(&self) {
        self.update(|f| *f = Faults::default());
    }

    fn update(&self, change: impl FnOnce(&mut Faults)) {
        change(&mut self.faults.lock().unwrap_or_else(PoisonError::into_inner));
    }

    fn faults(&self) -> Faults {
        self.faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Yields first when told to interleave.
    async fn enter(&self) {
        if self.faults().interleave {
            tokio::task::yield_now().await;
        }
    }

    /// Arms the faults waiting for a write, when `wrote`.
    fn written<T>(&self, wrote: bool, result: T) -> T {
        if wrote {
            self.update(|f| {
                let armed = std::mem::take(&mut f.after_write);
                f.operations.extend(armed);
            });
        }
        result
    }

    fn check(&self, operation: &'static str, key: Option<&str>) -> Result<(), StoreError> {
        self.check_keys(operation, key.as_slice())
    }

    fn check_keys(&self, operation: &'static str, keys: &[&str]) -> Result<(), StoreError> {
        let faults = self.faults();
        let chosen = faults.all || faults.operations.contains(&operation);
        let key_matches = match &faults.key_containing {
            Some(text) => keys.iter().any(|key| key.contains(text.as_str())),
            None => true,
        };
        if chosen && key_matches {
            return Err(match faults.error {
                Some(error) => StoreError { operation, ..error },
                None => StoreError::new("memory", operation, "injected failure"),
            });
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Store for FailingStore {
    async fn append(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.enter().await;
        self.check("append", Some(key))?;
        let appended = self.inner.append(key, value).await;
        self.written(appended.is_ok(), appended)
    }

    async fn append_if_len(&self, appends: &[ListAppend<'_>]) -> Result<bool, StoreError> {
        self.enter().await;
        let keys: Vec<&str> = appends.iter().map(|a| a.key).collect();
        self.check_keys("append_if_len", &keys)?;
        if self.faults().lose_races {
            return Ok(false);
        }
        let appended = self.inner.append_if_len(appends).await;
        self.written(matches!(appended, Ok(true)), appended)
    }

    async fn list(&self, key: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        self.enter().await;
        self.check("list", Some(key))?;
        self.inner.list(key).await
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        self.enter().await;
        self.check("put", Some(key))?;
        self.inner.put(key, value, ttl).await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.enter().await;
        self.check("get", Some(key))?;
        self.inner.get(key).await
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        self.enter().await;
        self.check("delete", Some(key))?;
        self.inner.delete(key).await
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
        self.enter().await;
        self.check("put_if_absent", Some(key))?;
        self.inner.put_if_absent(key, value, ttl).await
    }

    async fn clear(&self) -> Result<(), StoreError> {
        self.check("clear", None)?;
        self.inner.clear().await
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn fails_what_it_is_told_to_and_heals() {
        let store = FailingStore::new();
        store.put("a", b"1", None).await.unwrap();
        store.fail("get");
        store.only_keys_containing("b");
        assert_eq!(store.get("a").await.unwrap(), Some(b"1".to_vec()));
        assert_eq!(store.get("b").await.unwrap_err().operation, "get");
        store.heal();
        store.fail_all();
        assert!(store.append("a", b"2").await.is_err());
        store.heal();
        assert_eq!(store.get("b").await.unwrap(), None);
    }

    #[tokio::test]
    async fn fails_with_the_error_it_is_given() {
        let store = FailingStore::new();
        store.fail_all_with(StoreError::new("redis", "connect", "connection refused"));
        let error = store.get("a").await.unwrap_err();
        assert_eq!(
            (error.backend, error.operation, error.message.as_str()),
            ("redis", "get", "connection refused")
        );
    }
}
