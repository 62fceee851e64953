//! The state store's one behaviour suite, run against both backends. It lives with the
//! end-to-end tests so that the store crate itself needs no build script: test settings never
//! reach a production crate.
//!
//! The Redis runs need `SANDBOX06_TEST_REDIS_URL` (for example `redis://127.0.0.1:6379`);
//! without it they are ignored, with the reason, so a run says how many did not run.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sandbox06_runtime::faults;
use sandbox06_store::{
    self as store, Delivery, EntryId, EntryStatus, ListAppend, MAX_SCORE, MemoryStore, RedisStore,
    Refusal, ScoreRange, Scored, StateWrite, Store, TimePassed,
};
use sandbox06_testkit::{redis_url, unique_namespace};

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
    sorted_sets(store).await;

    // Clear empties this namespace only.
    neighbour.put("code:{x}", b"neighbour", None).await.unwrap();
    neighbour.append("journal:{a}", b"neighbour").await.unwrap();
    neighbour.zadd("rank:{z}", "neighbour", 1).await.unwrap();
    store.put("code:{x}", b"mine", None).await.unwrap();
    store.zadd("rank:{z}", "mine", 1).await.unwrap();
    store.clear().await.unwrap();
    assert_eq!(store.zcard("rank:{z}").await.unwrap(), 0);
    assert_eq!(neighbour.zcard("rank:{z}").await.unwrap(), 1);
    assert!(neighbour.zrem("rank:{z}", "neighbour").await.unwrap());
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
    passing_time(store, neighbour).await;
}

/// Time passing (the sandbox clock moving forward) ages the values with a TTL, and nothing
/// else: not values without a TTL, not lists, not another namespace's.
async fn passing_time(store: &dyn Store, neighbour: &dyn Store) {
    let hour = Duration::from_secs(3600);
    store
        .put("sso:code:{a}", b"short", Some(Duration::from_secs(30)))
        .await
        .unwrap();
    store
        .put("sso:session:{b}", b"long", Some(hour))
        .await
        .unwrap();
    store.put("sso:keys", b"forever", None).await.unwrap();
    store.append("sso:list:{c}", b"item").await.unwrap();
    store.zadd("sso:rank:{d}", "member", 7).await.unwrap();
    neighbour
        .put("sso:code:{a}", b"other", Some(Duration::from_secs(30)))
        .await
        .unwrap();
    let passed = store.pass_time(Duration::from_secs(60)).await.unwrap();
    assert_eq!(
        passed,
        TimePassed {
            expired: 1,
            aged: 1
        }
    );
    assert_eq!(store.get("sso:code:{a}").await.unwrap(), None);
    assert_eq!(
        store.get("sso:session:{b}").await.unwrap(),
        Some(b"long".to_vec())
    );
    assert_eq!(
        store.get("sso:keys").await.unwrap(),
        Some(b"forever".to_vec())
    );
    assert_eq!(store.list("sso:list:{c}").await.unwrap().len(), 1);
    // Sorted sets have no TTL: time passing leaves them.
    assert_eq!(
        store
            .zrange("sso:rank:{d}", ScoreRange::all(10))
            .await
            .unwrap(),
        [scored("member", 7)]
    );
    assert_eq!(
        neighbour.get("sso:code:{a}").await.unwrap(),
        Some(b"other".to_vec())
    );
    // The session has just under 3,540 s left: 3,538 more pass and it lives, 2 more and it
    // is gone.
    let passed = store.pass_time(Duration::from_secs(3538)).await.unwrap();
    assert_eq!(passed.aged, 1, "{passed:?}");
    assert!(store.get("sso:session:{b}").await.unwrap().is_some());
    let passed = store.pass_time(Duration::from_secs(2)).await.unwrap();
    assert_eq!(passed.expired, 1, "{passed:?}");
    assert_eq!(store.get("sso:session:{b}").await.unwrap(), None);
    store.clear().await.unwrap();
    neighbour.delete("sso:code:{a}").await.unwrap();
}

