//! The sandbox controls' side of a store: reset a namespace to nothing, or save its state under
//! a name and come back to it ([`Store::snapshot_save`], [`Store::snapshot_restore`]).
//!
//! # What a snapshot holds
//!
//! Every key of the namespace at the moment of the save: byte values with the time they had
//! left to live (a value restored expires as long after the restore as it had left at the
//! save), lists, sorted sets with every member and its score, and outboxes with every entry,
//! its attempts and its status. Leases are kept as
//! the moments they end, so a lease that ended since the save has ended after the restore too,
//! and its entry is claimed again. Restoring replaces the namespace's state exactly: keys
//! written after the save are gone, outbox ids go on from where they were at the save.
//!
//! # Kept keys
//!
//! Some keys are configuration a component keeps in its store, not state: the single sign-on's
//! signing keys, whose loss would make every token already issued unverifiable. The caller
//! names them by prefix (`keep`): [`Store::reset`] leaves them, [`Store::snapshot_save`] does
//! not save them and [`Store::snapshot_restore`] neither deletes nor overwrites them. An outbox
//! is kept when a prefix matches its name.
//!
//! # Where snapshots live
//!
//! Beside the namespace, never inside it: [`Store::clear`] and [`Store::reset`] leave them, a
//! snapshot never contains another, and the keys of a namespace's snapshots cannot fall under
//! another namespace (namespaces have no braces, see below).
//!
//! - In memory, in the store value: they last as long as the process.
//! - On Redis, in Redis, so they survive a restart and every replica on the namespace shares
//!   them: the index `{<namespace>}:snapshots` (a hash, name to when it was saved and how many
//!   keys it holds) and one hash per snapshot, `{<namespace>}:snapshot:<name>` (field: the
//!   key without the namespace; value: its remaining TTL in milliseconds, 0 for none, a
//!   space, then the key's `DUMP`). Both begin with `{`, so `SCAN MATCH <namespace>:*` (a
//!   clear, a save) never sees them; and both carry the hash tag `{<namespace>}`, so one
//!   namespace's index and snapshots share one Redis Cluster slot and a save or a delete
//!   writes both in one step. `DUMP` keeps every type as it is, which sorted sets (the
//!   store's own and the outbox's) and the outbox's hashes need, and `RESTORE` puts it back
//!   with its TTL. The record of the tenants with outboxes, `{<namespace>}:outbox-tenants`
//!   ([`crate::tenant`]), lives beside the namespace the same way and is in no snapshot.
//! - A tenant's snapshots are those of its own store ([`crate::tenant`]): in memory in its
//!   store value, on Redis under `{<namespace>.tenant.<tenant>}:…`, so no tenant lists or
//!   restores another's, and the operator's are of the component's own namespace alone.
//!
//! # How atomic
//!
//! - In memory, a save, a reset and a restore each run under the store's locks: no other write
//!   comes between their steps.
//! - On Redis a save and a restore are each one Lua script (scan the namespace, dump or delete
//!   and restore), which no other command comes between. A script blocks the server while it
//!   runs, in proportion to the keys of the whole database (`SCAN` visits every key to match the
//!   namespace); the sandbox's state is small. A restore cut off by a lost connection either ran
//!   whole or not at all on the server, but the caller cannot tell which: it restores again.
//!   [`Store::reset`] scans in batches and deletes as [`Store::clear`] does, not in one step:
//!   a write racing it may survive it, as with `clear`.
//! - On a Redis Cluster the namespace's keys are spread over slots: the save and the restore
//!   read and write keys the script did not declare, which a Cluster refuses, as `clear` visits
//!   only the node it is connected to. Both need a single Redis server (what the sandbox runs).
//! - A snapshot `DUMP`ed by one Redis version restores on that version or a newer one. Redis
//!   does not roll back a script that fails halfway (a payload an older server cannot read,
//!   memory exhausted): such a restore leaves the namespace partly restored and fails; restore
//!   another snapshot or reset.
//!
//! [`Store::clear`]: crate::Store::clear
//! [`Store::reset`]: crate::Store::reset
//! [`Store::snapshot_save`]: crate::Store::snapshot_save
//! [`Store::snapshot_restore`]: crate::Store::snapshot_restore

