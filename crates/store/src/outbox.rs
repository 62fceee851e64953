//! The durable outbox: entries enqueued in the same atomic step as a state write, then
//! delivered by workers that claim them under a lease and acknowledge them.
//!
//! An outbox is named like a key and must carry a Redis Cluster hash tag (`outbox:{lodging}`);
//! every state key written together with one of its entries carries the same tag, so the whole
//! step lands in one Cluster slot. Both backends check this and refuse other keys.
//!
//! Entry ids count from 1 per outbox and are never reused while the outbox exists (a
//! [`Store::clear`](crate::Store::clear) starts them again). A claim hands an entry to one worker
//! until its lease ends; the claim is identified by the entry id and its attempt number, and
//! only the latest claim of an entry may acknowledge it (see [`Store::outbox_ack`]).
//! Delivery is at least once: a worker that dies after delivering but before acknowledging
//! leaves the entry to be delivered again after its lease, so receivers deduplicate by entry id.
//!
//! [`Store::outbox_ack`]: crate::Store::outbox_ack

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::{ListAppend, StoreError};

/// Most entries one claim or one range read returns; larger requests are cut to it, so one
/// call (one Lua script on Redis) stays short.
pub const OUTBOX_BATCH_MAX: usize = 1000;

/// The id of an outbox entry: its position in the outbox, from 1, ordered as enqueued.
///
/// [`EntryId::START`] (0) names the place before the first entry, for
/// [`Store::outbox_range`](crate::Store::outbox_range).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId(pub u64);

impl EntryId {
    /// Before the first entry.
    pub const START: Self = Self(0);
}

impl std::fmt::Display for EntryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The state write of [`Store::outbox_commit`](crate::Store::outbox_commit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateWrite<'a> {
    /// [`Store::put`](crate::Store::put): always written.
    Put {
        /// The key set.
        key: &'a str,
        /// Its value.
        value: &'a [u8],
        /// Its TTL, as for `put`.
        ttl: Option<Duration>,
    },
    /// [`Store::append_if_len`](crate::Store::append_if_len): written only at the lengths
    /// given; with no appends, the entry is enqueued alone.
    AppendIfLen(&'a [ListAppend<'a>]),
}

impl StateWrite<'_> {
    fn keys(&self) -> Vec<&str> {
        match self {
            Self::Put { key, .. } => vec![key],
            Self::AppendIfLen(appends) => appends.iter().map(|append| append.key).collect(),
        }
    }
}

/// An entry handed to a worker by [`Store::outbox_claim`](crate::Store::outbox_claim).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The entry.
    pub id: EntryId,
    /// Which claim of the entry this is: 1 the first time, one more at each claim. Pass it to
    /// [`Store::outbox_ack`](crate::Store::outbox_ack).
    pub attempt: u64,
    /// What was enqueued.
    pub payload: Vec<u8>,
}

/// Where an entry stands, as [`Store::outbox_range`](crate::Store::outbox_range) reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryStatus {
    /// Waiting for a worker: never claimed, or its last lease ended.
    Pending,
    /// Claimed, and the lease has not ended.
    Claimed,
    /// Acknowledged: delivered. Kept until trimmed.
    Acknowledged,
}

/// One entry as [`Store::outbox_range`](crate::Store::outbox_range) reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The entry.
    pub id: EntryId,
    /// How many times it was claimed.
    pub attempts: u64,
    /// Where it stands.
    pub status: EntryStatus,
    /// What was enqueued.
    pub payload: Vec<u8>,
}

/// The hash tag Redis Cluster hashes a key by: the text between the first `{` and the first
/// `}` after it, when that text is not empty.
pub fn hash_tag(key: &str) -> Option<&str> {
    let open = key.find('{')?;
    let rest = &key[open + 1..];
    let close = rest.find('}')?;
    (close > 0).then(|| &rest[..close])
}

/// The outbox's hash tag, or the error saying it needs one.
pub(crate) fn outbox_tag<'a>(
    backend: &'static str,
    operation: &'static str,
    outbox: &'a str,
) -> Result<&'a str, StoreError> {
    hash_tag(outbox).ok_or_else(|| {
        StoreError::new(
            backend,
            operation,
            "an outbox name must carry a hash tag, e.g. outbox:{lodging}",
        )
    })
}

/// Checks that the outbox has a hash tag and every state key carries the same one.
pub(crate) fn check_commit(
    backend: &'static str,
    outbox: &str,
    write: &StateWrite<'_>,
) -> Result<(), StoreError> {
    let tag = outbox_tag(backend, "outbox_commit", outbox)?;
    if write.keys().iter().all(|key| hash_tag(key) == Some(tag)) {
        Ok(())
    } else {
        Err(StoreError::new(
            backend,
            "outbox_commit",
            "every key written with an outbox entry must carry the outbox's hash tag \
             (one Redis Cluster slot)",
        ))
    }
}