fn at<'a>(key: &'a str, expected_len: usize, value: &'a [u8]) -> ListAppend<'a> {
    ListAppend {
        key,
        expected_len,
        expected_last: None,
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
    // The last item checked too: a list of the same length with another last item is not
    // appended to (a tail kept across a restore), nor an empty one.
    let after = |last: &'static [u8]| ListAppend {
        expected_last: Some(last),
        ..at("cas:{t}:a", 3, b"a4")
    };
    assert!(!store.append_if_len(&[after(b"a2")]).await.unwrap());
    assert!(
        !store
            .append_if_len(&[ListAppend {
                expected_last: Some(b"a1"),
                ..at("cas:{t}:empty", 0, b"x")
            }])
            .await
            .unwrap()
    );
    assert!(store.append_if_len(&[after(b"a3")]).await.unwrap());
    assert_eq!(store.list("cas:{t}:a").await.unwrap().len(), 4);
    assert!(store.list("cas:{t}:empty").await.unwrap().is_empty());
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

fn scored(member: &str, score: i64) -> Scored {
    Scored {
        member: member.to_owned(),
        score,
    }
}

/// The members of `key` in `range`, as (member, score).
async fn members(store: &dyn Store, key: &str, range: ScoreRange) -> Vec<(String, i64)> {
    store
        .zrange(key, range)
        .await
        .unwrap()
        .into_iter()
        .map(|scored| (scored.member, scored.score))
        .collect()
}

fn pairs(expected: &[(&str, i64)]) -> Vec<(String, i64)> {
    expected
        .iter()
        .map(|(member, score)| ((*member).to_owned(), *score))
        .collect()
}

/// Sorted sets: ordered by score then member bytes, read both ways with an offset and a limit,
/// scores exact within ±2^53 and refused beyond, another kind of key refused, an empty set gone.
async fn sorted_sets(store: &dyn Store) {
    let key = "stays:{room-12}";
    // An absent set is empty.
    assert_eq!(store.zcard(key).await.unwrap(), 0);
    assert!(
        store
            .zrange(key, ScoreRange::all(10))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!store.zrem(key, "nobody").await.unwrap());

    // Adding answers whether the member is new; adding again moves it.
    for (member, score) in [("b", 20), ("a", 20), ("c", -5), ("é", 20), ("", 20)] {
        assert!(store.zadd(key, member, score).await.unwrap(), "{member}");
    }
    assert!(store.zadd(key, "top", MAX_SCORE).await.unwrap());
    assert!(store.zadd(key, "bottom", -MAX_SCORE).await.unwrap());
    assert!(!store.zadd(key, "c", 30).await.unwrap());
    assert!(!store.zadd(key, "c", 30).await.unwrap());
    assert_eq!(store.zcard(key).await.unwrap(), 7);

    // Ascending by score, equal scores by member bytes ("é" is 0xC3 0xA9, after "b"); the
    // bounds of `all` are past ±2^53, and cut to it.
    let ascending = [
        ("bottom", -MAX_SCORE),
        ("", 20),
        ("a", 20),
        ("b", 20),
        ("é", 20),
        ("c", 30),
        ("top", MAX_SCORE),
    ];
    assert_eq!(
        members(store, key, ScoreRange::all(100)).await,
        pairs(&ascending)
    );
    assert_eq!(
        store.zrange(key, ScoreRange::all(1)).await.unwrap(),
        [scored("bottom", -MAX_SCORE)]
    );
    // Descending reverses the whole order.
    let mut descending = ascending;
    descending.reverse();
    let all_rev = ScoreRange {
        rev: true,
        ..ScoreRange::all(100)
    };
    assert_eq!(members(store, key, all_rev).await, pairs(&descending));
    // Both bounds inclusive; offset, then limit, in the range's order.
    let window = |rev, offset, limit| ScoreRange {
        min: 20,
        max: 30,
        rev,
        offset,
        limit,
    };
    assert_eq!(
        members(store, key, window(false, 0, 100)).await,
        pairs(&[("", 20), ("a", 20), ("b", 20), ("é", 20), ("c", 30)])
    );
    assert_eq!(
        members(store, key, window(true, 0, 100)).await,
        pairs(&[("c", 30), ("é", 20), ("b", 20), ("a", 20), ("", 20)])
    );
    assert_eq!(
        members(store, key, window(false, 2, 2)).await,
        pairs(&[("b", 20), ("é", 20)])
    );
    assert_eq!(
        members(store, key, window(true, 1, 2)).await,
        pairs(&[("é", 20), ("b", 20)])
    );
    assert!(members(store, key, window(false, 5, 10)).await.is_empty());
    assert!(members(store, key, window(true, 0, 0)).await.is_empty());
    assert!(
        members(store, key, window(false, usize::MAX, usize::MAX))
            .await
            .is_empty()
    );
    let nothing = ScoreRange {
        min: 31,
        max: 30,
        ..ScoreRange::all(100)
    };
    assert!(members(store, key, nothing).await.is_empty());
    let single = ScoreRange {
        min: -5,
        max: -5,
        ..ScoreRange::all(100)
    };
    assert!(members(store, key, single).await.is_empty());

    // Scores are exact up to ±2^53: neighbours there stay apart.
    assert!(store.zadd(key, "edge", MAX_SCORE - 1).await.unwrap());
    let near_top = ScoreRange {
        min: MAX_SCORE - 1,
        max: MAX_SCORE - 1,
        ..ScoreRange::all(100)
    };
    assert_eq!(
        members(store, key, near_top).await,
        pairs(&[("edge", MAX_SCORE - 1)])
    );
    assert!(store.zrem(key, "edge").await.unwrap());
    // Beyond, refused without asking the backend, naming no key; nothing changes.
    for score in [MAX_SCORE + 1, -MAX_SCORE - 1, i64::MAX, i64::MIN] {
        let error = store.zadd(key, "a", score).await.unwrap_err();
        assert_eq!(error.refusal, Some(Refusal::Score), "{error}");
        assert!(error.message.contains("2^53"), "{error}");
        assert!(!error.to_string().contains("room"), "{error}");
        assert!(store.zadd(key, "new", score).await.is_err());
    }
    assert_eq!(
        members(store, key, ScoreRange::all(100)).await,
        pairs(&ascending)
    );

    // Another kind of key is refused both ways, and stays as it was.
    store.put("single:{z}", b"v", None).await.unwrap();
    store.append("list:{z}", b"item").await.unwrap();
    for other in ["single:{z}", "list:{z}"] {
        assert!(store.zadd(other, "m", 1).await.is_err(), "{other}");
        assert!(store.zrem(other, "m").await.is_err(), "{other}");
        assert!(store.zrange(other, ScoreRange::all(10)).await.is_err());
        assert!(store.zcard(other).await.is_err(), "{other}");
    }
    assert_eq!(store.get("single:{z}").await.unwrap(), Some(b"v".to_vec()));
    assert_eq!(store.list("list:{z}").await.unwrap().len(), 1);
    assert!(store.get(key).await.is_err());
    assert!(store.list(key).await.is_err());
    assert!(store.append(key, b"x").await.is_err());
    assert!(store.append_if_len(&[at(key, 0, b"x")]).await.is_err());
    assert!(!store.put_if_absent(key, b"x", None).await.unwrap());
    assert_eq!(store.zcard(key).await.unwrap(), 7);

    // The last member removed takes the key with it.
    for (member, _) in ascending {
        assert!(store.zrem(key, member).await.unwrap(), "{member}");
    }
    assert_eq!(store.zcard(key).await.unwrap(), 0);
    assert!(store.put_if_absent(key, b"now single", None).await.unwrap());
    // Put replaces a sorted set, delete removes one.
    store.zadd("rank:{p}", "m", 1).await.unwrap();
    store.put("rank:{p}", b"single", None).await.unwrap();
    assert_eq!(
        store.get("rank:{p}").await.unwrap(),
        Some(b"single".to_vec())
    );
    store.zadd("rank:{d}", "m", 1).await.unwrap();
    assert!(store.delete("rank:{d}").await.unwrap());
    assert_eq!(store.zcard("rank:{d}").await.unwrap(), 0);
    assert!(store.zadd("rank:{d}", "m", 2).await.unwrap());

    // Concurrent adds: none is lost.
    let writers = (0..8).map(|writer| async move {
        for n in 0..25 {
            store
                .zadd("rank:{concurrent}", &format!("{writer}-{n}"), n)
                .await
                .unwrap();
        }
    });
    futures::future::join_all(writers).await;
    assert_eq!(store.zcard("rank:{concurrent}").await.unwrap(), 200);
    let last = ScoreRange {
        min: 24,
        max: 24,
        ..ScoreRange::all(100)
    };
    assert_eq!(
        store.zrange("rank:{concurrent}", last).await.unwrap().len(),
        8
    );
    for key in [
        "single:{z}",
        "list:{z}",
        "stays:{room-12}",
        "rank:{p}",
        "rank:{d}",
    ] {
        store.delete(key).await.unwrap();
    }
    store.delete("rank:{concurrent}").await.unwrap();
}

/// Polls `key` until it reads as absent, failing after a generous bound.
async fn wait_until_absent(store: &dyn Store, key: &str) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while store.get(key).await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "{key} did not expire");
        tokio::time::sleep(Duration::from_millis(5)).await;
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
    let Some(url) = redis_url("redis_store_conformance") else {
        return;
    };
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
    let Some(url) = redis_url("redis_replicas_on_one_namespace_share_state") else {
        return;
    };
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

