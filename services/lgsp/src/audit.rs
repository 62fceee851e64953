//! The audit log: every exchange, allowed or refused, appended to one list in the store, each
//! entry chained to the one before by SHA-256, so that an entry changed, removed or put out of
//! order breaks the chain where it happened ([`AuditLog::verify`]).
//!
//! An entry's hash is the SHA-256 of its protobuf encoding with the `hash` field empty (the
//! encoding is deterministic: fields in tag order, no maps), `previous_hash` included. Appends
//! are conditional on the list's length and last entry (`append_if_len`), so two replicas
//! never chain two entries to one predecessor: the one that loses reads the tail again and
//! retries. Within a process, appends of one tenant take turns behind a lock that also keeps
//! the tail, so the list is read only when another process appended or the state was reset or
//! restored (a log restored to the very length last seen here has another last entry, so the
//! kept tail is never chained to by mistake).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use prost::Message as _;
use sandbox06_proto::lgsp as pb;
use sandbox06_runtime::{digest::hex, faults::call_tenant_header};
use sandbox06_store::{ListAppend, Store, StoreError};

/// The list holding the log. Its hash tag keeps every key of the platform in one slot.
pub const AUDIT_KEY: &str = "lgsp:{lgsp}:audit";

/// The previous hash of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Times an append reads the tail again after losing to another writer.
const APPEND_ATTEMPTS: usize = 8;

/// The hash of an entry: SHA-256 of its encoding without its own hash, hex.
pub fn entry_hash(entry: &pb::AuditEntry) -> String {
    let mut unhashed = entry.clone();
    unhashed.hash.clear();
    let digest = ring::digest::digest(&ring::digest::SHA256, &unhashed.encode_to_vec());
    hex(digest.as_ref())
}

/// The end of the log as last seen: its length, its last entry as stored, and that entry's
/// hash.
#[derive(Clone, Debug)]
struct Tail {
    len: usize,
    last: Option<Vec<u8>>,
    hash: String,
}

/// One tenant's tail, behind the lock its appends take turns at.
type TailSlot = Arc<tokio::sync::Mutex<Option<Tail>>>;

/// The audit log over the store.
#[derive(Clone, Debug)]
pub struct AuditLog {
    store: Arc<dyn Store>,
    /// The tail per tenant ("" for calls without one), each behind its own lock.
    tails: Arc<Mutex<HashMap<String, TailSlot>>>,
}

/// What a verification found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    /// Entries checked.
    pub entries: i64,
    /// The first entry that does not hold, and why.
    pub broken: Option<(i64, String)>,
    /// The last entry's hash.
    pub head_hash: String,
}

