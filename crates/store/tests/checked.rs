//! A checked store fails at once while its backend is down, and recovers with a probe.
#![allow(clippy::unwrap_used)]

use std::{sync::Arc, time::Duration};

use sandbox06_store::{CheckedStore, Store};
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