use crate::StoreError;

/// Longest snapshot name, in characters.
pub const SNAPSHOT_NAME_MAX: usize = 64;

/// A saved state, as [`Store::snapshot_list`](crate::Store::snapshot_list) describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// Its name.
    pub name: String,
    /// When it was saved, milliseconds since the Unix epoch.
    pub saved_at_ms: i64,
    /// How many keys it holds, as the backend keeps them: in memory an outbox is one key, on
    /// Redis several.
    pub key_count: u64,
}

/// Why a snapshot name is refused; the message says what a name may be.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "snapshot name {problem}: use 1 to {SNAPSHOT_NAME_MAX} characters of A-Z, a-z, 0-9, '-', '_' \
     and '.', beginning with a letter or a digit"
)]
pub struct InvalidSnapshotName {
    /// What is wrong with it.
    pub problem: &'static str,
}

/// Checks a snapshot name: 1 to [`SNAPSHOT_NAME_MAX`] characters of `A-Z a-z 0-9 - _ .`,
/// beginning with a letter or a digit. Names end up in Redis keys, so they carry no `:`,
/// glob characters or braces (hash tags).
pub fn check_snapshot_name(name: &str) -> Result<(), InvalidSnapshotName> {
    let problem = if name.is_empty() {
        "is empty"
    } else if name.len() > SNAPSHOT_NAME_MAX {
        "is too long"
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        "has a character outside the allowed ones"
    } else if !name.as_bytes()[0].is_ascii_alphanumeric() {
        "does not begin with a letter or a digit"
    } else {
        return Ok(());
    };
    Err(InvalidSnapshotName { problem })
}

/// A backend's refusal of a name, before it makes a key of it: the one check of the names a
/// store takes. Marked a refusal ([`crate::Refusal::SnapshotName`]): no backend failed, so a
/// [`CheckedStore`](crate::CheckedStore) does not take it for the backend being down, and the
/// state controls answer it naming their field.
pub(crate) fn name_error(
    backend: &'static str,
    operation: &'static str,
    name: &str,
) -> Result<(), StoreError> {
    check_snapshot_name(name).map_err(|invalid| StoreError {
        message: invalid.to_string(),
        refusal: Some(crate::Refusal::SnapshotName(invalid)),
        ..StoreError::new(backend, operation, "")
    })
}

/// Whether `key` starts with one of the `keep` prefixes.
pub(crate) fn is_kept(key: &str, keep: &[&str]) -> bool {
    keep.iter().any(|prefix| key.starts_with(prefix))
}

/// Now, milliseconds since the Unix epoch (the wall clock: snapshots are listed for people).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

/// The index entry of a snapshot on Redis: `<saved_at_ms> <key_count>`.
pub(crate) fn parse_index(name: String, entry: &str) -> Option<SnapshotInfo> {
    let (saved, count) = entry.split_once(' ')?;
    Some(SnapshotInfo {
        name,
        saved_at_ms: saved.parse().ok()?,
        key_count: count.parse().ok()?,
    })
}

/// The Lua helper every snapshot script shares: whether a key (without the namespace) starts
/// with one of the kept prefixes, `ARGV[first..]`.
const KEPT_LUA: &str = r#"
local function kept(short, first)
  for i = first, #ARGV do
    if string.sub(short, 1, #ARGV[i]) == ARGV[i] then
      return true
    end
  end
  return false
end
"#;

/// Save: `KEYS[1]` the index, `KEYS[2]` the snapshot; `ARGV[1]` the namespace's prefix
/// (`<namespace>:`), `ARGV[2]` the name, `ARGV[3]` now (ms), `ARGV[4..]` the kept prefixes.
/// Answers how many keys it saved.
const SAVE_BODY: &str = r#"
local prefix = ARGV[1]
redis.call('DEL', KEYS[2])
local count = 0
local cursor = '0'
repeat
  local page = redis.call('SCAN', cursor, 'MATCH', prefix .. '*', 'COUNT', 1000)
  cursor = page[1]
  for _, key in ipairs(page[2]) do
    local short = string.sub(key, #prefix + 1)
    if not kept(short, 4) then
      local dump = redis.call('DUMP', key)
      if dump then
        local ttl = redis.call('PTTL', key)
        if ttl < 0 then
          ttl = 0
        elseif ttl == 0 then
          ttl = 1
        end
        redis.call('HSET', KEYS[2], short, string.format('%d', ttl) .. ' ' .. dump)
        count = count + 1
      end
    end
  end
until cursor == '0'
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3] .. ' ' .. count)
return count
"#;