/// One entry of a memory outbox.
#[derive(Clone, Debug)]
struct Record {
    payload: Vec<u8>,
    attempts: u64,
    /// Whether a claim holds it, and until when (`None`: beyond the clock's range).
    leased: bool,
    lease_until: Option<Instant>,
}

impl Record {
    fn is_leased(&self, now: Instant) -> bool {
        self.leased && self.lease_until.is_none_or(|at| at > now)
    }
}

/// A memory outbox: the same model as the Redis one, under the store's lock.
#[derive(Clone, Debug, Default)]
pub(crate) struct MemoryOutbox {
    last_id: u64,
    records: BTreeMap<u64, Record>,
    /// Ids not acknowledged yet.
    pending: BTreeSet<u64>,
}

impl MemoryOutbox {
    pub(crate) fn enqueue(&mut self, payload: &[u8]) -> EntryId {
        self.last_id += 1;
        self.records.insert(
            self.last_id,
            Record {
                payload: payload.to_vec(),
                attempts: 0,
                leased: false,
                lease_until: None,
            },
        );
        self.pending.insert(self.last_id);
        EntryId(self.last_id)
    }

    pub(crate) fn claim(&mut self, now: Instant, max: usize, lease: Duration) -> Vec<Delivery> {
        // An instant beyond the clock's range is as good as never.
        let lease_until = now.checked_add(lease);
        let mut claimed = Vec::new();
        for id in &self.pending {
            if claimed.len() >= max {
                break;
            }
            let Some(record) = self.records.get_mut(id) else {
                continue;
            };
            if record.is_leased(now) {
                continue;
            }
            record.attempts += 1;
            record.leased = true;
            record.lease_until = lease_until;
            claimed.push(Delivery {
                id: EntryId(*id),
                attempt: record.attempts,
                payload: record.payload.clone(),
            });
        }
        claimed
    }

    pub(crate) fn ack(&mut self, id: EntryId, attempt: u64) -> bool {
        let current = self.records.get(&id.0).map(|record| record.attempts);
        if attempt == 0 || current != Some(attempt) || !self.pending.remove(&id.0) {
            return false;
        }
        if let Some(record) = self.records.get_mut(&id.0) {
            record.leased = false;
        }
        true
    }

    pub(crate) fn range(&self, now: Instant, after: EntryId, limit: usize) -> Vec<OutboxEntry> {
        let Some(first) = after.0.checked_add(1) else {
            return Vec::new();
        };
        self.records
            .range(first..)
            .take(limit)
            .map(|(id, record)| OutboxEntry {
                id: EntryId(*id),
                attempts: record.attempts,
                status: if !self.pending.contains(id) {
                    EntryStatus::Acknowledged
                } else if record.is_leased(now) {
                    EntryStatus::Claimed
                } else {
                    EntryStatus::Pending
                },
                payload: record.payload.clone(),
            })
            .collect()
    }

    pub(crate) fn trim(&mut self, through: EntryId) -> u64 {
        let done: Vec<u64> = self
            .records
            .range(..=through.0)
            .map(|(id, _)| *id)
            .filter(|id| !self.pending.contains(id))
            .collect();
        for id in &done {
            self.records.remove(id);
        }
        done.len() as u64
    }
}

/// The Redis keys of one outbox, in the order every script takes them as `KEYS[1..7]`:
/// the last id (a counter), every retained id (sorted set, score = id), payloads and attempt
/// counts (hashes by id), the ids waiting for a worker (sorted set, score = id), the claimed
/// ids (sorted set, score = lease end in server milliseconds) and the acknowledged ids (sorted
/// set, score = id).
pub(crate) const REDIS_PARTS: [&str; 7] = [
    "seq", "ids", "payloads", "attempts", "ready", "leased", "acked",
];

/// [`Store::outbox_commit`](crate::Store::outbox_commit): `KEYS[8..]` are the state keys;
/// `ARGV[1]` the payload, `ARGV[2]` the mode; for `put` `ARGV[3]` the value and `ARGV[4]` the
/// TTL in ms (empty for none); for `append`, per key, the expected length, "1" when the last
/// item is checked, that item, and the value. Every check (lengths, last items, and `WRONGTYPE`
/// from `LLEN`) and the counter come before the first write, because Redis does not undo a
/// script's writes when it fails halfway. Answers the id, or 0.
pub(crate) const COMMIT_SCRIPT: &str = r#"
local append = ARGV[2] == 'append'
if append then
  for i = 8, #KEYS do
    local at = 4 * (i - 8) + 2
    if redis.call('LLEN', KEYS[i]) ~= tonumber(ARGV[at + 1]) then
      return 0
    end
    if ARGV[at + 2] == '1' and redis.call('LINDEX', KEYS[i], -1) ~= ARGV[at + 3] then
      return 0
    end
  end
