//! The state store's one behaviour suite, run against both backends. It lives with the
//! end-to-end tests so that the store crate itself needs no build script: test settings never
//! reach a production crate.
//!
//! The Redis runs need `SANDBOX06_TEST_REDIS_URL` (for example `redis://127.0.0.1:6379`);
//! without it they are ignored, with the reason, so a run says how many did not run.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sandbox06_store::{self as store, ListAppend, MemoryStore, RedisStore, Store};

/// Env variable naming the Redis the Redis runs use.
const REDIS_URL_ENV: &str = "SANDBOX06_TEST_REDIS_URL";

/// What every backend must do. `neighbour` is a store of the same backend under another
/// namespace: clearing `store` must leave it alone.
async fn conformance(store: &dyn Store, neighbour: &dyn Store) {
    // A list keeps append order; a missing list is empty.
    assert_eq!(
        store.list("journal:{a}").await.unwrap(),
        Vec::<Vec<u8>>::new()
    );
    for value in [b"first".as_slice(), b"second", b"third"] {
        store.append("journal:{a}", value).await.unwrap();
    }
    assert_eq!(
        store.list("journal:{a}").await.unwrap(),
        vec![b"first".to_vec(), b"second".to_vec(), b"third".to_vec()]
    );

    // Single values: put, get, overwrite, delete.
    assert_eq!(store.get("code:{x}").await.unwrap(), None);
    store.put("code:{x}", b"one", None).await.unwrap();
    assert_eq!(store.get("code:{x}").await.unwrap(), Some(b"one".to_vec()));
    store.put("code:{x}", b"two", None).await.unwrap();
    assert_eq!(store.get("code:{x}").await.unwrap(), Some(b"two".to_vec()));
    assert!(store.delete("code:{x}").await.unwrap());
    assert!(!store.delete("code:{x}").await.unwrap());
    assert_eq!(store.get("code:{x}").await.unwrap(), None);

    // Values are bytes, not text.
    let binary = vec![0x00, 0xFF, 0x0A, 0x0D, 0x00, 0x80, 0xFE];
    store.put("binary", &binary, None).await.unwrap();
    assert_eq!(store.get("binary").await.unwrap(), Some(binary.clone()));
    store.append("binary-list", &binary).await.unwrap();
    store.append("binary-list", &[]).await.unwrap();
    assert_eq!(
        store.list("binary-list").await.unwrap(),
        vec![binary.clone(), Vec::new()]
    );

    // Keys are text with any characters callers use, hash tags included.
    let odd_key = "population:{overlay:058090001234}:*?[x] é";
    store.put(odd_key, b"v", None).await.unwrap();
    assert_eq!(store.get(odd_key).await.unwrap(), Some(b"v".to_vec()));

    // Put-if-absent sets once; a deleted key can be set again.
    assert!(store.put_if_absent("idem:{k}", b"a", None).await.unwrap());
    assert!(!store.put_if_absent("idem:{k}", b"b", None).await.unwrap());
    assert_eq!(store.get("idem:{k}").await.unwrap(), Some(b"a".to_vec()));
    assert!(
        !store
            .put_if_absent("journal:{a}", b"b", None)
            .await
            .unwrap()
    );
    assert!(store.delete("idem:{k}").await.unwrap());
    assert!(store.put_if_absent("idem:{k}", b"c", None).await.unwrap());

    // A TTL expires the value; waiting is bounded and asserts nothing about timing.
    store
        .put("session:{s}", b"short", Some(Duration::from_millis(1)))
        .await
        .unwrap();
    wait_until_absent(store, "session:{s}").await;
    assert!(!store.delete("session:{s}").await.unwrap());
    // An expired key is absent for put-if-absent too.
    assert!(
        store
            .put_if_absent("auth:{c}", b"first", Some(Duration::ZERO))
            .await
            .unwrap()
    );
    wait_until_absent(store, "auth:{c}").await;
    assert!(
        store
            .put_if_absent("auth:{c}", b"second", Some(Duration::from_secs(600)))
            .await
            .unwrap()
    );
    assert_eq!(
        store.get("auth:{c}").await.unwrap(),
        Some(b"second".to_vec())
    );
    // A TTL beyond what Redis accepts is shortened, not refused.
    store.put("long", b"l", Some(Duration::MAX)).await.unwrap();
    assert_eq!(store.get("long").await.unwrap(), Some(b"l".to_vec()));

    // Using a key as the other kind fails in both directions, and changes nothing.
    assert!(store.get("journal:{a}").await.is_err());
    assert!(store.append("binary", b"x").await.is_err());
    assert!(store.list("binary").await.is_err());
    assert_eq!(store.get("binary").await.unwrap(), Some(binary));
    assert_eq!(store.list("journal:{a}").await.unwrap().len(), 3);
    // Put replaces a list; delete removes either kind.
    store.put("journal:{a}", b"now single", None).await.unwrap();
    assert_eq!(
        store.get("journal:{a}").await.unwrap(),
        Some(b"now single".to_vec())
    );
    store.append("to-delete", b"x").await.unwrap();
    assert!(store.delete("to-delete").await.unwrap());
    assert!(store.list("to-delete").await.unwrap().is_empty());

    // Concurrent appends: nothing accepted is lost.
    let writers = (0..8).map(|writer| async move {
        for n in 0..50 {
            store
                .append("feed:{concurrent}", format!("{writer}-{n}").as_bytes())
                .await
                .unwrap();
        }
    });
    futures::future::join_all(writers).await;
    let feed = store.list("feed:{concurrent}").await.unwrap();
    assert_eq!(feed.len(), 400);
    let distinct: BTreeSet<_> = feed.iter().collect();
    assert_eq!(distinct.len(), 400);
    // Each writer's own values keep their order.
    for writer in 0..8 {
        let prefix = format!("{writer}-");
        let own: Vec<u32> = feed
            .iter()
            .map(|value| String::from_utf8(value.clone()).unwrap())
            .filter_map(|value| value.strip_prefix(&prefix).map(|n| n.parse().unwrap()))
            .collect();
        assert_eq!(own, (0..50).collect::<Vec<_>>());
    }

    compare_and_append(store).await;

    // Clear empties this namespace only.
    neighbour.put("code:{x}", b"neighbour", None).await.unwrap();
    neighbour.append("journal:{a}", b"neighbour").await.unwrap();
    store.put("code:{x}", b"mine", None).await.unwrap();
    store.clear().await.unwrap();
    for key in [
        "code:{x}", "binary", "idem:{k}", "auth:{c}", "long", odd_key,
    ] {
        assert_eq!(store.get(key).await.unwrap(), None, "{key} survived clear");
    }
    assert!(store.list("feed:{concurrent}").await.unwrap().is_empty());
    assert!(store.list("binary-list").await.unwrap().is_empty());
    assert_eq!(
        neighbour.get("code:{x}").await.unwrap(),
        Some(b"neighbour".to_vec())
    );
    assert_eq!(
        neighbour.list("journal:{a}").await.unwrap(),
        vec![b"neighbour".to_vec()]
    );
    // A cleared store is usable again.
    store.put("code:{x}", b"again", None).await.unwrap();
    assert_eq!(
        store.get("code:{x}").await.unwrap(),
        Some(b"again".to_vec())
    );
    store.clear().await.unwrap();
}

