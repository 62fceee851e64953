//! The sandbox controls' store operations, one suite run against both backends: reset keeping
//! configuration keys, and snapshots saved, listed, restored and deleted. The Redis runs need
//! `SANDBOX06_TEST_REDIS_URL` (for example `redis://127.0.0.1:6379`); skipped (saying so)
//! without it.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use sandbox06_store::{
    EntryId, EntryStatus, ListAppend, MAX_SCORE, MemoryStore, RedisStore, ScoreRange, Scored,
    SnapshotInfo, StateWrite, Store,
};
use sandbox06_testkit::{redis_url, unique_namespace};

/// Configuration a component keeps through a reset or a restore.
const KEEP: &[&str] = &["config:"];
const OUTBOX: &str = "outbox:{lodging}";
const LODGING: &str = "lodging:{lodging}:events";
const STAYS: &str = "stays:{room-12}";

/// Every member of the sorted set at `key`, ascending.
async fn sorted(store: &dyn Store, key: &str) -> Vec<Scored> {
    store.zrange(key, ScoreRange::all(1000)).await.unwrap()
}

fn scored(member: &str, score: i64) -> Scored {
    Scored {
        member: member.to_owned(),
        score,
    }
}

/// Every entry of the test outbox, as (id, attempts, status, payload).
async fn outbox(store: &dyn Store) -> Vec<(u64, u64, EntryStatus, Vec<u8>)> {
    store
        .outbox_range(OUTBOX, EntryId::START, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| (entry.id.0, entry.attempts, entry.status, entry.payload))
        .collect()
}

/// Records one event of the test lodging list with its outbox entry.
async fn record(store: &dyn Store, expected_len: usize, event: &[u8]) -> EntryId {
    store
        .outbox_commit(
            OUTBOX,
            StateWrite::AppendIfLen(&[ListAppend {
                key: LODGING,
                expected_len,
                expected_last: None,
                value: event,
            }]),
            event,
        )
        .await
        .unwrap()
        .unwrap()
}

/// The names listed.
async fn names(store: &dyn Store) -> Vec<String> {
    store
        .snapshot_list()
        .await
        .unwrap()
        .into_iter()
        .map(|info| info.name)
        .collect()
}