impl AuditLog {
    /// The log in `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            tails: Arc::default(),
        }
    }

    fn tail_slot(&self) -> TailSlot {
        let tenant = call_tenant_header()
            .and_then(|h| h.to_str().ok().map(str::to_owned))
            .unwrap_or_default();
        self.tails
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(tenant)
            .or_default()
            .clone()
    }

    async fn read_tail(&self) -> Result<Tail, StoreError> {
        let list = self.store.list(AUDIT_KEY).await?;
        let hash = list.last().map_or_else(
            || GENESIS.to_owned(),
            |last| match pb::AuditEntry::decode(last.as_slice()) {
                Ok(entry) => entry.hash,
                // An entry that does not decode still chains: the next one names its bytes'
                // hash, and verification reports the undecodable one.
                Err(_) => hex(ring::digest::digest(&ring::digest::SHA256, last).as_ref()),
            },
        );
        Ok(Tail {
            len: list.len(),
            last: list.last().cloned(),
            hash,
        })
    }

    /// Appends `entry` (its sequence and hashes set here); the entry as written.
    pub async fn append(&self, mut entry: pb::AuditEntry) -> Result<pb::AuditEntry, StoreError> {
        let slot = self.tail_slot();
        let mut tail = slot.lock().await;
        for _ in 0..APPEND_ATTEMPTS {
            let seen = match tail.take() {
                Some(seen) => seen,
                None => self.read_tail().await?,
            };
            entry.sequence = i64::try_from(seen.len)
                .unwrap_or(i64::MAX)
                .saturating_add(1);
            entry.previous_hash = seen.hash.clone();
            entry.hash = entry_hash(&entry);
            let value = entry.encode_to_vec();
            let appended = self
                .store
                .append_if_len(&[ListAppend {
                    key: AUDIT_KEY,
                    expected_len: seen.len,
                    expected_last: seen.last.as_deref(),
                    value: &value,
                }])
                .await?;
            if appended {
                *tail = Some(Tail {
                    len: seen.len + 1,
                    last: Some(value),
                    hash: entry.hash.clone(),
                });
                return Ok(entry);
            }
            // Another writer appended, or the state was reset or restored: read it again.
        }
        Err(StoreError::new(
            self.store.backend(),
            "append_if_len",
            "the audit log kept changing under the append",
        ))
    }

    /// Every entry, oldest first; an entry that does not decode is left out.
    pub async fn entries(&self) -> Result<Vec<pb::AuditEntry>, StoreError> {
        Ok(self
            .store
            .list(AUDIT_KEY)
            .await?
            .iter()
            .filter_map(|bytes| pb::AuditEntry::decode(bytes.as_slice()).ok())
            .collect())
    }

    /// Checks the chain from the first entry.
    pub async fn verify(&self) -> Result<Verification, StoreError> {
        let list = self.store.list(AUDIT_KEY).await?;
        let mut previous = GENESIS.to_owned();
        for (at, bytes) in list.iter().enumerate() {
            let sequence = i64::try_from(at).unwrap_or(i64::MAX) + 1;
            let broken = |why: String| Verification {
                entries: sequence,
                broken: Some((sequence, why)),
                head_hash: String::new(),
            };
            let Ok(entry) = pb::AuditEntry::decode(bytes.as_slice()) else {
                return Ok(broken("the entry is not an audit entry".into()));
            };
            if entry.sequence != sequence {
                return Ok(broken(format!(
                    "the entry at place {sequence} carries sequence {}: an entry was removed, added or moved",
                    entry.sequence
                )));
            }
            if entry.previous_hash != previous {
                return Ok(broken(
                    "the entry does not chain to the one before it: that one was changed or removed"
                        .into(),
                ));
            }
            if entry_hash(&entry) != entry.hash {
                return Ok(broken(
                    "the entry's content does not match its hash: it was changed".into(),
                ));
            }
            previous = entry.hash;
        }
        Ok(Verification {
            entries: i64::try_from(list.len()).unwrap_or(i64::MAX),
            broken: None,
            head_hash: previous,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandbox06_store::MemoryStore;

    fn entry(consumer: &str) -> pb::AuditEntry {
        pb::AuditEntry {
            consumer_id: consumer.into(),
            service_code: "moj.civil-status.marital".into(),
            outcome: pb::ExchangeOutcome::Answered as i32,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_chain_verifies_and_a_changed_entry_breaks_it_where_it_was_changed() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let log = AuditLog::new(store.clone());
        for i in 0..5 {
            let written = log.append(entry(&format!("c{i}"))).await.unwrap();
            assert_eq!(written.sequence, i + 1);
        }
        let verified = log.verify().await.unwrap();
        assert_eq!(verified.entries, 5);
        assert!(verified.broken.is_none());
        assert_eq!(verified.head_hash.len(), 64);

        // Rewrite the list with the third entry's consumer changed.
        let mut list = store.list(AUDIT_KEY).await.unwrap();
        let mut third = pb::AuditEntry::decode(list[2].as_slice()).unwrap();
        third.consumer_id = "someone-else".into();
        list[2] = third.encode_to_vec();
        store.delete(AUDIT_KEY).await.unwrap();
        for value in &list {
            store.append(AUDIT_KEY, value).await.unwrap();
        }
        let verified = log.verify().await.unwrap();
        assert_eq!(verified.broken.map(|(at, _)| at), Some(3));

        // A removed entry: the next one no longer chains.
        store.delete(AUDIT_KEY).await.unwrap();
        let fresh = AuditLog::new(store.clone());
        for i in 0..3 {
            fresh.append(entry(&format!("c{i}"))).await.unwrap();
        }
        let mut list = store.list(AUDIT_KEY).await.unwrap();
        list.remove(1);
        store.delete(AUDIT_KEY).await.unwrap();
        for value in &list {
            store.append(AUDIT_KEY, value).await.unwrap();
        }
        let verified = fresh.verify().await.unwrap();
        assert_eq!(verified.broken.map(|(at, _)| at), Some(2));
    }

    #[tokio::test]
    async fn two_writers_never_chain_two_entries_to_one_predecessor() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let (a, b) = (AuditLog::new(store.clone()), AuditLog::new(store.clone()));
        for i in 0..20 {
            let log = if i % 2 == 0 { &a } else { &b };
            log.append(entry("c")).await.unwrap();
        }
        let verified = a.verify().await.unwrap();
        assert_eq!(verified.entries, 20);
        assert!(verified.broken.is_none(), "{verified:?}");
    }

    #[tokio::test]
    async fn a_log_put_back_to_the_length_last_seen_is_read_again() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let (a, b) = (AuditLog::new(store.clone()), AuditLog::new(store.clone()));
        a.append(entry("a")).await.unwrap();
        a.append(entry("a")).await.unwrap();
        // Reset, then another history of the same length (as a snapshot restored would be).
        store.delete(AUDIT_KEY).await.unwrap();
        b.append(entry("b")).await.unwrap();
        b.append(entry("b")).await.unwrap();
        let third = a.append(entry("a")).await.unwrap();
        assert_eq!(third.sequence, 3);
        let verified = a.verify().await.unwrap();
        assert_eq!(verified.entries, 3);
        assert!(verified.broken.is_none(), "{verified:?}");
    }
}