/// Restore: `KEYS[1]` the index, `KEYS[2]` the snapshot; `ARGV[1]` the namespace's prefix,
/// `ARGV[2]` the name, `ARGV[3..]` the kept prefixes. Answers the index entry, or nil when no
/// snapshot has that name (nothing changed).
const RESTORE_BODY: &str = r#"
local prefix = ARGV[1]
local entry = redis.call('HGET', KEYS[1], ARGV[2])
if not entry then
  return false
end
local cursor = '0'
repeat
  local page = redis.call('SCAN', cursor, 'MATCH', prefix .. '*', 'COUNT', 1000)
  cursor = page[1]
  for _, key in ipairs(page[2]) do
    if not kept(string.sub(key, #prefix + 1), 3) then
      redis.call('DEL', key)
    end
  end
until cursor == '0'
local saved = redis.call('HGETALL', KEYS[2])
for i = 1, #saved, 2 do
  local short = saved[i]
  if not kept(short, 3) then
    local value = saved[i + 1]
    local space = string.find(value, ' ', 1, true)
    local ttl = string.sub(value, 1, space - 1)
    redis.call('RESTORE', prefix .. short, ttl, string.sub(value, space + 1), 'REPLACE')
  end
end
return entry
"#;

/// Delete: `KEYS[1]` the index, `KEYS[2]` the snapshot; `ARGV[1]` the name. Answers 1 when
/// there was one.
pub(crate) const DELETE_SCRIPT: &str = r#"
redis.call('DEL', KEYS[2])
return redis.call('HDEL', KEYS[1], ARGV[1])
"#;

/// The save script, with its helper.
pub(crate) fn save_script() -> String {
    format!("{KEPT_LUA}{SAVE_BODY}")
}

/// The restore script, with its helper.
pub(crate) fn restore_script() -> String {
    format!("{KEPT_LUA}{RESTORE_BODY}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_use_a_short_safe_charset() {
        for good in ["a", "after-login", "case_12.before", "0", &"x".repeat(64)] {
            assert_eq!(check_snapshot_name(good), Ok(()), "{good}");
        }
        for (bad, problem) in [
            ("", "is empty"),
            (&"x".repeat(65), "is too long"),
            ("a:b", "has a character outside the allowed ones"),
            ("a{b}", "has a character outside the allowed ones"),
            ("a*", "has a character outside the allowed ones"),
            ("tên", "has a character outside the allowed ones"),
            ("a b", "has a character outside the allowed ones"),
            ("-a", "does not begin with a letter or a digit"),
            (".a", "does not begin with a letter or a digit"),
        ] {
            assert_eq!(
                check_snapshot_name(bad).map_err(|e| e.problem),
                Err(problem),
                "{bad}"
            );
        }
    }

    #[test]
    fn kept_keys_match_by_prefix() {
        assert!(is_kept("sso:keys", &["sso:keys", "sso:browser-key"]));
        assert!(!is_kept("sso:session:x", &["sso:keys"]));
        assert!(!is_kept("anything", &[]));
    }

    #[test]
    fn index_entries_parse() {
        assert_eq!(
            parse_index("n".into(), "1700000000000 12"),
            Some(SnapshotInfo {
                name: "n".into(),
                saved_at_ms: 1_700_000_000_000,
                key_count: 12
            })
        );
        assert_eq!(parse_index("n".into(), "garbage"), None);
    }
}