/// A backend the outbox suite runs on: a store, a second handle on the same state (another
/// replica, or the same memory store), and how time passes for it.
struct OutboxBackend {
    store: Arc<dyn Store>,
    replica: Arc<dyn Store>,
    clock: Clock,
}

enum Clock {
    /// The memory store's own clock, moved by the test.
    Manual(Arc<MemoryStore>),
    /// The Redis server's clock: leases are short and the test waits them out.
    Real,
}

/// A lease that never ends during a test.
const LONG_LEASE: Duration = Duration::from_secs(600);

impl OutboxBackend {
    /// A lease the test waits out.
    fn short_lease(&self) -> Duration {
        match self.clock {
            Clock::Manual(_) => Duration::from_secs(30),
            Clock::Real => Duration::from_millis(150),
        }
    }

    /// Lets a short lease, taken before this call, end.
    async fn let_short_lease_pass(&self) {
        let lease = self.short_lease();
        match &self.clock {
            Clock::Manual(store) => store.advance_clock(lease),
            // Past the lease by the server's clock too: it was taken before its answer came.
            Clock::Real => tokio::time::sleep(lease + Duration::from_millis(5)).await,
        }
    }
}

fn memory_outbox() -> OutboxBackend {
    let store = Arc::new(MemoryStore::new());
    OutboxBackend {
        store: store.clone(),
        replica: store.clone(),
        clock: Clock::Manual(store),
    }
}

async fn redis_outbox() -> Option<OutboxBackend> {
    let url = redis_url("the redis outbox suite")?;
    let namespace = unique_namespace("outbox");
    let store = RedisStore::connect(&url, &namespace).await.unwrap();
    let replica = RedisStore::connect(&url, &namespace).await.unwrap();
    Some(OutboxBackend {
        store: Arc::new(store),
        replica: Arc::new(replica),
        clock: Clock::Real,
    })
}

const OUTBOX: &str = "outbox:{lodging}";

/// Enqueues `payload` alone (no state write).
async fn enqueue(store: &dyn Store, payload: &[u8]) -> EntryId {
    store
        .outbox_commit(OUTBOX, StateWrite::AppendIfLen(&[]), payload)
        .await
        .unwrap()
        .unwrap()
}

async fn everything(store: &dyn Store) -> Vec<store::OutboxEntry> {
    store
        .outbox_range(OUTBOX, EntryId::START, 1000)
        .await
        .unwrap()
}

fn ids(deliveries: &[Delivery]) -> Vec<u64> {
    deliveries.iter().map(|delivery| delivery.id.0).collect()
}

