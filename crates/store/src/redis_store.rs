//! The shared backend: Redis, one namespace per suite.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::outbox;
use crate::snapshot::{self, SnapshotInfo};
use crate::zset;
use crate::{
    CLEAR_BATCH, CONNECT_TIMEOUT, Delivery, EntryId, EntryStatus, ListAppend, OUTBOX_BATCH_MAX,
    OutboxEntry, RESPONSE_TIMEOUT, ScoreRange, Scored, StateWrite, Store, StoreError, TimePassed,
    no_answer, redact_url, ttl_millis, validate_namespace,
};

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

    /// The index of this namespace's snapshots (see [`snapshot`]).
    fn snapshot_index(&self) -> String {
        format!("{{{}}}:snapshots", self.namespace)
    }

    /// The hash holding the snapshot `name`.
    fn snapshot_key(&self, name: &str) -> String {
        format!("{{{}}}:snapshot:{name}", self.namespace)
    }

    /// The set of the tenants whose calls enqueued on an outbox of this (base) namespace's
    /// component (see [`crate::tenant`]). It begins with `{`, like the snapshots: beside the
    /// namespace, so neither a save nor a restore of the base state holds or replaces it.
    fn outbox_tenants_key(&self) -> String {
        format!("{{{}}}:outbox-tenants", self.namespace)
    }

    /// Records `tenant` among those with an outbox (`SADD`).
    pub(crate) async fn record_outbox_tenant(&self, tenant: &str) -> Result<(), StoreError> {
        let _added: u64 = self
            .query(
                "outbox_commit",
                redis::cmd("SADD")
                    .arg(self.outbox_tenants_key())
                    .arg(tenant),
            )
            .await?;
        Ok(())
    }

    /// The tenants recorded with an outbox (`SMEMBERS`), by name.
    pub(crate) async fn recorded_outbox_tenants(&self) -> Result<Vec<String>, StoreError> {
        let mut tenants: Vec<String> = self
            .query(
                "outbox_tenants",
                redis::cmd("SMEMBERS").arg(self.outbox_tenants_key()),
            )
            .await?;
        tenants.sort();
        Ok(tenants)
    }

    /// Forgets every tenant recorded with an outbox.
    pub(crate) async fn forget_outbox_tenants(&self) -> Result<(), StoreError> {
        let _removed: u64 = self
            .query("clear", redis::cmd("UNLINK").arg(self.outbox_tenants_key()))
            .await?;
        Ok(())
    }

    /// `script` over the snapshot index and the snapshot `name`.
    fn snapshot_script<'a>(&self, script: &'a Script, name: &str) -> redis::ScriptInvocation<'a> {
        let mut invocation = script.prepare_invoke();
        invocation
            .key(self.snapshot_index())
            .key(self.snapshot_key(name));
        invocation
    }

    /// `script` over the outbox's keys (`KEYS[1..7]`) and `extra_keys` after them, arguments to
    /// follow.
    fn outbox_script<'a>(
        &self,
        script: &'a Script,
        outbox: &str,
        extra_keys: &[&str],
    ) -> redis::ScriptInvocation<'a> {
        let mut invocation = script.prepare_invoke();
        for part in outbox::REDIS_PARTS {
            invocation.key(self.key(&format!("outbox:{outbox}:{part}")));
        }
        for key in extra_keys {
            invocation.key(self.key(key));
        }
        invocation
    }

    /// The store of another namespace on the same connection: no new connection, a clone of
    /// the manager's handle. `namespace` is checked as [`RedisStore::connect`] checks it.
    pub fn with_namespace(&self, namespace: String) -> Result<Self, StoreError> {
        validate_namespace("redis", &namespace)?;
        Ok(Self {
            connection: self.connection.clone(),
            namespace,
        })
    }

    /// Deletes every key `SCAN MATCH pattern` finds (`pattern` ends with `:*`), except those
    /// whose key after the namespace (after the first `:`) starts with one of `keep`.
    ///
    /// Never FLUSHDB: other namespaces (other sandboxes, other tests) share the database.
    pub(crate) async fn unlink_matching(
        &self,
        operation: &'static str,
        pattern: &str,
        keep: &[&str],
    ) -> Result<(), StoreError> {
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) =
                self.query(operation, &scan(cursor, pattern)).await?;
            let keys: Vec<Vec<u8>> = keys
                .into_iter()
                .filter(|key| {
                    let short = key
                        .iter()
                        .position(|b| *b == b':')
                        .map_or(key.as_slice(), |colon| &key[colon + 1..]);
                    !std::str::from_utf8(short).is_ok_and(|short| snapshot::is_kept(short, keep))
                })
                .collect();
            for batch in keys.chunks(CLEAR_BATCH) {
                let _removed: u64 = self
                    .query(operation, redis::cmd("UNLINK").arg(batch))
                    .await?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// [`Store::pass_time`] over every key `SCAN MATCH pattern` finds.
    pub(crate) async fn age_matching(
        &self,
        pattern: &str,
        by: Duration,
    ) -> Result<TimePassed, StoreError> {
        let by = ttl_millis(by);
        let mut passed = TimePassed::default();
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) =
                self.query("pass_time", &scan(cursor, pattern)).await?;
            for batch in keys.chunks(CLEAR_BATCH) {
                let mut invocation = PASS_TIME.prepare_invoke();
                for key in batch {
                    invocation.key(key.as_slice());
                }
                invocation.arg(by);
                let (expired, aged): (u64, u64) = self.run("pass_time", &invocation).await?;
                passed.expired += expired;
                passed.aged += aged;
            }
            if next == 0 {
                return Ok(passed);
            }
            cursor = next;
        }
    }

    /// The connection to send on: a cheap handle over the manager's one multiplexed connection.
    fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }

    async fn query<T: redis::FromRedisValue>(
        &self,
        operation: &'static str,
        command: &redis::Cmd,
    ) -> Result<T, StoreError> {
        let sent = command.query_async(&mut self.connection()).await;
        sent.map_err(failed(operation))
    }

    /// Runs a script by its SHA1 (`EVALSHA`); when the server answers NOSCRIPT (restarted, or
    /// `SCRIPT FLUSH`), loads it and runs it again. A NOSCRIPT answer ran nothing, so the retry
    /// cannot apply a write twice.
    async fn run<T: redis::FromRedisValue>(
        &self,
        operation: &'static str,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<T, StoreError> {
        let ran = invocation.invoke_async(&mut self.connection()).await;
        ran.map_err(failed(operation))
    }
}