/// What every backend must do. `neighbour` is a store of the same backend under another
/// namespace (sharing the server on Redis): nothing here may touch it.
async fn snapshots(store: &dyn Store, neighbour: &dyn Store) {
    neighbour.put("state", b"neighbour's", None).await.unwrap();

    // The state at the save: values with and without TTL, a list, an outbox with an entry of
    // each status, and a kept configuration key.
    store
        .put("config:keys", b"signing keys", None)
        .await
        .unwrap();
    store.put("plain", b"one", None).await.unwrap();
    store
        .put("ttl:{a}", b"short", Some(Duration::from_secs(30)))
        .await
        .unwrap();
    store.append("journal:{a}", b"first").await.unwrap();
    store.append("journal:{a}", &[0, 0xFF]).await.unwrap();
    // A sorted set with scores at both ends of the exact range, equal scores and a member
    // that is not ASCII; a kept one.
    for (member, score) in [
        ("guest-b", 1_700_000_000_000),
        ("guest-a", 1_700_000_000_000),
        ("Nguyễn", -3),
        ("first", -MAX_SCORE),
        ("last", MAX_SCORE),
        ("almost", MAX_SCORE - 1),
    ] {
        store.zadd(STAYS, member, score).await.unwrap();
    }
    store.zadd("config:order", "kept", 1).await.unwrap();
    let stays_at_save = sorted(store, STAYS).await;
    assert_eq!(stays_at_save.len(), 6);
    record(store, 0, b"e1").await;
    record(store, 1, b"e2").await;
    record(store, 2, b"e3").await;
    let claimed = store
        .outbox_claim(OUTBOX, 2, Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    assert!(store.outbox_ack(OUTBOX, claimed[0].id, 1).await.unwrap());
    let outbox_at_save = outbox(store).await;
    assert_eq!(
        outbox_at_save
            .iter()
            .map(|(_, _, status, _)| *status)
            .collect::<Vec<_>>(),
        [
            EntryStatus::Acknowledged,
            EntryStatus::Claimed,
            EntryStatus::Pending
        ]
    );

    assert_eq!(names(store).await, Vec::<String>::new());
    let saved = store.snapshot_save("before", KEEP).await.unwrap();
    assert_eq!(saved.name, "before");
    assert!(saved.saved_at_ms > 1_700_000_000_000, "{saved:?}");
    // plain, ttl, journal, the sorted set and the outbox; the kept keys are not saved.
    assert!(saved.key_count >= 5, "{saved:?}");
    assert_eq!(store.snapshot_list().await.unwrap(), vec![saved.clone()]);

    // Everything changes after the save: values overwritten and deleted, keys added, the list
    // and the outbox grown, the configuration rotated.
    store.put("plain", b"two", None).await.unwrap();
    store.delete("ttl:{a}").await.unwrap();
    store.put("later", b"x", None).await.unwrap();
    store.append("later-list", b"x").await.unwrap();
    store.append("journal:{a}", b"third").await.unwrap();
    record(store, 3, b"e4").await;
    store.outbox_ack(OUTBOX, claimed[1].id, 1).await.unwrap();
    store.put("config:keys", b"rotated", None).await.unwrap();
    store.put("config:browser", b"new", None).await.unwrap();
    store.zadd(STAYS, "guest-c", 5).await.unwrap();
    store.zadd(STAYS, "guest-a", 6).await.unwrap();
    store.zrem(STAYS, "last").await.unwrap();
    store.zadd("later-stays", "x", 1).await.unwrap();
    store.zadd("config:order", "rotated", 2).await.unwrap();

    // The restore puts the state back exactly, and leaves the kept keys as they are now.
    let restored = store.snapshot_restore("before", KEEP).await.unwrap();
    assert_eq!(restored, Some(saved.clone()));
    assert_eq!(store.get("plain").await.unwrap(), Some(b"one".to_vec()));
    assert_eq!(store.get("ttl:{a}").await.unwrap(), Some(b"short".to_vec()));
    assert_eq!(store.get("later").await.unwrap(), None);
    assert!(store.list("later-list").await.unwrap().is_empty());
    assert_eq!(
        store.list("journal:{a}").await.unwrap(),
        vec![b"first".to_vec(), vec![0, 0xFF]]
    );
    assert_eq!(outbox(store).await, outbox_at_save);
    // The sorted set exactly as saved (every member, every score), the later one gone, the
    // kept one as it is now.
    assert_eq!(sorted(store, STAYS).await, stays_at_save);
    assert_eq!(
        sorted(store, STAYS).await,
        [
            scored("first", -MAX_SCORE),
            scored("Nguyễn", -3),
            scored("guest-a", 1_700_000_000_000),
            scored("guest-b", 1_700_000_000_000),
            scored("almost", MAX_SCORE - 1),
            scored("last", MAX_SCORE),
        ]
    );
    assert_eq!(store.zcard("later-stays").await.unwrap(), 0);
    assert_eq!(store.zcard("config:order").await.unwrap(), 2);
    assert_eq!(
        store.get("config:keys").await.unwrap(),
        Some(b"rotated".to_vec())
    );
    assert_eq!(
        store.get("config:browser").await.unwrap(),
        Some(b"new".to_vec())
    );
    // A restored sorted set is one like any other: it moves and grows.
    assert!(!store.zadd(STAYS, "Nguyễn", 2).await.unwrap());
    assert!(store.zadd(STAYS, "guest-c", 3).await.unwrap());
    assert_eq!(store.zcard(STAYS).await.unwrap(), 7);
    // The restored outbox goes on from where it was: the next id is 4 again, and the claimed
    // entry's latest claim still acknowledges it.
    assert_eq!(record(store, 3, b"e4 again").await, EntryId(4));
    assert!(store.outbox_ack(OUTBOX, claimed[1].id, 1).await.unwrap());
    // Conditional writes see the restored lengths.
    assert!(
        store
            .append_if_len(&[ListAppend {
                key: "journal:{a}",
                expected_len: 2,
                expected_last: None,
                value: b"third again",
            }])
            .await
            .unwrap()
    );

    // A snapshot can be restored again, and saving under a taken name replaces it.
    store
        .snapshot_restore("before", KEEP)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outbox(store).await, outbox_at_save);
    store.put("plain", b"three", None).await.unwrap();
    let replaced = store.snapshot_save("before", KEEP).await.unwrap();
    assert_eq!(store.snapshot_list().await.unwrap(), vec![replaced]);
    store.put("plain", b"four", None).await.unwrap();
    store
        .snapshot_restore("before", KEEP)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.get("plain").await.unwrap(), Some(b"three".to_vec()));

    // Snapshots survive a reset, which keeps the kept keys, and a clear, which does not.
    store.snapshot_save("after-login", &[]).await.unwrap();
    store.reset(KEEP).await.unwrap();
    assert_eq!(store.get("plain").await.unwrap(), None);
    assert!(store.list("journal:{a}").await.unwrap().is_empty());
    assert_eq!(store.zcard(STAYS).await.unwrap(), 0);
    assert_eq!(store.zcard("config:order").await.unwrap(), 2);
    assert!(outbox(store).await.is_empty());
    assert_eq!(
        store.get("config:keys").await.unwrap(),
        Some(b"rotated".to_vec())
    );
    // Outbox ids start from 1 again after a reset.
    assert_eq!(record(store, 0, b"fresh").await, EntryId(1));
    store.clear().await.unwrap();
    assert_eq!(store.get("config:keys").await.unwrap(), None);
    assert_eq!(store.zcard("config:order").await.unwrap(), 0);
    assert_eq!(names(store).await, ["after-login", "before"]);

    // A snapshot is not part of another one: saving with snapshots present saves only state.
    let empty = store.snapshot_save("empty", &[]).await.unwrap();
    assert_eq!(empty.key_count, 0);
    // One saved without kept keys restores them too, and an empty one empties the state.
    store
        .snapshot_restore("after-login", &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.get("config:keys").await.unwrap(),
        Some(b"rotated".to_vec())
    );
    assert_eq!(sorted(store, "config:order").await.len(), 2);
    assert_eq!(sorted(store, STAYS).await, stays_at_save);
    store.snapshot_restore("empty", &[]).await.unwrap().unwrap();
    assert_eq!(store.zcard(STAYS).await.unwrap(), 0);
    assert_eq!(store.get("config:keys").await.unwrap(), None);
    assert_eq!(store.get("plain").await.unwrap(), None);

    // Unknown names: nothing restored, nothing deleted, nothing changed.
    store.put("plain", b"kept", None).await.unwrap();
    assert_eq!(store.snapshot_restore("missing", &[]).await.unwrap(), None);
    assert_eq!(store.get("plain").await.unwrap(), Some(b"kept".to_vec()));
    assert!(!store.snapshot_delete("missing").await.unwrap());
    assert!(store.snapshot_delete("empty").await.unwrap());
    assert!(!store.snapshot_delete("empty").await.unwrap());
    assert_eq!(store.snapshot_restore("empty", &[]).await.unwrap(), None);
    assert_eq!(names(store).await, ["after-login", "before"]);

    // Names that could leave the snapshot's key are refused, naming the rule.
    for bad in ["", "a:b", "{tag}", "*", "-dash", &"x".repeat(65)] {
        let error = store.snapshot_save(bad, &[]).await.unwrap_err();
        assert!(error.message.contains("snapshot name"), "{error}");
        assert!(store.snapshot_restore(bad, &[]).await.is_err());
        assert!(store.snapshot_delete(bad).await.is_err());
    }

    // The neighbour saw none of it.
    assert_eq!(
        neighbour.get("state").await.unwrap(),
        Some(b"neighbour's".to_vec())
    );
    assert!(neighbour.snapshot_list().await.unwrap().is_empty());

    for name in names(store).await {
        store.snapshot_delete(&name).await.unwrap();
    }
    assert!(store.snapshot_list().await.unwrap().is_empty());
}

