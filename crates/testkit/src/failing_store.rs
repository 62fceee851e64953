//! A store that fails on demand: a memory store whose operations can be made to fail, by
//! operation and by key, while the test runs.

use std::{
    sync::{Mutex, PoisonError},
    time::Duration,
};

use sandbox06_store::{MemoryStore, Store, StoreError};

/// Which operations fail, and on which keys.
#[derive(Debug, Clone, Default)]
struct Faults {
    /// Operations that fail (`append`, `list`, `put`, `get`, `delete`, `put_if_absent`,
    /// `clear`); every one when `all` is set.
    operations: Vec<&'static str>,
    all: bool,
    /// When set, only keys containing this text fail.
    key_containing: Option<String>,
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

    /// `operation` (e.g. `append`) fails from now on.
    pub fn fail(&self, operation: &'static str) {
        self.update(|f| f.operations.push(operation));
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

    fn check(&self, operation: &'static str, key: Option<&str>) -> Result<(), StoreError> {
        let faults = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        let chosen = faults.all || faults.operations.contains(&operation);
        let key_matches = match (&faults.key_containing, key) {
            (Some(text), Some(key)) => key.contains(text.as_str()),
            (Some(_), None) => false,
            (None, _) => true,
        };
        if chosen && key_matches {
            return Err(StoreError {
                backend: "memory",
                operation,
                message: "injected failure".into(),
            });
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Store for FailingStore {
    async fn append(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.check("append", Some(key))?;
        self.inner.append(key, value).await
    }

    async fn list(&self, key: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        self.check("list", Some(key))?;
        self.inner.list(key).await
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        self.check("put", Some(key))?;
        self.inner.put(key, value, ttl).await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.check("get", Some(key))?;
        self.inner.get(key).await
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        self.check("delete", Some(key))?;
        self.inner.delete(key).await
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
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
}