/// `SCAN cursor MATCH pattern COUNT <batch>`.
fn scan(cursor: u64, pattern: &str) -> redis::Cmd {
    let mut command = redis::cmd("SCAN");
    command
        .arg(cursor)
        .arg("MATCH")
        .arg(pattern)
        .arg("COUNT")
        .arg(CLEAR_BATCH);
    command
}

/// The store's error for a failed Redis call of `operation`.
fn failed(operation: &'static str) -> impl FnOnce(redis::RedisError) -> StoreError {
    move |error| StoreError::new("redis", operation, error.to_string())
}

/// [`Store::append_if_len`] on Redis: every length (and expected last item) is checked before
/// anything is written, and a script runs with no other command between its steps. `LLEN` of a
/// single value fails the script with `WRONGTYPE` before any write. Per key, four arguments:
/// the expected length, "1" when the last item is checked, that item, the value.
static APPEND_IF_LEN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
for i, key in ipairs(KEYS) do
  local at = 4 * (i - 1)
  if redis.call('LLEN', key) ~= tonumber(ARGV[at + 1]) then
    return 0
  end
  if ARGV[at + 2] == '1' and redis.call('LINDEX', key, -1) ~= ARGV[at + 3] then
    return 0
  end
end
for i, key in ipairs(KEYS) do
  redis.call('RPUSH', key, ARGV[4 * i])
end
return 1
"#,
    )
});

/// The three arguments of an append's expectation: its length, whether the last item is
/// checked, and that item.
fn expectation<'i, 'a>(
    invocation: &'i mut redis::ScriptInvocation<'a>,
    append: &ListAppend<'_>,
) -> &'i mut redis::ScriptInvocation<'a> {
    invocation
        .arg(append.expected_len)
        .arg(if append.expected_last.is_some() {
            "1"
        } else {
            "0"
        })
        .arg(append.expected_last.unwrap_or_default())
}

/// The outbox's scripts (see [`outbox`]), each hashed once.
static COMMIT: LazyLock<Script> = LazyLock::new(|| Script::new(outbox::COMMIT_SCRIPT));
static CLAIM: LazyLock<Script> =
    LazyLock::new(|| Script::new(&outbox::timed(outbox::CLAIM_SCRIPT)));
static ACK: LazyLock<Script> = LazyLock::new(|| Script::new(outbox::ACK_SCRIPT));
static RANGE: LazyLock<Script> =
    LazyLock::new(|| Script::new(&outbox::timed(outbox::RANGE_SCRIPT)));
static TRIM: LazyLock<Script> = LazyLock::new(|| Script::new(outbox::TRIM_SCRIPT));