fn at<'a>(key: &'a str, expected_len: usize, value: &'a [u8]) -> ListAppend<'a> {
    ListAppend {
        key,
        expected_len,
        value,
    }
}

/// `append_if_len`: all or nothing, only at the lengths seen, and one winner among racers.
async fn compare_and_append(store: &dyn Store) {
    // An absent list has length 0.
    assert!(
        store
            .append_if_len(&[at("cas:{t}:a", 0, b"a1")])
            .await
            .unwrap()
    );
    assert!(
        !store
            .append_if_len(&[at("cas:{t}:a", 0, b"a2")])
            .await
            .unwrap()
    );
    assert!(
        store
            .append_if_len(&[at("cas:{t}:a", 1, b"a2")])
            .await
            .unwrap()
    );
    assert!(
        !store
            .append_if_len(&[at("cas:{t}:a", 3, b"a3")])
            .await
            .unwrap()
    );
    // Several lists: when one length is off, none is written.
    let both = |a, b| [at("cas:{t}:a", a, b"a3"), at("cas:{t}:b", b, b"b1")];
    assert!(!store.append_if_len(&both(2, 1)).await.unwrap());
    assert!(!store.append_if_len(&both(1, 0)).await.unwrap());
    assert_eq!(store.list("cas:{t}:a").await.unwrap().len(), 2);
    assert!(store.list("cas:{t}:b").await.unwrap().is_empty());
    assert!(store.append_if_len(&both(2, 0)).await.unwrap());
    assert_eq!(
        store.list("cas:{t}:a").await.unwrap(),
        vec![b"a1".to_vec(), b"a2".to_vec(), b"a3".to_vec()]
    );
    assert_eq!(store.list("cas:{t}:b").await.unwrap(), vec![b"b1".to_vec()]);
    // Nothing to append succeeds; a single value is the wrong kind, and stays.
    assert!(store.append_if_len(&[]).await.unwrap());
    store.put("cas:{t}:single", b"v", None).await.unwrap();
    assert!(
        store
            .append_if_len(&[at("cas:{t}:b", 1, b"b2"), at("cas:{t}:single", 0, b"x")])
            .await
            .is_err()
    );
    assert_eq!(store.list("cas:{t}:b").await.unwrap().len(), 1);
    assert_eq!(
        store.get("cas:{t}:single").await.unwrap(),
        Some(b"v".to_vec())
    );
    // Racers at the same length: exactly one wins.
    let racers = (0..16u8).map(|n| async move {
        store
            .append_if_len(&[at("cas:{t}:race", 0, &[n])])
            .await
            .unwrap()
    });
    let won = futures::future::join_all(racers).await;
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    assert_eq!(store.list("cas:{t}:race").await.unwrap().len(), 1);
}

