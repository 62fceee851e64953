//! The default backend: state in the process, one store value's own.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::outbox;
use crate::snapshot::{self, SnapshotInfo, is_kept};
use crate::zset::{self, MemoryZset};
use crate::{
    Delivery, EntryId, ListAppend, OUTBOX_BATCH_MAX, OutboxEntry, ScoreRange, Scored, StateWrite,
    Store, StoreError, TimePassed, ttl_millis,
};

/// What a memory key holds.
#[derive(Clone, Debug)]
enum Value {
    Bytes(Vec<u8>),
    List(Vec<Vec<u8>>),
    /// Never empty: the last member removed takes the key with it, as on Redis.
    Sorted(MemoryZset),
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

/// A saved state: each live key with the time it had left, and the outboxes as they were.
#[derive(Debug)]
struct Saved {
    info: SnapshotInfo,
    values: Vec<(String, Value, Option<Duration>)>,
    outboxes: HashMap<String, outbox::MemoryOutbox>,
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
    /// Snapshots by name, apart from the state; locked after `entries` and `outboxes`.
    snapshots: Mutex<BTreeMap<String, Saved>>,
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

    /// Whether the store holds nothing at all: no key (live or not), no outbox, no snapshot.
    pub(crate) fn is_blank(&self) -> bool {
        self.read().is_empty() && self.outboxes().is_empty() && self.snapshots().is_empty()
    }