/// The state write and its outbox entry happen together or not at all.
async fn commit_is_all_or_nothing(backend: &OutboxBackend) {
    let store = &*backend.store;
    let put = StateWrite::Put {
        key: "lodging:{lodging}:declaration:1",
        value: b"declared",
        ttl: None,
    };
    let first = store.outbox_commit(OUTBOX, put, b"send 1").await.unwrap();
    assert_eq!(first, Some(EntryId(1)));
    assert_eq!(
        store.get("lodging:{lodging}:declaration:1").await.unwrap(),
        Some(b"declared".to_vec())
    );
    let entries = everything(store).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].id, EntryId(1));
    assert_eq!(entries[0].payload, b"send 1");
    assert_eq!(entries[0].attempts, 0);
    assert_eq!(entries[0].status, EntryStatus::Pending);

    // Compare-and-append on two lists plus the entry.
    let two = |a, b| {
        [
            at("lodging:{lodging}:host:a", a, b"guest"),
            at("lodging:{lodging}:host:b", b, b"guest"),
        ]
    };
    let second = store
        .outbox_commit(OUTBOX, StateWrite::AppendIfLen(&two(0, 0)), b"send 2")
        .await
        .unwrap();
    assert_eq!(second, Some(EntryId(2)));
    // One length off: no list written, nothing enqueued, no id used.
    for lengths in [(1, 0), (0, 1), (1, 2)] {
        let missed = store
            .outbox_commit(
                OUTBOX,
                StateWrite::AppendIfLen(&two(lengths.0, lengths.1)),
                b"lost",
            )
            .await
            .unwrap();
        assert_eq!(missed, None, "{lengths:?}");
    }
    // The right lengths but another last item: nothing written or enqueued.
    let stale = [
        at("lodging:{lodging}:host:a", 1, b"guest"),
        ListAppend {
            expected_last: Some(b"someone else"),
            ..at("lodging:{lodging}:host:b", 1, b"guest")
        },
    ];
    let missed = store
        .outbox_commit(OUTBOX, StateWrite::AppendIfLen(&stale), b"lost")
        .await
        .unwrap();
    assert_eq!(missed, None);
    // A list that is a single value: an error, and again nothing written or enqueued.
    let wrong_kind = [
        at("lodging:{lodging}:host:a", 1, b"x"),
        at("lodging:{lodging}:declaration:1", 0, b"x"),
    ];
    assert!(
        store
            .outbox_commit(OUTBOX, StateWrite::AppendIfLen(&wrong_kind), b"lost")
            .await
            .is_err()
    );
    for list in ["lodging:{lodging}:host:a", "lodging:{lodging}:host:b"] {
        assert_eq!(store.list(list).await.unwrap(), vec![b"guest".to_vec()]);
    }
    assert_eq!(everything(store).await.len(), 2);

    // Keys outside the outbox's hash tag (another Cluster slot) are refused, and the error
    // does not quote them.
    let elsewhere = StateWrite::Put {
        key: "lodging:{079123456789}:declaration",
        value: b"v",
        ttl: None,
    };
    let error = store
        .outbox_commit(OUTBOX, elsewhere, b"lost")
        .await
        .unwrap_err();
    assert!(error.message.contains("hash tag"), "{error}");
    assert!(!error.to_string().contains("079123456789"), "{error}");
    let untagged = StateWrite::Put {
        key: "declaration:079123456789",
        value: b"v",
        ttl: None,
    };
    assert!(
        store
            .outbox_commit(OUTBOX, untagged, b"lost")
            .await
            .is_err()
    );
    assert_eq!(
        store
            .get("lodging:{079123456789}:declaration")
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.get("declaration:079123456789").await.unwrap(), None);
    // An outbox needs a hash tag of its own.
    for operation in [
        store
            .outbox_commit("outbox:079123456789", StateWrite::AppendIfLen(&[]), b"x")
            .await
            .map(|_| ()),
        store
            .outbox_claim("outbox:079123456789", 1, LONG_LEASE)
            .await
            .map(|_| ()),
        store
            .outbox_ack("outbox:079123456789", EntryId(1), 1)
            .await
            .map(|_| ()),
        store
            .outbox_range("outbox:079123456789", EntryId::START, 1)
            .await
            .map(|_| ()),
        store
            .outbox_trim("outbox:079123456789", EntryId(1))
            .await
            .map(|_| ()),
    ] {
        let error = operation.unwrap_err();
        assert!(error.message.contains("hash tag"), "{error}");
        assert!(!error.to_string().contains("079123456789"), "{error}");
    }
    assert_eq!(everything(store).await.len(), 2);
    // A put with a TTL keeps it.
    let with_ttl = StateWrite::Put {
        key: "lodging:{lodging}:draft",
        value: b"draft",
        ttl: Some(Duration::from_millis(1)),
    };
    assert_eq!(
        store
            .outbox_commit(OUTBOX, with_ttl, b"send 3")
            .await
            .unwrap(),
        Some(EntryId(3))
    );
    backend.let_short_lease_pass().await;
    assert_eq!(store.get("lodging:{lodging}:draft").await.unwrap(), None);
    assert_eq!(enqueue(store, b"send 4").await, EntryId(4));

    // Racers writing at the same length: one state write and one entry.
    let racers = (0..16u8).map(|n| async move {
        store
            .outbox_commit(
                OUTBOX,
                StateWrite::AppendIfLen(&[at("lodging:{lodging}:race", 0, &[n])]),
                &[n],
            )
            .await
            .unwrap()
    });
    let won: Vec<_> = futures::future::join_all(racers)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(won, vec![EntryId(5)]);
    let race = store.list("lodging:{lodging}:race").await.unwrap();
    let entries = everything(store).await;
    assert_eq!(entries.len(), 5);
    assert_eq!(entries[4].payload, race[0]);
    // The last item checked and found: appended.
    let fresh = [ListAppend {
        expected_last: Some(&race[0]),
        ..at("lodging:{lodging}:race", 1, b"after")
    }];
    let next = store
        .outbox_commit(OUTBOX, StateWrite::AppendIfLen(&fresh), b"send 6")
        .await
        .unwrap();
    assert_eq!(next, Some(EntryId(6)));
    assert_eq!(store.list("lodging:{lodging}:race").await.unwrap().len(), 2);
    // Another outbox counts its own ids.
    let other = store
        .outbox_commit("outbox:{other}", StateWrite::AppendIfLen(&[]), b"x")
        .await
        .unwrap();
    assert_eq!(other, Some(EntryId(1)));
}