/// A restored value lives as long after the restore as it had left at the save.
async fn ttls_are_kept(store: &dyn Store, let_pass: impl AsyncFn(Duration)) {
    store
        .put("short", b"v", Some(Duration::from_millis(1500)))
        .await
        .unwrap();
    store
        .put("long", b"v", Some(Duration::from_secs(3600)))
        .await
        .unwrap();
    store.put("forever", b"v", None).await.unwrap();
    store.snapshot_save("ttl", &[]).await.unwrap();
    // Longer than the short value's TTL: gone now, back by the restore, for what it had left.
    let_pass(Duration::from_millis(1600)).await;
    assert_eq!(store.get("short").await.unwrap(), None);
    store.snapshot_restore("ttl", &[]).await.unwrap().unwrap();
    assert_eq!(store.get("short").await.unwrap(), Some(b"v".to_vec()));
    assert_eq!(store.get("long").await.unwrap(), Some(b"v".to_vec()));
    let_pass(Duration::from_millis(1600)).await;
    assert_eq!(store.get("short").await.unwrap(), None);
    assert_eq!(store.get("long").await.unwrap(), Some(b"v".to_vec()));
    assert_eq!(store.get("forever").await.unwrap(), Some(b"v".to_vec()));
    // A value expired at the save is not in the snapshot.
    store.snapshot_save("ttl", &[]).await.unwrap();
    store.put("short", b"again", None).await.unwrap();
    store.snapshot_restore("ttl", &[]).await.unwrap().unwrap();
    assert_eq!(store.get("short").await.unwrap(), None);
    store.snapshot_delete("ttl").await.unwrap();
}