    /// Whether the store holds an outbox (with entries or not).
    pub(crate) fn has_outbox(&self) -> bool {
        !self.outboxes().is_empty()
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

    fn snapshots(&self) -> MutexGuard<'_, BTreeMap<String, Saved>> {
        // As for `entries`: nothing panics while holding it.
        self.snapshots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether every list of `appends` has its expected length.
    fn lengths_match(
        entries: &HashMap<String, Entry>,
        appends: &[ListAppend<'_>],
        now: Instant,
        operation: &'static str,
    ) -> Result<bool, StoreError> {
        for append in appends {
            let items: &[Vec<u8>] = match entries.get(append.key) {
                Some(entry) if entry.is_live(now) => match &entry.value {
                    Value::List(items) => items,
                    Value::Bytes(_) | Value::Sorted(_) => return Err(Self::wrong_kind(operation)),
                },
                _ => &[],
            };
            if items.len() != append.expected_len {
                return Ok(false);
            }
            if let Some(last) = append.expected_last
                && items.last().map(Vec::as_slice) != Some(last)
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn wrong_kind(operation: &'static str) -> StoreError {
        StoreError::new(
            "memory",
            operation,
            "key holds a value of another kind (single value, list or sorted set)",
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
                Value::Bytes(_) | Value::Sorted(_) => return Err(Self::wrong_kind(operation)),
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

    /// The sorted set at `key` when there is one; `None` when the key is absent or expired.
    fn sorted<'a>(
        entries: &'a HashMap<String, Entry>,
        key: &str,
        now: Instant,
        operation: &'static str,
    ) -> Result<Option<&'a MemoryZset>, StoreError> {
        match entries.get(key) {
            Some(entry) if entry.is_live(now) => match &entry.value {
                Value::Sorted(set) => Ok(Some(set)),
                Value::Bytes(_) | Value::List(_) => Err(Self::wrong_kind(operation)),
            },
            _ => Ok(None),
        }
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
                Value::Bytes(_) | Value::Sorted(_) => Err(Self::wrong_kind("list")),
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
                Value::List(_) | Value::Sorted(_) => Err(Self::wrong_kind("get")),
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
        self.reset(&[]).await
    }

    async fn zadd(&self, key: &str, member: &str, score: i64) -> Result<bool, StoreError> {
        zset::check_score("memory", "zadd", score)?;
        let now = self.now();
        let mut entries = self.write();
        match entries.get_mut(key) {
            Some(entry) if entry.is_live(now) => match &mut entry.value {
                Value::Sorted(set) => Ok(set.add(member, score)),
                Value::Bytes(_) | Value::List(_) => Err(Self::wrong_kind("zadd")),
            },
            _ => {
                let mut set = MemoryZset::default();
                set.add(member, score);
                entries.insert(
                    key.to_owned(),
                    Entry {
                        value: Value::Sorted(set),
                        expires_at: None,
                    },
                );
                Ok(true)
            }
        }
    }

    async fn zrem(&self, key: &str, member: &str) -> Result<bool, StoreError> {
        let now = self.now();
        let mut entries = self.write();
        let Some(entry) = entries.get_mut(key).filter(|entry| entry.is_live(now)) else {
            return Ok(false);
        };
        let Value::Sorted(set) = &mut entry.value else {
            return Err(Self::wrong_kind("zrem"));
        };
        let removed = set.remove(member);
        if set.is_empty() {
            entries.remove(key);
        }
        Ok(removed)
    }

    async fn zrange(&self, key: &str, range: ScoreRange) -> Result<Vec<Scored>, StoreError> {
        let now = self.now();
        let entries = self.read();
        Ok(Self::sorted(&entries, key, now, "zrange")?
            .map_or_else(Vec::new, |set| set.range(range)))
    }

    async fn zcard(&self, key: &str) -> Result<u64, StoreError> {
        let now = self.now();
        let entries = self.read();
        Ok(Self::sorted(&entries, key, now, "zcard")?.map_or(0, |set| set.len() as u64))
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

    async fn reset(&self, keep: &[&str]) -> Result<(), StoreError> {
        let mut entries = self.write();
        entries.retain(|key, _| is_kept(key, keep));
        self.outboxes().retain(|name, _| is_kept(name, keep));
        Ok(())
    }

    async fn pass_time(&self, by: Duration) -> Result<TimePassed, StoreError> {
        let now = self.now();
        let mut passed = TimePassed::default();
        self.write().retain(|_, entry| {
            let Some(at) = entry.expires_at.filter(|_| entry.is_live(now)) else {
                return true;
            };
            match at.checked_sub(by).filter(|aged| *aged > now) {
                Some(aged) => {
                    entry.expires_at = Some(aged);
                    passed.aged += 1;
                    true
                }
                None => {
                    passed.expired += 1;
                    false
                }
            }
        });
        Ok(passed)
    }

    async fn snapshot_save(&self, name: &str, keep: &[&str]) -> Result<SnapshotInfo, StoreError> {
        snapshot::name_error("memory", "snapshot_save", name)?;
        let now = self.now();
        // Both locks at once: the snapshot is one moment of the state.
        let entries = self.read();
        let outboxes = self.outboxes();
        let values: Vec<(String, Value, Option<Duration>)> = entries
            .iter()
            .filter(|(key, entry)| entry.is_live(now) && !is_kept(key, keep))
            .map(|(key, entry)| {
                let left = entry.expires_at.map(|at| {
                    at.saturating_duration_since(now)
                        .max(Duration::from_millis(1))
                });
                (key.clone(), entry.value.clone(), left)
            })
            .collect();
        let outboxes: HashMap<String, outbox::MemoryOutbox> = outboxes
            .iter()
            .filter(|(name, _)| !is_kept(name, keep))
            .map(|(name, outbox)| (name.clone(), outbox.clone()))
            .collect();
        let info = SnapshotInfo {
            name: name.to_owned(),
            saved_at_ms: snapshot::now_ms(),
            key_count: (values.len() + outboxes.len()) as u64,
        };
        self.snapshots().insert(
            name.to_owned(),
            Saved {
                info: info.clone(),
                values,
                outboxes,
            },
        );
        Ok(info)
    }

    async fn snapshot_restore(
        &self,
        name: &str,
        keep: &[&str],
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        snapshot::name_error("memory", "snapshot_restore", name)?;
        let now = self.now();
        let mut entries = self.write();
        let mut outboxes = self.outboxes();
        let snapshots = self.snapshots();
        let Some(saved) = snapshots.get(name) else {
            return Ok(None);
        };
        entries.retain(|key, _| is_kept(key, keep));
        for (key, value, left) in &saved.values {
            if is_kept(key, keep) {
                continue;
            }
            entries.insert(
                key.clone(),
                Entry {
                    value: value.clone(),
                    expires_at: left.and_then(|left| now.checked_add(left)),
                },
            );
        }
        outboxes.retain(|name, _| is_kept(name, keep));
        for (name, outbox) in &saved.outboxes {
            if !is_kept(name, keep) {
                outboxes.insert(name.clone(), outbox.clone());
            }
        }
        Ok(Some(saved.info.clone()))
    }

    async fn snapshot_list(&self) -> Result<Vec<SnapshotInfo>, StoreError> {
        Ok(self
            .snapshots()
            .values()
            .map(|saved| saved.info.clone())
            .collect())
    }

    async fn snapshot_delete(&self, name: &str) -> Result<bool, StoreError> {
        snapshot::name_error("memory", "snapshot_delete", name)?;
        Ok(self.snapshots().remove(name).is_some())
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}