/// Claims are exclusive while their lease lasts; acknowledged entries are trimmed, others stay.
async fn claim_ack_range_trim(backend: &OutboxBackend) {
    let (store, replica) = (&*backend.store, &*backend.replica);
    assert!(
        store
            .outbox_claim(OUTBOX, 10, LONG_LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    for n in 1..=5u8 {
        assert_eq!(enqueue(store, &[n]).await, EntryId(u64::from(n)));
    }
    assert!(
        store
            .outbox_claim(OUTBOX, 0, LONG_LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    let first = store.outbox_claim(OUTBOX, 2, LONG_LEASE).await.unwrap();
    assert_eq!(
        first,
        vec![
            Delivery {
                id: EntryId(1),
                attempt: 1,
                payload: vec![1]
            },
            Delivery {
                id: EntryId(2),
                attempt: 1,
                payload: vec![2]
            },
        ]
    );
    let rest = replica.outbox_claim(OUTBOX, 10, LONG_LEASE).await.unwrap();
    assert_eq!(ids(&rest), vec![3, 4, 5]);
    assert!(
        store
            .outbox_claim(OUTBOX, 10, LONG_LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    let entries = everything(store).await;
    assert!(
        entries
            .iter()
            .all(|entry| entry.status == EntryStatus::Claimed && entry.attempts == 1),
        "{entries:?}"
    );

    // Only the claim's own attempt acknowledges, once.
    assert!(store.outbox_ack(OUTBOX, EntryId(1), 1).await.unwrap());
    assert!(!store.outbox_ack(OUTBOX, EntryId(1), 1).await.unwrap());
    assert!(!store.outbox_ack(OUTBOX, EntryId(2), 2).await.unwrap());
    assert!(!store.outbox_ack(OUTBOX, EntryId(2), 0).await.unwrap());
    assert!(!store.outbox_ack(OUTBOX, EntryId(99), 1).await.unwrap());
    assert!(replica.outbox_ack(OUTBOX, EntryId(2), 1).await.unwrap());
    let statuses: Vec<_> = everything(store)
        .await
        .iter()
        .map(|entry| (entry.id.0, entry.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (1, EntryStatus::Acknowledged),
            (2, EntryStatus::Acknowledged),
            (3, EntryStatus::Claimed),
            (4, EntryStatus::Claimed),
            (5, EntryStatus::Claimed),
        ]
    );
    // A range starts after the id given.
    let page = store.outbox_range(OUTBOX, EntryId(1), 2).await.unwrap();
    assert_eq!(
        page.iter().map(|entry| entry.id.0).collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert!(
        store
            .outbox_range(OUTBOX, EntryId(5), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .outbox_range(OUTBOX, EntryId(u64::MAX), 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Trimming forgets acknowledged entries only.
    assert_eq!(store.outbox_trim(OUTBOX, EntryId(5)).await.unwrap(), 2);
    assert_eq!(store.outbox_trim(OUTBOX, EntryId(5)).await.unwrap(), 0);
    let left: Vec<_> = everything(store).await.iter().map(|e| e.id.0).collect();
    assert_eq!(left, vec![3, 4, 5]);
    assert!(!store.outbox_ack(OUTBOX, EntryId(1), 1).await.unwrap());
    for id in 3..=5 {
        assert!(replica.outbox_ack(OUTBOX, EntryId(id), 1).await.unwrap());
    }
    assert_eq!(store.outbox_trim(OUTBOX, EntryId(4)).await.unwrap(), 2);
    let left: Vec<_> = everything(store).await.iter().map(|e| e.id.0).collect();
    assert_eq!(left, vec![5]);
    assert_eq!(
        store.outbox_trim(OUTBOX, EntryId(u64::MAX)).await.unwrap(),
        1
    );
    assert!(everything(store).await.is_empty());
    // Ids go on after trimming; an unknown outbox is empty.
    assert_eq!(enqueue(store, b"six").await, EntryId(6));
    assert!(
        store
            .outbox_range("outbox:{none}", EntryId::START, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .outbox_trim("outbox:{none}", EntryId(u64::MAX))
            .await
            .unwrap(),
        0
    );
}

/// An ended lease returns its entries to the next claim; the old claim can no longer
/// acknowledge them.
async fn ended_leases_return_entries(backend: &OutboxBackend) {
    let (store, replica) = (&*backend.store, &*backend.replica);
    for n in 1..=3u8 {
        enqueue(store, &[n]).await;
    }
    let held = store.outbox_claim(OUTBOX, 1, LONG_LEASE).await.unwrap();
    assert_eq!(ids(&held), vec![1]);
    let short = store
        .outbox_claim(OUTBOX, 2, backend.short_lease())
        .await
        .unwrap();
    assert_eq!(ids(&short), vec![2, 3]);
    backend.let_short_lease_pass().await;
    let statuses: Vec<_> = everything(store)
        .await
        .iter()
        .map(|entry| (entry.id.0, entry.status, entry.attempts))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (1, EntryStatus::Claimed, 1),
            (2, EntryStatus::Pending, 1),
            (3, EntryStatus::Pending, 1),
        ]
    );
    let again = replica.outbox_claim(OUTBOX, 10, LONG_LEASE).await.unwrap();
    assert_eq!(
        again,
        vec![
            Delivery {
                id: EntryId(2),
                attempt: 2,
                payload: vec![2]
            },
            Delivery {
                id: EntryId(3),
                attempt: 2,
                payload: vec![3]
            },
        ]
    );
    // The first claim's acknowledgement comes too late: refused, and the entry stays claimed.
    assert!(!store.outbox_ack(OUTBOX, EntryId(2), 1).await.unwrap());
    let second = everything(store).await.remove(1);
    assert_eq!((second.status, second.attempts), (EntryStatus::Claimed, 2));
    assert!(replica.outbox_ack(OUTBOX, EntryId(2), 2).await.unwrap());
    assert!(replica.outbox_ack(OUTBOX, EntryId(3), 2).await.unwrap());
    assert!(store.outbox_ack(OUTBOX, EntryId(1), 1).await.unwrap());

    // A lease that ended with nobody claiming since still acknowledges.
    let id = enqueue(store, b"late").await;
    let late = store
        .outbox_claim(OUTBOX, 10, backend.short_lease())
        .await
        .unwrap();
    assert_eq!(ids(&late), vec![id.0]);
    backend.let_short_lease_pass().await;
    assert_eq!(everything(store).await[3].status, EntryStatus::Pending);
    assert!(store.outbox_ack(OUTBOX, id, 1).await.unwrap());
    assert!(
        replica
            .outbox_claim(OUTBOX, 10, LONG_LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        everything(store)
            .await
            .iter()
            .all(|entry| entry.status == EntryStatus::Acknowledged)
    );
}

/// Two workers draining one outbox at once never hold the same entry.
async fn concurrent_workers_never_share_an_entry(backend: &OutboxBackend) {
    const ENTRIES: u64 = 200;
    for n in 1..=ENTRIES {
        enqueue(&*backend.store, n.to_string().as_bytes()).await;
    }
    let worker = |store: Arc<dyn Store>| {
        tokio::spawn(async move {
            let mut delivered = Vec::new();
            loop {
                let claimed = store.outbox_claim(OUTBOX, 7, LONG_LEASE).await.unwrap();
                if claimed.is_empty() {
                    return delivered;
                }
                tokio::task::yield_now().await;
                for delivery in claimed {
                    assert_eq!(delivery.payload, delivery.id.0.to_string().as_bytes());
                    assert!(
                        store
                            .outbox_ack(OUTBOX, delivery.id, delivery.attempt)
                            .await
                            .unwrap()
                    );
                    delivered.push(delivery);
                }
            }
        })
    };
    let first = worker(backend.store.clone());
    let second = worker(backend.replica.clone());
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    let all: Vec<_> = first.iter().chain(&second).collect();
    assert_eq!(all.len() as u64, ENTRIES);
    assert!(all.iter().all(|delivery| delivery.attempt == 1));
    let distinct: BTreeSet<_> = all.iter().map(|delivery| delivery.id).collect();
    assert_eq!(distinct.len() as u64, ENTRIES);
    assert!(
        everything(&*backend.store)
            .await
            .iter()
            .all(|entry| entry.status == EntryStatus::Acknowledged && entry.attempts == 1)
    );
}

/// The registry mock's log: every delivery, by entry id and worker.
type Deliveries = Arc<Mutex<BTreeMap<EntryId, Vec<&'static str>>>>;

fn deliver(log: &Deliveries, delivery: &Delivery, worker: &'static str) {
    log.lock()
        .unwrap()
        .entry(delivery.id)
        .or_default()
        .push(worker);
}

/// A worker killed after claiming, before acknowledging: once its lease ends another worker
/// delivers its entries, each once.
async fn killed_worker_entries_are_delivered_by_another(backend: &OutboxBackend) {
    for n in 1..=10u8 {
        enqueue(&*backend.store, &[n]).await;
    }
    let log = Deliveries::default();
    let (claimed_tx, claimed_rx) = tokio::sync::oneshot::channel();
    let doomed = tokio::spawn({
        let store = backend.store.clone();
        let log = log.clone();
        let lease = backend.short_lease();
        async move {
            let claimed = store.outbox_claim(OUTBOX, 4, lease).await.unwrap();
            // Two delivered, then stuck before any acknowledgement.
            for delivery in &claimed[..2] {
                deliver(&log, delivery, "doomed");
            }
            let _ = claimed_tx.send(ids(&claimed));
            std::future::pending::<()>().await;
        }
    });
    assert_eq!(claimed_rx.await.unwrap(), vec![1, 2, 3, 4]);
    doomed.abort();
    assert!(doomed.await.unwrap_err().is_cancelled());

    let survivor = |store: Arc<dyn Store>, log: Deliveries| async move {
        loop {
            let claimed = store.outbox_claim(OUTBOX, 3, LONG_LEASE).await.unwrap();
            if claimed.is_empty() {
                return;
            }
            for delivery in claimed {
                deliver(&log, &delivery, "survivor");
                assert!(
                    store
                        .outbox_ack(OUTBOX, delivery.id, delivery.attempt)
                        .await
                        .unwrap()
                );
            }
        }
    };
    survivor(backend.replica.clone(), log.clone()).await;
    backend.let_short_lease_pass().await;
    survivor(backend.replica.clone(), log.clone()).await;

    let log = log.lock().unwrap().clone();
    assert_eq!(
        log.keys().map(|id| id.0).collect::<Vec<_>>(),
        (1..=10).collect::<Vec<_>>()
    );
    for (id, workers) in &log {
        let by_survivor = workers.iter().filter(|w| **w == "survivor").count();
        assert_eq!(by_survivor, 1, "entry {id}: {workers:?}");
        let expected: &[&str] = if id.0 <= 2 {
            &["doomed", "survivor"]
        } else {
            &["survivor"]
        };
        assert_eq!(workers, expected, "entry {id}");
    }
    for entry in everything(&*backend.store).await {
        assert_eq!(entry.status, EntryStatus::Acknowledged);
        assert_eq!(
            entry.attempts,
            if entry.id.0 <= 4 { 2 } else { 1 },
            "{entry:?}"
        );
    }
}

/// Each outbox behaviour, run on the memory store and on Redis.
macro_rules! outbox_suite {
    ($($behaviour:ident),* $(,)?) => {
        mod memory_outbox {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $behaviour() {
                    super::$behaviour(&super::memory_outbox()).await;
                }
            )*
        }

        mod redis_outbox {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(
                    not(redis_url_set),
                    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
                )]
                async fn $behaviour() {
                    let Some(backend) = super::redis_outbox().await else { return };
                    super::$behaviour(&backend).await;
                    backend.store.clear().await.unwrap();
                    assert!(super::everything(&*backend.replica).await.is_empty());
                }
            )*
        }
    };
}

outbox_suite!(
    commit_is_all_or_nothing,
    claim_ack_range_trim,
    ended_leases_return_entries,
    concurrent_workers_never_share_an_entry,
    killed_worker_entries_are_delivered_by_another,
);

#[tokio::test]
async fn memory_clock_moves_ttls_and_leases() {
    let store = MemoryStore::new();
    store
        .put("session:{s}", b"v", Some(Duration::from_secs(60)))
        .await
        .unwrap();
    enqueue(&store, b"x").await;
    let claimed = store
        .outbox_claim(OUTBOX, 1, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(ids(&claimed), vec![1]);
    store.advance_clock(Duration::from_secs(59));
    assert!(store.get("session:{s}").await.unwrap().is_some());
    assert!(
        store
            .outbox_claim(OUTBOX, 1, LONG_LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    store.advance_clock(Duration::from_secs(1));
    assert_eq!(store.get("session:{s}").await.unwrap(), None);
    assert_eq!(
        store.outbox_claim(OUTBOX, 1, LONG_LEASE).await.unwrap()[0].attempt,
        2
    );
}

#[tokio::test]
async fn memory_clear_empties_outboxes_too() {
    let store = MemoryStore::new();
    enqueue(&store, b"x").await;
    store.clear().await.unwrap();
    assert!(everything(&store).await.is_empty());
    assert_eq!(enqueue(&store, b"y").await, EntryId(1));
}

// State scoped by tenant: the store a component serves from (`StoreConfig::open_by_tenant`).

/// The configuration a tenant-routed test store keeps shared, as the single sign-on does.
const KEPT: &[&str] = &["sso:keys", "sso:browser-key"];

/// `call` made and run as a call of `tenant`, as a server runs a call carrying the header (a
/// store routes an operation when it is called, so the call is made within).
async fn as_tenant<T, F: Future<Output = T>>(tenant: &str, call: impl FnOnce() -> F) -> T {
    sandbox06_runtime::faults::as_tenant(tenant, async move { call().await })
        .unwrap()
        .await
}

/// What a tenant-routed store must do on every backend: each tenant's state its own, the
/// configuration shared, a tenant's controls its own, the operator's over every tenant.
async fn tenant_scoping(store: &dyn Store) {
    let key = "population:{overlay:058090001234}";
    // No tenant has enqueued on an outbox; the base's own outboxes are not a tenant's.
    assert!(store.outbox_tenants().await.unwrap().is_empty());
    enqueue(store, b"base").await;
    assert!(store.outbox_tenants().await.unwrap().is_empty());
    // Each tenant reads and writes its own state; a call without one, the base state.
    store.append(key, b"base").await.unwrap();
    as_tenant("job-a", || store.append(key, b"died"))
        .await
        .unwrap();
    assert_eq!(store.list(key).await.unwrap(), vec![b"base".to_vec()]);
    assert_eq!(
        as_tenant("job-a", || store.list(key)).await.unwrap(),
        vec![b"died".to_vec()]
    );
    assert!(
        as_tenant("job-b", || store.list(key))
            .await
            .unwrap()
            .is_empty()
    );
    as_tenant("job-b", || async {
        assert!(store.put_if_absent("idem:{k}", b"b", None).await.unwrap());
        assert_eq!(store.get("idem:{k}").await.unwrap(), Some(b"b".to_vec()));
    })
    .await;
    assert_eq!(store.get("idem:{k}").await.unwrap(), None);
    assert!(
        !as_tenant("job-a", || store.delete("idem:{k}"))
            .await
            .unwrap()
    );
    // Sorted sets too.
    let rank = "stays:{room-12}";
    assert!(
        as_tenant("job-a", || store.zadd(rank, "guest", 5))
            .await
            .unwrap()
    );
    assert_eq!(store.zcard(rank).await.unwrap(), 0);
    assert_eq!(as_tenant("job-b", || store.zcard(rank)).await.unwrap(), 0);
    assert!(store.zadd(rank, "base", 1).await.unwrap());
    assert_eq!(
        as_tenant("job-a", || store.zrange(rank, ScoreRange::all(10)))
            .await
            .unwrap(),
        [scored("guest", 5)]
    );
    assert!(
        !as_tenant("job-b", || store.zrem(rank, "base"))
            .await
            .unwrap()
    );
    assert_eq!(
        store.zrange(rank, ScoreRange::all(10)).await.unwrap(),
        [scored("base", 1)]
    );

    // Configuration is shared, whoever writes it.
    as_tenant("job-a", || store.put("sso:keys", b"jwks", None))
        .await
        .unwrap();
    assert_eq!(store.get("sso:keys").await.unwrap(), Some(b"jwks".to_vec()));
    assert_eq!(
        as_tenant("job-b", || store.get("sso:keys")).await.unwrap(),
        Some(b"jwks".to_vec())
    );
    // One call may not mix configuration with a tenant's state.
    let mixed = [at("sso:keys:{x}", 0, b"k"), at("sso:code:{x}", 0, b"c")];
    let error = as_tenant("job-a", || store.append_if_len(&mixed))
        .await
        .unwrap_err();
    assert!(error.message.contains("configuration"), "{error}");
    // Without a tenant every key is the base's: nothing to mix.
    assert!(store.append_if_len(&mixed).await.unwrap());

    // A tenant's snapshots are its own, of its own state.
    let saved = as_tenant("job-a", || store.snapshot_save("a-dead", KEPT))
        .await
        .unwrap();
    // Its list and its sorted set.
    assert_eq!(saved.key_count, 2);
    assert!(store.snapshot_list().await.unwrap().is_empty());
    assert!(
        as_tenant("job-b", || store.snapshot_list())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        as_tenant("job-b", || store.snapshot_restore("a-dead", KEPT))
            .await
            .unwrap()
            .is_none()
    );
    // A tenant's reset clears its own state alone, configuration left.
    as_tenant("job-a", || store.reset(KEPT)).await.unwrap();
    assert!(
        as_tenant("job-a", || store.list(key))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.list(key).await.unwrap(), vec![b"base".to_vec()]);
    assert_eq!(
        as_tenant("job-b", || store.get("idem:{k}")).await.unwrap(),
        Some(b"b".to_vec())
    );
    assert!(store.get("sso:keys").await.unwrap().is_some());
    let restored = as_tenant("job-a", || store.snapshot_restore("a-dead", KEPT))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(restored.name, "a-dead");
    assert_eq!(
        as_tenant("job-a", || store.list(key)).await.unwrap(),
        vec![b"died".to_vec()]
    );
    assert_eq!(
        as_tenant("job-a", || store.zrange(rank, ScoreRange::all(10)))
            .await
            .unwrap(),
        [scored("guest", 5)]
    );

    // Time passing without a tenant (the suite's clock) ages every tenant's values; a
    // tenant's ages its own.
    let short = Some(Duration::from_secs(30));
    store.put("sso:code:{a}", b"base", short).await.unwrap();
    as_tenant("job-a", || store.put("sso:code:{a}", b"a", short))
        .await
        .unwrap();
    as_tenant("job-b", || store.put("sso:code:{a}", b"b", short))
        .await
        .unwrap();
    let passed = as_tenant("job-b", || store.pass_time(Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(
        passed,
        TimePassed {
            expired: 0,
            aged: 1
        }
    );
    let passed = store.pass_time(Duration::from_secs(25)).await.unwrap();
    assert_eq!(
        passed,
        TimePassed {
            expired: 1,
            aged: 2
        }
    );
    assert_eq!(
        as_tenant("job-b", || store.get("sso:code:{a}"))
            .await
            .unwrap(),
        None
    );
    assert!(
        as_tenant("job-a", || store.get("sso:code:{a}"))
            .await
            .unwrap()
            .is_some()
    );

    // Outboxes follow the tenant; a worker (no tenant) claims the base's, then asks which
    // tenants enqueued and claims theirs as each tenant.
    let id = as_tenant("job-a", || {
        store.outbox_commit(OUTBOX, StateWrite::AppendIfLen(&[]), b"a")
    })
    .await
    .unwrap();
    assert_eq!(id, Some(EntryId(1)));
    assert_eq!(store.outbox_tenants().await.unwrap(), ["job-a"]);
    // The operator's snapshots are of the base alone: restoring one keeps the record.
    store.snapshot_save("operator", KEPT).await.unwrap();
    store
        .snapshot_restore("operator", KEPT)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.outbox_tenants().await.unwrap(), ["job-a"]);
    assert!(store.snapshot_delete("operator").await.unwrap());
    let claimed = store.outbox_claim(OUTBOX, 10, LONG_LEASE).await.unwrap();
    assert_eq!(ids(&claimed), vec![1]);
    assert_eq!(claimed[0].payload, b"base");
    assert!(store.outbox_ack(OUTBOX, EntryId(1), 1).await.unwrap());
    assert!(
        store
            .outbox_claim(OUTBOX, 10, LONG_LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    // As a worker writes it: the future made outside the tenant's scope, run within it.
    for tenant in store.outbox_tenants().await.unwrap() {
        let claimed = faults::as_tenant(&tenant, store.outbox_claim(OUTBOX, 10, LONG_LEASE))
            .unwrap()
            .await
            .unwrap();
        assert_eq!(ids(&claimed), vec![1]);
        assert_eq!(claimed[0].payload, b"a");
        let acked = faults::as_tenant(&tenant, store.outbox_ack(OUTBOX, claimed[0].id, 1))
            .unwrap()
            .await
            .unwrap();
        assert!(acked);
    }
    let entries = as_tenant("job-a", || everything(store)).await;
    assert_eq!(entries[0].status, EntryStatus::Acknowledged);

    // The operator's reset clears the base state and every tenant's, configuration and
    // snapshots left.
    store.reset(KEPT).await.unwrap();
    assert!(store.list(key).await.unwrap().is_empty());
    for tenant in ["job-a", "job-b"] {
        as_tenant(tenant, || async {
            assert!(store.list(key).await.unwrap().is_empty());
            assert_eq!(store.get("idem:{k}").await.unwrap(), None);
            assert_eq!(store.get("sso:code:{a}").await.unwrap(), None);
            assert_eq!(store.zcard(rank).await.unwrap(), 0);
            assert!(everything(store).await.is_empty());
        })
        .await;
    }
    assert_eq!(store.zcard(rank).await.unwrap(), 0);
    assert!(everything(store).await.is_empty());
    // The operator's reset forgets which tenants had outboxes.
    assert!(store.outbox_tenants().await.unwrap().is_empty());
    assert!(store.get("sso:keys").await.unwrap().is_some());
    let listed = as_tenant("job-a", || store.snapshot_list()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        as_tenant("job-a", || store.snapshot_delete("a-dead"))
            .await
            .unwrap()
    );
    // The operator's clear takes the configuration too.
    as_tenant("job-b", || store.put("sso:code:{b}", b"b", None))
        .await
        .unwrap();
    store.clear().await.unwrap();
    assert_eq!(store.get("sso:keys").await.unwrap(), None);
    assert_eq!(
        as_tenant("job-b", || store.get("sso:code:{b}"))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn memory_tenants_keep_their_own_state() {
    let store = store::TenantStores::memory(KEPT);
    tenant_scoping(&store).await;
}

#[tokio::test]
async fn a_worker_reaches_the_tenants_outboxes_through_the_checked_store() {
    // What a component holds: a checked store over the tenants' stores.
    let store = store::CheckedStore::new(Arc::new(store::TenantStores::memory(KEPT)));
    assert!(store.outbox_tenants().await.unwrap().is_empty());
    for tenant in ["job-b", "job-a"] {
        as_tenant(tenant, || {
            store.outbox_commit(OUTBOX, StateWrite::AppendIfLen(&[]), tenant.as_bytes())
        })
        .await
        .unwrap();
    }
    // A tenant that only read has no outbox.
    as_tenant("job-c", || store.zcard("stays:{room-12}"))
        .await
        .unwrap();
    let tenants = store.outbox_tenants().await.unwrap();
    assert_eq!(tenants, ["job-a", "job-b"]);
    for tenant in &tenants {
        let claimed = faults::as_tenant(tenant, store.outbox_claim(OUTBOX, 10, LONG_LEASE))
            .unwrap()
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].payload, tenant.as_bytes());
    }
    assert!(
        store
            .outbox_claim(OUTBOX, 10, LONG_LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    store.reset(KEPT).await.unwrap();
    assert!(store.outbox_tenants().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_memory_store_keeps_a_bounded_number_of_tenants() {
    // Checked, as components serve it: a refusal is not the backend being down.
    let store = store::CheckedStore::new(Arc::new(store::TenantStores::memory(KEPT)));
    for n in 0..store::MAX_MEMORY_TENANTS {
        as_tenant(&format!("job-{n}"), || store.get("sso:code:{a}"))
            .await
            .unwrap();
    }
    as_tenant("job-0", || store.put("sso:code:{a}", b"0", None))
        .await
        .unwrap();
    as_tenant("job-1", || store.snapshot_save("kept", KEPT))
        .await
        .unwrap();
    let error = as_tenant("job-new", || store.get("sso:code:{a}"))
        .await
        .unwrap_err();
    assert_eq!(error.backend, store::tenant::REFUSED);
    assert!(
        error
            .message
            .contains(&store::MAX_MEMORY_TENANTS.to_string())
            && error.message.contains("reset"),
        "{error}"
    );
    assert!(store.is_up());
    // Configuration is not a tenant's: still served.
    as_tenant("job-new", || store.get("sso:keys"))
        .await
        .unwrap();
    // The operator's reset forgets the tenants with nothing left, and the snapshots stay.
    store.reset(KEPT).await.unwrap();
    as_tenant("job-new", || store.get("sso:code:{a}"))
        .await
        .unwrap();
    assert_eq!(
        as_tenant("job-1", || store.snapshot_list())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
#[cfg_attr(
    not(redis_url_set),
    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
)]
async fn redis_tenants_keep_their_own_state() {
    let Some(url) = redis_url("redis_tenants_keep_their_own_state") else {
        return;
    };
    let namespace = unique_namespace("tenants");
    let config = store::StoreConfig {
        url: url.clone(),
        namespace: namespace.clone(),
    };
    let store = config.open_by_tenant(KEPT).await.unwrap();
    assert_eq!(store.backend(), "redis");
    let neighbour = RedisStore::connect(&url, &unique_namespace("neighbour"))
        .await
        .unwrap();
    neighbour.put("sso:code:{a}", b"n", None).await.unwrap();
    tenant_scoping(&store).await;
    // A tenant's state lives under `<namespace>.tenant.<tenant>`, beside the base's.
    as_tenant("job-a", || store.put("sso:code:{a}", b"a", None))
        .await
        .unwrap();
    let direct = RedisStore::connect(&url, &format!("{namespace}.tenant.job-a"))
        .await
        .unwrap();
    assert_eq!(
        direct.get("sso:code:{a}").await.unwrap(),
        Some(b"a".to_vec())
    );
    // Neither the operator's reset nor its clock touch another namespace.
    store.pass_time(Duration::from_secs(3600)).await.unwrap();
    store.clear().await.unwrap();
    assert_eq!(direct.get("sso:code:{a}").await.unwrap(), None);
    assert_eq!(
        neighbour.get("sso:code:{a}").await.unwrap(),
        Some(b"n".to_vec())
    );
    neighbour.clear().await.unwrap();
}