/// [`Store::pass_time`] over a batch of keys: each with a TTL lives `ARGV[1]` milliseconds
/// less, or goes when it had no more left.
static PASS_TIME: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local by = tonumber(ARGV[1])
local expired, aged = 0, 0
for _, key in ipairs(KEYS) do
  local left = redis.call('PTTL', key)
  if left > 0 then
    if left <= by then
      redis.call('UNLINK', key)
      expired = expired + 1
    else
      redis.call('PEXPIRE', key, left - by)
      aged = aged + 1
    end
  end
end
return {expired, aged}
"#,
    )
});

/// The snapshot scripts (see [`snapshot`]).
static SAVE: LazyLock<Script> = LazyLock::new(|| Script::new(&snapshot::save_script()));
static RESTORE: LazyLock<Script> = LazyLock::new(|| Script::new(&snapshot::restore_script()));
static DELETE: LazyLock<Script> = LazyLock::new(|| Script::new(snapshot::DELETE_SCRIPT));

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
        let mut invocation = APPEND_IF_LEN.prepare_invoke();
        for append in appends {
            invocation.key(self.key(append.key));
            expectation(&mut invocation, append).arg(append.value);
        }
        let appended: u8 = self.run("append_if_len", &invocation).await?;
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
        self.reset(&[]).await
    }

    async fn reset(&self, keep: &[&str]) -> Result<(), StoreError> {
        self.unlink_matching("clear", &format!("{}:*", self.namespace), keep)
            .await
    }

    async fn zadd(&self, key: &str, member: &str, score: i64) -> Result<bool, StoreError> {
        zset::check_score("redis", "zadd", score)?;
        let added: u64 = self
            .query(
                "zadd",
                redis::cmd("ZADD").arg(self.key(key)).arg(score).arg(member),
            )
            .await?;
        Ok(added > 0)
    }

    async fn zrem(&self, key: &str, member: &str) -> Result<bool, StoreError> {
        let removed: u64 = self
            .query("zrem", redis::cmd("ZREM").arg(self.key(key)).arg(member))
            .await?;
        Ok(removed > 0)
    }

    async fn zrange(&self, key: &str, range: ScoreRange) -> Result<Vec<Scored>, StoreError> {
        let Some((min, max)) = range.bounds() else {
            return Ok(Vec::new());
        };
        // `ZRANGE key start stop BYSCORE [REV] LIMIT offset count WITHSCORES`: with REV the
        // range runs from the highest score down.
        let (start, stop) = if range.rev { (max, min) } else { (min, max) };
        let mut command = redis::cmd("ZRANGE");
        command
            .arg(self.key(key))
            .arg(start)
            .arg(stop)
            .arg("BYSCORE");
        if range.rev {
            command.arg("REV");
        }
        // Redis takes signed 64-bit counts; no set holds more members than that.
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        command
            .arg("LIMIT")
            .arg(count(range.offset))
            .arg(count(range.limit))
            .arg("WITHSCORES");
        let members: Vec<(String, f64)> = self.query("zrange", &command).await?;
        members
            .into_iter()
            .map(|(member, score)| {
                Ok(Scored {
                    member,
                    score: zset::score_from_redis(score)?,
                })
            })
            .collect()
    }

    async fn zcard(&self, key: &str) -> Result<u64, StoreError> {
        self.query("zcard", redis::cmd("ZCARD").arg(self.key(key)))
            .await
    }

    async fn outbox_commit(
        &self,
        outbox: &str,
        write: StateWrite<'_>,
        payload: &[u8],
    ) -> Result<Option<EntryId>, StoreError> {
        outbox::check_commit("redis", outbox, &write)?;
        let invocation = match write {
            StateWrite::Put { key, value, ttl } => {
                let mut invocation = self.outbox_script(&COMMIT, outbox, &[key]);
                invocation.arg(payload).arg("put").arg(value);
                match ttl {
                    Some(ttl) => invocation.arg(ttl_millis(ttl)),
                    None => invocation.arg(""),
                };
                invocation
            }
            StateWrite::AppendIfLen(appends) => {
                let keys: Vec<&str> = appends.iter().map(|append| append.key).collect();
                let mut invocation = self.outbox_script(&COMMIT, outbox, &keys);
                invocation.arg(payload).arg("append");
                for append in appends {
                    expectation(&mut invocation, append).arg(append.value);
                }
                invocation
            }
        };
        let id: u64 = self.run("outbox_commit", &invocation).await?;
        Ok((id > 0).then_some(EntryId(id)))
    }

    async fn outbox_claim(
        &self,
        outbox: &str,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>, StoreError> {
        outbox::outbox_tag("redis", "outbox_claim", outbox)?;
        let max = max.min(OUTBOX_BATCH_MAX);
        if max == 0 {
            return Ok(Vec::new());
        }
        let mut invocation = self.outbox_script(&CLAIM, outbox, &[]);
        invocation.arg(max).arg(ttl_millis(lease));
        let claimed: Vec<(u64, u64, Vec<u8>)> = self.run("outbox_claim", &invocation).await?;
        Ok(claimed
            .into_iter()
            .map(|(id, attempt, payload)| Delivery {
                id: EntryId(id),
                attempt,
                payload,
            })
            .collect())
    }

    async fn outbox_ack(
        &self,
        outbox: &str,
        id: EntryId,
        attempt: u64,
    ) -> Result<bool, StoreError> {
        outbox::outbox_tag("redis", "outbox_ack", outbox)?;
        if attempt == 0 {
            return Ok(false);
        }
        let mut invocation = self.outbox_script(&ACK, outbox, &[]);
        invocation.arg(id.0).arg(attempt);
        let acked: u8 = self.run("outbox_ack", &invocation).await?;
        Ok(acked == 1)
    }

    async fn outbox_range(
        &self,
        outbox: &str,
        after: EntryId,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        outbox::outbox_tag("redis", "outbox_range", outbox)?;
        let limit = limit.min(OUTBOX_BATCH_MAX);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut invocation = self.outbox_script(&RANGE, outbox, &[]);
        invocation.arg(after.0).arg(limit);
        let entries: Vec<(u64, u64, Vec<u8>, u8)> = self.run("outbox_range", &invocation).await?;
        Ok(entries
            .into_iter()
            .map(|(id, attempts, payload, status)| OutboxEntry {
                id: EntryId(id),
                attempts,
                status: match status {
                    2 => EntryStatus::Acknowledged,
                    1 => EntryStatus::Claimed,
                    _ => EntryStatus::Pending,
                },
                payload,
            })
            .collect())
    }

    async fn outbox_trim(&self, outbox: &str, through: EntryId) -> Result<u64, StoreError> {
        outbox::outbox_tag("redis", "outbox_trim", outbox)?;
        let mut invocation = self.outbox_script(&TRIM, outbox, &[]);
        invocation.arg(through.0);
        self.run("outbox_trim", &invocation).await
    }

    async fn snapshot_save(&self, name: &str, keep: &[&str]) -> Result<SnapshotInfo, StoreError> {
        snapshot::name_error("redis", "snapshot_save", name)?;
        let saved_at_ms = snapshot::now_ms();
        let mut invocation = self.snapshot_script(&SAVE, name);
        invocation
            .arg(format!("{}:", self.namespace))
            .arg(name)
            .arg(saved_at_ms);
        for prefix in keep {
            invocation.arg(*prefix);
        }
        let key_count: u64 = self.run("snapshot_save", &invocation).await?;
        Ok(SnapshotInfo {
            name: name.to_owned(),
            saved_at_ms,
            key_count,
        })
    }

    async fn snapshot_restore(
        &self,
        name: &str,
        keep: &[&str],
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        snapshot::name_error("redis", "snapshot_restore", name)?;
        let mut invocation = self.snapshot_script(&RESTORE, name);
        invocation.arg(format!("{}:", self.namespace)).arg(name);
        for prefix in keep {
            invocation.arg(*prefix);
        }
        let entry: Option<String> = self.run("snapshot_restore", &invocation).await?;
        match entry {
            None => Ok(None),
            Some(entry) => snapshot::parse_index(name.to_owned(), &entry)
                .map(Some)
                .ok_or_else(|| {
                    StoreError::new(
                        "redis",
                        "snapshot_restore",
                        "snapshot index entry is malformed",
                    )
                }),
        }
    }

    async fn snapshot_list(&self) -> Result<Vec<SnapshotInfo>, StoreError> {
        let index: Vec<(String, String)> = self
            .query(
                "snapshot_list",
                redis::cmd("HGETALL").arg(self.snapshot_index()),
            )
            .await?;
        let mut listed: Vec<SnapshotInfo> = index
            .into_iter()
            .filter_map(|(name, entry)| snapshot::parse_index(name, &entry))
            .collect();
        listed.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(listed)
    }

    async fn pass_time(&self, by: Duration) -> Result<TimePassed, StoreError> {
        self.age_matching(&format!("{}:*", self.namespace), by)
            .await
    }

    async fn snapshot_delete(&self, name: &str) -> Result<bool, StoreError> {
        snapshot::name_error("redis", "snapshot_delete", name)?;
        let mut invocation = self.snapshot_script(&DELETE, name);
        invocation.arg(name);
        let removed: u64 = self.run("snapshot_delete", &invocation).await?;
        Ok(removed > 0)
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}
