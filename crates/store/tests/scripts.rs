//! The Redis backend runs its Lua scripts by their SHA1 (`EVALSHA`), so a server that forgot
//! them (restarted, or `SCRIPT FLUSH`) must be sent them again, and every operation must still
//! work. Needs `SANDBOX06_TEST_REDIS_URL`; skipped (saying so) without it.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use sandbox06_store::{EntryId, EntryStatus, ListAppend, RedisStore, StateWrite, Store};

const OUTBOX: &str = "outbox:{scripts}";
const STATE: &str = "state:{scripts}:value";
const OUTBOX_LIST: &str = "state:{scripts}:list";
const LIST: &str = "list";

/// Every operation that runs a script, once; `round` counts from 0.
async fn every_script(store: &RedisStore, round: usize) {
    let put = store
        .outbox_commit(
            OUTBOX,
            StateWrite::Put {
                key: STATE,
                value: b"v",
                ttl: Some(Duration::from_secs(60)),
            },
            b"put",
        )
        .await
        .unwrap();
    let append = store
        .outbox_commit(
            OUTBOX,
            StateWrite::AppendIfLen(&[ListAppend {
                key: OUTBOX_LIST,
                expected_len: round,
                expected_last: None,
                value: b"item",
            }]),
            b"append",
        )
        .await
        .unwrap();
    let first = 2 * round as u64 + 1;
    assert_eq!(put, Some(EntryId(first)));
    assert_eq!(append, Some(EntryId(first + 1)));
    assert_eq!(store.list(OUTBOX_LIST).await.unwrap().len(), round + 1);

    let appended = store
        .append_if_len(&[ListAppend {
            key: LIST,
            expected_len: round,
            expected_last: None,
            value: b"item",
        }])
        .await
        .unwrap();
    assert!(appended);
    assert_eq!(store.list(LIST).await.unwrap().len(), round + 1);

    let claimed = store
        .outbox_claim(OUTBOX, 10, Duration::from_secs(60))
        .await
        .unwrap();
    let payloads: Vec<&[u8]> = claimed.iter().map(|d| d.payload.as_slice()).collect();
    assert_eq!(payloads, [b"put".as_slice(), b"append".as_slice()]);
    for delivery in &claimed {
        assert!(
            store
                .outbox_ack(OUTBOX, delivery.id, delivery.attempt)
                .await
                .unwrap()
        );
    }
    let entries = store
        .outbox_range(OUTBOX, EntryId::START, 100)
        .await
        .unwrap();
    assert_eq!(entries.len(), 2);
    assert!(
        entries
            .iter()
            .all(|entry| entry.status == EntryStatus::Acknowledged)
    );
    assert_eq!(
        store.outbox_trim(OUTBOX, EntryId(first + 1)).await.unwrap(),
        2
    );

    // The snapshot scripts: save, restore, delete.
    store.snapshot_save("scripts", &[]).await.unwrap();
    store.put(STATE, b"changed", None).await.unwrap();
    store
        .snapshot_restore("scripts", &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.get(STATE).await.unwrap(), Some(b"v".to_vec()));
    assert!(store.snapshot_delete("scripts").await.unwrap());
}

#[tokio::test]
async fn redis_scripts_run_again_after_the_server_forgets_them() {
    let Some(url) =
        sandbox06_testkit::redis_url("redis_scripts_run_again_after_the_server_forgets_them")
    else {
        return;
    };
    let store = RedisStore::connect(&url, &sandbox06_testkit::unique_namespace("scripts"))
        .await
        .unwrap();

    every_script(&store, 0).await;

    // What a restarted server does: forget every loaded script. SCRIPT FLUSH is server-wide, so
    // it also drops the scripts of other stores on this server (other tests, other suites);
    // that is harmless, as each of them loads its script again on NOSCRIPT, as tested here.
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut connection)
        .await
        .unwrap();

    every_script(&store, 1).await;
    store.clear().await.unwrap();
}