#[tokio::test]
async fn memory_snapshots() {
    let store = MemoryStore::new();
    let neighbour = MemoryStore::new();
    snapshots(&store, &neighbour).await;
}

#[tokio::test]
async fn memory_ttls_are_kept() {
    let store = MemoryStore::new();
    ttls_are_kept(&store, async |by| store.advance_clock(by)).await;
}

#[tokio::test]
async fn memory_snapshots_leave_the_store_that_saved_them_alone() {
    // Each component's memory store has its own snapshots.
    let one = MemoryStore::new();
    let other = MemoryStore::new();
    let info: SnapshotInfo = one.snapshot_save("mine", &[]).await.unwrap();
    assert_eq!(info.key_count, 0);
    assert!(other.snapshot_list().await.unwrap().is_empty());
    assert_eq!(other.snapshot_restore("mine", &[]).await.unwrap(), None);
}

async fn redis_pair(test: &str) -> Option<(RedisStore, RedisStore)> {
    let url = redis_url(test)?;
    let store = RedisStore::connect(&url, &unique_namespace("snapshots"))
        .await
        .unwrap();
    let neighbour = RedisStore::connect(&url, &unique_namespace("snapshots-neighbour"))
        .await
        .unwrap();
    Some((store, neighbour))
}

#[tokio::test]
async fn redis_snapshots() {
    let Some((store, neighbour)) = redis_pair("redis_snapshots").await else {
        return;
    };
    snapshots(&store, &neighbour).await;
    store.clear().await.unwrap();
    neighbour.clear().await.unwrap();
}

#[tokio::test]
async fn redis_ttls_are_kept() {
    let Some((store, _)) = redis_pair("redis_ttls_are_kept").await else {
        return;
    };
    ttls_are_kept(&store, async |by| tokio::time::sleep(by).await).await;
    store.clear().await.unwrap();
}

#[tokio::test]
async fn redis_snapshots_are_shared_by_replicas_and_outlive_the_connection() {
    let Some(url) = redis_url("redis_snapshots_are_shared_by_replicas_and_outlive_the_connection")
    else {
        return;
    };
    let namespace = unique_namespace("snapshots-replicas");
    let one = RedisStore::connect(&url, &namespace).await.unwrap();
    one.put("state", b"saved", None).await.unwrap();
    one.snapshot_save("shared", &[]).await.unwrap();
    drop(one);
    // Another replica (or the same component after a restart) finds and restores it.
    let other = RedisStore::connect(&url, &namespace).await.unwrap();
    other.put("state", b"changed", None).await.unwrap();
    assert_eq!(names(&other).await, ["shared"]);
    other
        .snapshot_restore("shared", &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other.get("state").await.unwrap(), Some(b"saved".to_vec()));
    assert!(other.snapshot_delete("shared").await.unwrap());
    other.clear().await.unwrap();
}

#[tokio::test]
async fn a_checked_store_passes_snapshots_through_and_a_bad_name_does_not_mark_it_down() {
    let store = sandbox06_store::CheckedStore::new(std::sync::Arc::new(MemoryStore::new()));
    store.put("state", b"v", None).await.unwrap();
    assert!(store.snapshot_save("a:b", &[]).await.is_err());
    assert!(store.snapshot_restore("", &[]).await.is_err());
    assert!(store.is_up());
    store.snapshot_save("ok", &[]).await.unwrap();
    store.reset(&[]).await.unwrap();
    assert_eq!(store.get("state").await.unwrap(), None);
    store.snapshot_restore("ok", &[]).await.unwrap().unwrap();
    assert_eq!(store.get("state").await.unwrap(), Some(b"v".to_vec()));
    assert_eq!(store.snapshot_list().await.unwrap().len(), 1);
    assert!(store.snapshot_delete("ok").await.unwrap());
}