end
local id = redis.call('INCR', KEYS[1])
if append then
  for i = 8, #KEYS do
    redis.call('RPUSH', KEYS[i], ARGV[4 * (i - 8) + 6])
  end
elseif ARGV[4] == '' then
  redis.call('SET', KEYS[8], ARGV[3])
else
  redis.call('SET', KEYS[8], ARGV[3], 'PX', ARGV[4])
end
redis.call('ZADD', KEYS[2], id, id)
redis.call('HSET', KEYS[3], id, ARGV[1])
redis.call('HSET', KEYS[4], id, 0)
redis.call('ZADD', KEYS[5], id, id)
return id
"#;

/// The server's clock in milliseconds, the one clock every worker's leases are measured by.
const NOW: &str = r#"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
"#;

/// [`Store::outbox_claim`](crate::Store::outbox_claim): ended leases go back to `ready`, then
/// the lowest `ARGV[1]` ready ids are leased for `ARGV[2]` ms. Answers `{id, attempt,
/// payload}` per entry.
pub(crate) const CLAIM_SCRIPT: &str = r#"
local expired = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[6], id)
  redis.call('ZADD', KEYS[5], id, id)
end
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[5], 0, tonumber(ARGV[1]) - 1)) do
  redis.call('ZREM', KEYS[5], id)
  redis.call('ZADD', KEYS[6], now + tonumber(ARGV[2]), id)
  local attempt = redis.call('HINCRBY', KEYS[4], id, 1)
  out[#out + 1] = {tonumber(id), attempt, redis.call('HGET', KEYS[3], id)}
end
return out
"#;

/// [`Store::outbox_ack`](crate::Store::outbox_ack): only a retained, unacknowledged entry whose
/// latest claim is attempt `ARGV[2]`. Answers 1 when acknowledged, else 0.
pub(crate) const ACK_SCRIPT: &str = r#"
local id = ARGV[1]
if not redis.call('ZSCORE', KEYS[2], id) or redis.call('ZSCORE', KEYS[7], id) then
  return 0
end
if tonumber(redis.call('HGET', KEYS[4], id)) ~= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZREM', KEYS[5], id)
redis.call('ZREM', KEYS[6], id)
redis.call('ZADD', KEYS[7], id, id)
return 1
"#;

/// [`Store::outbox_range`](crate::Store::outbox_range): up to `ARGV[2]` entries after id
/// `ARGV[1]`, as `{id, attempts, payload, status}` (0 pending, 1 claimed, 2 acknowledged).
pub(crate) const RANGE_SCRIPT: &str = r#"
local out = {}
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf', 'LIMIT', 0, ARGV[2])
for _, id in ipairs(ids) do
  local status = 0
  if redis.call('ZSCORE', KEYS[7], id) then
    status = 2
  else
    local deadline = redis.call('ZSCORE', KEYS[6], id)
    if deadline and tonumber(deadline) > now then
      status = 1
    end
  end
  local attempts = tonumber(redis.call('HGET', KEYS[4], id))
  out[#out + 1] = {tonumber(id), attempts, redis.call('HGET', KEYS[3], id), status}
end
return out
"#;

/// [`Store::outbox_trim`](crate::Store::outbox_trim): forgets acknowledged entries with ids up
/// to `ARGV[1]`. Answers how many.
pub(crate) const TRIM_SCRIPT: &str = r#"
local ids = redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', ARGV[1])
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('ZREM', KEYS[7], id)
end
return #ids
"#;

/// A script that reads the server's clock first.
pub(crate) fn timed(script: &str) -> String {
    format!("{NOW}{script}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_tags_follow_the_cluster_rule() {
        assert_eq!(hash_tag("outbox:{lodging}"), Some("lodging"));
        assert_eq!(hash_tag("a:{x}:{y}"), Some("x"));
        assert_eq!(hash_tag("a:{}:{y}"), None);
        assert_eq!(hash_tag("a:}{x}"), Some("x"));
        assert_eq!(hash_tag("plain"), None);
        assert_eq!(hash_tag("open:{x"), None);
    }

    #[test]
    fn state_keys_must_share_the_outbox_tag() {
        let put = |key| StateWrite::Put {
            key,
            value: b"v",
            ttl: None,
        };
        assert!(check_commit("memory", "outbox:{r}", &put("state:{r}:1")).is_ok());
        assert!(check_commit("memory", "outbox:{r}", &put("state:{s}:1")).is_err());
        assert!(check_commit("memory", "outbox:{r}", &put("state:1")).is_err());
        assert!(check_commit("memory", "outbox", &put("state:{r}")).is_err());
        assert!(check_commit("memory", "outbox:{r}", &StateWrite::AppendIfLen(&[])).is_ok());
    }
}
