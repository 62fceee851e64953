//! A checked store fails at once while its backend is down, and recovers with a probe.
#![allow(clippy::unwrap_used)]

use std::{sync::Arc, time::Duration};

use sandbox06_store::{CheckedStore, EntryId, MemoryStore, StateWrite, Store};
use sandbox06_testkit::FailingStore;

#[tokio::test]
async fn a_store_that_stops_answering_fails_fast_until_a_probe_sees_it_back() {
    let backend = Arc::new(FailingStore::new());
    let store = CheckedStore::new(backend.clone());
    store.put("k", b"v", None).await.unwrap();
    assert!(store.probe(Duration::from_secs(1)).await);

    backend.fail_all();
    assert!(!store.probe(Duration::from_secs(1)).await);
    assert!(!store.is_up());
    // Down: refused without asking the backend, even once it is back.
    backend.heal();
    let error = store.get("k").await.unwrap_err();
    assert!(error.message.contains("retry later"), "{error}");

    assert!(store.probe(Duration::from_secs(1)).await);
    assert_eq!(store.get("k").await.unwrap(), Some(b"v".to_vec()));
}

#[tokio::test]
async fn a_failed_operation_marks_the_store_down() {
    let backend = Arc::new(FailingStore::new());
    let store = CheckedStore::new(backend.clone());
    backend.fail("append");
    assert!(store.append("k", b"v").await.is_err());
    assert!(!store.is_up());
    backend.heal();
    assert!(store.list("k").await.is_err());
}

#[tokio::test]
async fn a_checked_store_passes_the_outbox_through_and_fails_it_fast_while_down() {
    let store = CheckedStore::new(Arc::new(MemoryStore::new()));
    let write = StateWrite::Put {
        key: "state:{o}",
        value: b"v",
        ttl: None,
    };
    let id = store
        .outbox_commit("outbox:{o}", write, b"p")
        .await
        .unwrap();
    assert_eq!(id, Some(EntryId(1)));
    let claimed = store
        .outbox_claim("outbox:{o}", 1, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(store.outbox_ack("outbox:{o}", EntryId(1), 1).await.unwrap());
    let entries = store
        .outbox_range("outbox:{o}", EntryId::START, 10)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        store.outbox_trim("outbox:{o}", EntryId(1)).await.unwrap(),
        1
    );

    let backend = Arc::new(FailingStore::new());
    let store = CheckedStore::new(backend.clone());
    backend.fail_all();
    assert!(!store.probe(Duration::from_secs(1)).await);
    backend.heal();
    let error = store
        .outbox_claim("outbox:{o}", 1, Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(error.message.contains("retry later"), "{error}");
}