/// Polls `key` until it reads as absent, failing after a generous bound.
async fn wait_until_absent(store: &dyn Store, key: &str) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while store.get(key).await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "{key} did not expire");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A namespace no other test run uses.
fn unique_namespace(label: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("test-{label}-{}-{nanos}", std::process::id())
}

/// The Redis URL for the Redis runs, or `None` after saying they are skipped.
fn redis_url() -> Option<String> {
    match std::env::var(REDIS_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            // Written past the test harness's output capture, so the skip shows in every run.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "redis store tests skipped: {REDIS_URL_ENV} is not set"
            );
            None
        }
    }
}

#[tokio::test]
async fn memory_store_conformance() {
    let store = MemoryStore::new();
    let neighbour = MemoryStore::new();
    assert_eq!(store.backend(), "memory");
    conformance(&store, &neighbour).await;
}

#[tokio::test]
async fn open_memory_by_name_or_empty_url() {
    for url in ["memory", "", " memory "] {
        let store = store::open(url, "sandbox06").await.unwrap();
        assert_eq!(store.backend(), "memory");
    }
}

#[tokio::test]
async fn open_rejects_other_urls_naming_the_accepted_forms() {
    for url in ["postgres://localhost/db", "mem", "http://redis:6379"] {
        let error = store::open(url, "sandbox06").await.unwrap_err();
        let message = error.to_string();
        assert!(message.contains("\"memory\""), "{message}");
        assert!(message.contains("redis://"), "{message}");
        assert!(message.contains("rediss://"), "{message}");
    }
}

#[tokio::test]
async fn open_rejects_namespaces_that_could_overlap() {
    for namespace in ["", "a:b", "a*", "{tag}", "a b"] {
        let error = store::open("memory", namespace).await.unwrap_err();
        assert!(error.to_string().contains("namespace"), "{error}");
    }
}

#[tokio::test]
async fn unreachable_redis_fails_fast_with_a_clear_error() {
    // Nothing listens on port 1 of loopback; the connection is refused at once.
    let started = Instant::now();
    let error = RedisStore::connect("redis://127.0.0.1:1", "sandbox06")
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "{error}");
    assert_eq!(error.backend, "redis");
    assert_eq!(error.operation, "connect");
    let message = error.to_string();
    assert!(message.contains("127.0.0.1:1"), "{message}");
    assert!(message.contains("refused"), "{message}");
}

#[tokio::test]
async fn silent_redis_address_fails_within_the_connect_bound() {
    // A listener that accepts but never answers stands in for a blackholed address.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("redis://{}", listener.local_addr().unwrap());
    let started = Instant::now();
    let error = RedisStore::connect(&url, "sandbox06").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "{error}");
    assert_eq!(error.operation, "connect");
    drop(listener);
}

#[tokio::test]
async fn redis_url_password_is_not_in_errors() {
    let error = store::open("redis://user:s3cret@127.0.0.1:1", "sandbox06")
        .await
        .unwrap_err();
    assert!(!error.to_string().contains("s3cret"), "{error}");
}

#[tokio::test]
#[cfg_attr(
    not(redis_url_set),
    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
)]
async fn redis_store_conformance() {
    let Some(url) = redis_url() else { return };
    let store = RedisStore::connect(&url, &unique_namespace("conformance"))
        .await
        .unwrap();
    let neighbour = RedisStore::connect(&url, &unique_namespace("neighbour"))
        .await
        .unwrap();
    assert_eq!(store.backend(), "redis");
    conformance(&store, &neighbour).await;
    neighbour.clear().await.unwrap();
    assert!(neighbour.list("journal:{a}").await.unwrap().is_empty());
}

#[tokio::test]
#[cfg_attr(
    not(redis_url_set),
    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
)]
async fn redis_replicas_on_one_namespace_share_state() {
    let Some(url) = redis_url() else { return };
    let namespace = unique_namespace("replicas");
    let first: Arc<dyn Store> = store::open(&url, &namespace).await.unwrap();
    let second: Arc<dyn Store> = store::open(&url, &namespace).await.unwrap();
    assert_eq!(second.backend(), "redis");

    first
        .append("population:{overlay:058090001234}", b"moved")
        .await
        .unwrap();
    first.put("session:{s}", b"open", None).await.unwrap();
    second
        .append("population:{overlay:058090001234}", b"married")
        .await
        .unwrap();
    assert_eq!(
        second
            .list("population:{overlay:058090001234}")
            .await
            .unwrap(),
        vec![b"moved".to_vec(), b"married".to_vec()]
    );
    assert_eq!(
        second.get("session:{s}").await.unwrap(),
        Some(b"open".to_vec())
    );
    // An idempotency key taken by one replica is taken for the other.
    assert!(first.put_if_absent("idem:{r}", b"1", None).await.unwrap());
    assert!(!second.put_if_absent("idem:{r}", b"2", None).await.unwrap());

    second.clear().await.unwrap();
    assert_eq!(first.get("session:{s}").await.unwrap(), None);
    assert!(
        first
            .list("population:{overlay:058090001234}")
            .await
            .unwrap()
            .is_empty()
    );
}
