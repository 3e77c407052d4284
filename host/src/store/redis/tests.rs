//! The Redis backend against a real redis-server (started by the testkit, or `REDIS_URL`),
//! each test under its own key prefix.

use super::*;
use crate::model::event_id;
use crate::model::{AttemptOutcome, JobStatus};
use crate::store::conformance;
use crate::store::queue::{Attempt, Next};
use crate::store::{EventLog, Inspection, JobQueue, Store};
use hookgate_testkit::redis::{Persistence, RedisServer, unique_prefix};
use std::time::Instant;

fn options(server: &RedisServer) -> RedisOptions {
    RedisOptions {
        prefix: unique_prefix(),
        ..RedisOptions::new(server.url())
    }
}

async fn open(server: &RedisServer) -> RedisStore {
    RedisStore::open(options(server)).await.expect("open")
}

fn routed(source: &str, id: &str, routes: &[&str]) -> NewEvents {
    let record = conformance::sample(source, id).records()[0].clone();
    NewEvents::from_records(
        vec![record],
        vec![routes.iter().map(|r| (*r).to_owned()).collect()],
    )
}

async fn redis_conn(server: &RedisServer) -> ConnectionManager {
    let client = redis::Client::open(server.url()).unwrap();
    ConnectionManager::new(client).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_passes_the_conformance_suite() {
    let server = RedisServer::shared();
    conformance::run_all(Arc::new(open(&server).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_passes_the_queue_conformance_suite() {
    let server = RedisServer::shared();
    conformance::run_queue(Arc::new(open(&server).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_passes_the_retention_conformance_suite() {
    let server = RedisServer::shared();
    conformance::run_retention(Arc::new(open(&server).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_copies_store_one_event_with_one_set_of_jobs() {
    let server = RedisServer::shared();
    let store = Arc::new(open(&server).await);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .insert(store.incoming(), routed("race", "r-1", &["a", "b"]))
                    .await
            })
        })
        .collect();
    let mut new = 0;
    for t in tasks {
        let receipt = t.await.unwrap().expect("every copy is acknowledged");
        new += usize::from(!receipt.all_duplicates());
    }
    assert_eq!(new, 1, "exactly one copy is new");
    assert_eq!(store.count_events().await.unwrap(), 1);
    let jobs = store
        .jobs_for_event(&event_id("race", "r-1"))
        .await
        .unwrap();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    let leased = store
        .lease(
            i64::MAX / 4,
            std::time::Duration::from_secs(60),
            100,
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        leased.len(),
        2,
        "one entry per job on the streams, not one per copy"
    );
    // The idempotency key carries the dedupe window as its TTL.
    let ttl: i64 = redis::cmd("PTTL")
        .arg(store.keys().idem(event_id("race", "r-1").as_str()))
        .query_async(&mut redis_conn(&server).await)
        .await
        .unwrap();
    let window = 7 * 86_400_000;
    assert!(ttl > window - 60_000 && ttl <= window, "{ttl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_consumers_job_is_reclaimed_and_its_late_finish_changes_nothing() {
    let server = RedisServer::shared();
    let a = open(&server).await;
    let b = RedisStore::open(RedisOptions {
        prefix: a.keys().prefix().to_owned(),
        ..RedisOptions::new(server.url())
    })
    .await
    .unwrap();
    assert_ne!(
        a.inner.consumer, b.inner.consumer,
        "one consumer name per node"
    );
    let id = event_id("crash", "c-1");
    a.insert(a.incoming(), routed("crash", "c-1", &["r"]))
        .await
        .unwrap();
    let now = 1_800_000_000_000;
    let lease_ms = 30_000;
    let held = a
        .lease(
            now,
            std::time::Duration::from_millis(lease_ms as u64),
            10,
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    // A "crashes": it never finishes. Until the lease expires, B gets nothing.
    assert!(
        b.lease(
            now + lease_ms - 1,
            std::time::Duration::from_millis(lease_ms as u64),
            10,
            Vec::new()
        )
        .await
        .unwrap()
        .is_empty()
    );
    let mut conn = redis_conn(&server).await;
    let stream = a.keys().stream("r");
    let owner = |pending: redis::Value| -> String {
        // XPENDING … - + 10: [[id, consumer, idle, deliveries], …]
        let rows = reply::rows(pending).unwrap();
        assert_eq!(rows.len(), 1, "exactly one pending entry");
        reply::text(rows[0][1].clone()).unwrap()
    };
    let pending: redis::Value = redis::cmd("XPENDING")
        .arg(&stream)
        .arg(GROUP)
        .arg("-")
        .arg("+")
        .arg(10)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(owner(pending), a.inner.consumer);
    let taken = b
        .lease(
            now + lease_ms,
            std::time::Duration::from_millis(lease_ms as u64),
            10,
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        taken.len(),
        1,
        "B reclaims the job after the visibility timeout"
    );
    assert_eq!(taken[0].id, held[0].id);
    assert!(taken[0].lease_until_ms > held[0].lease_until_ms);
    let pending: redis::Value = redis::cmd("XPENDING")
        .arg(&stream)
        .arg(GROUP)
        .arg("-")
        .arg("+")
        .arg(10)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(owner(pending), b.inner.consumer, "the entry moved to B");
    // A wakes up and reports: recorded, but the job is B's.
    let late = Attempt {
        number: 1,
        route: "r".into(),
        started_at_ms: now,
        duration_ms: 5,
        outcome: AttemptOutcome::Delivered,
        http_status: Some(200),
        error: None,
    };
    assert!(
        !a.finish(
            held[0].id,
            held[0].lease_until_ms,
            late.clone(),
            Next::Delivered
        )
        .await
        .unwrap()
    );
    let jobs = a.jobs_for_event(&id).await.unwrap();
    assert_eq!((jobs[0].status, jobs[0].attempts), (JobStatus::Pending, 0));
    assert!(
        b.finish(taken[0].id, taken[0].lease_until_ms, late, Next::Delivered)
            .await
            .unwrap()
    );
    let jobs = a.jobs_for_event(&id).await.unwrap();
    assert_eq!(jobs[0].status, JobStatus::Delivered);
    assert_eq!(
        a.attempts_for_event(&id).await.unwrap().len(),
        2,
        "both attempts are history"
    );
    // Done: acknowledged and deleted, nothing left pending on the stream.
    let len: i64 = redis::cmd("XLEN")
        .arg(&stream)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(len, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_leasing_at_once_never_get_the_same_job() {
    let server = RedisServer::shared();
    let a = Arc::new(open(&server).await);
    let b = Arc::new(
        RedisStore::open(RedisOptions {
            prefix: a.keys().prefix().to_owned(),
            ..RedisOptions::new(server.url())
        })
        .await
        .unwrap(),
    );
    let routes = ["r1", "r2", "r3"];
    for i in 0..100 {
        a.insert(a.incoming(), routed("nodes", &format!("n-{i}"), &routes))
            .await
            .unwrap();
    }
    let now = 1_800_000_000_000;
    let node = |store: Arc<RedisStore>| {
        tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let jobs = store
                    .lease(now, std::time::Duration::from_secs(60), 7, Vec::new())
                    .await
                    .unwrap();
                if jobs.is_empty() {
                    return got;
                }
                got.extend(jobs.into_iter().map(|j| j.id));
            }
        })
    };
    let (ja, jb) = (node(a.clone()), node(b.clone()));
    let (got_a, got_b) = (ja.await.unwrap(), jb.await.unwrap());
    let mut all: Vec<i64> = got_a.iter().chain(&got_b).copied().collect();
    all.sort_unstable();
    let total = all.len();
    all.dedup();
    assert_eq!(total, all.len(), "a job was leased by both nodes");
    assert_eq!(total, 300, "every job leased once");
    assert!(
        !got_a.is_empty() && !got_b.is_empty(),
        "both nodes took work"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_nodes_consumers_are_pruned_but_holders_are_kept() {
    let server = RedisServer::shared();
    let a = open(&server).await;
    let same_prefix = || RedisOptions {
        prefix: a.keys().prefix().to_owned(),
        ..RedisOptions::new(server.url())
    };
    let (b, c) = (
        RedisStore::open(same_prefix()).await.unwrap(),
        RedisStore::open(same_prefix()).await.unwrap(),
    );
    for i in 0..2 {
        a.insert(a.incoming(), routed("prune", &format!("p-{i}"), &["r"]))
            .await
            .unwrap();
    }
    let now = 1_800_000_000_000;
    let done = b
        .lease(now, std::time::Duration::from_secs(60), 1, Vec::new())
        .await
        .unwrap();
    let attempt = Attempt {
        number: 1,
        route: "r".into(),
        started_at_ms: now,
        duration_ms: 1,
        outcome: AttemptOutcome::Delivered,
        http_status: Some(200),
        error: None,
    };
    assert!(
        b.finish(done[0].id, done[0].lease_until_ms, attempt, Next::Delivered)
            .await
            .unwrap()
    );
    let held = c
        .lease(now, std::time::Duration::from_secs(60), 1, Vec::new())
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    // B holds nothing (it "stopped"), C holds a lease: only B goes.
    assert_eq!(queue::prune_consumers(&a.inner, 0).await.unwrap(), 1);
    let names: Vec<std::collections::HashMap<String, redis::Value>> = redis::cmd("XINFO")
        .arg("CONSUMERS")
        .arg(a.keys().stream("r"))
        .arg(GROUP)
        .query_async(&mut redis_conn(&server).await)
        .await
        .unwrap();
    let names: Vec<String> = names
        .into_iter()
        .map(|c| reply::text(c["name"].clone()).unwrap())
        .collect();
    assert_eq!(names, vec![c.inner.consumer.clone()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_ack_while_redis_is_down_and_recovery_without_a_new_store() {
    let mut server = RedisServer::private(Persistence::Durable);
    let store = open(&server).await;
    let before = store
        .insert(store.incoming(), conformance::sample("down", "d-0"))
        .await
        .unwrap();
    assert!(!before.all_duplicates());
    server.kill();
    let started = Instant::now();
    let failed = store
        .insert(store.incoming(), conformance::sample("down", "d-1"))
        .await;
    assert!(
        matches!(failed, Err(StoreError::Unavailable(_))),
        "no receipt without Redis: {failed:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "fails instead of hanging"
    );
    assert!(
        matches!(store.ping().await, Err(StoreError::Unavailable(_))),
        "/ready fails"
    );
    server.restart();
    let receipt =
        hookgate_testkit::eventually(Duration::from_secs(20), "insert after restart", || async {
            store
                .insert(store.incoming(), conformance::sample("down", "d-1"))
                .await
                .ok()
        })
        .await;
    assert!(
        !receipt.all_duplicates(),
        "the failed insert had stored nothing"
    );
    store.ping().await.expect("ready again");
    // What was acknowledged before the crash (SIGKILL) is still there.
    let kept = store.get_event(&event_id("down", "d-0")).await.unwrap();
    assert!(
        kept.is_some(),
        "an acknowledged event survives a crash of Redis"
    );
    assert!(
        store
            .insert(store.incoming(), conformance::sample("down", "d-0"))
            .await
            .unwrap()
            .all_duplicates()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_at_start_opens_not_ready_and_recovers_by_itself() {
    let mut server = RedisServer::private(Persistence::Durable);
    server.kill();
    let store = RedisStore::open(options(&server))
        .await
        .expect("an unreachable Redis is an outage, not a config error");
    assert!(
        matches!(store.ping().await, Err(StoreError::Unavailable(_))),
        "not ready"
    );
    let failed = store
        .insert(store.incoming(), conformance::sample("late", "l-1"))
        .await;
    assert!(
        matches!(failed, Err(StoreError::Unavailable(_))),
        "{failed:?}"
    );
    server.restart();
    hookgate_testkit::eventually(
        Duration::from_secs(20),
        "ready after Redis starts",
        || async { store.ping().await.ok() },
    )
    .await;
    let receipt = store
        .insert(store.incoming(), conformance::sample("late", "l-1"))
        .await
        .unwrap();
    assert!(!receipt.all_duplicates());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistence_found_unsafe_after_start_refuses_every_ack() {
    let mut server = RedisServer::private(Persistence::InMemory);
    server.kill();
    let store = RedisStore::open(options(&server)).await.unwrap();
    server.restart();
    // Reachable now, but without AOF: never a receipt, never ready.
    for i in 0..3 {
        let refused = store
            .insert(
                store.incoming(),
                conformance::sample("unsafe", &format!("u-{i}")),
            )
            .await;
        match refused {
            Err(StoreError::Unavailable(reason)) => {
                assert!(reason.contains("appendonly is no"), "{reason}")
            }
            other => panic!("acknowledged on a Redis that can lose it: {other:?}"),
        }
    }
    assert!(store.ping().await.is_err());
    assert_eq!(
        store.count_events().await.unwrap(),
        0,
        "nothing was written either"
    );
}

#[tokio::test]
async fn a_redis_without_aof_is_refused_or_flagged() {
    let server = RedisServer::private(Persistence::InMemory);
    let err = RedisStore::open(options(&server)).await.unwrap_err();
    assert!(matches!(err, OpenError::NotDurable { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("appendonly is no") && text.contains("require_durable"),
        "{text}"
    );
    let relaxed = RedisStore::open(RedisOptions {
        require_durable: false,
        ..options(&server)
    })
    .await;
    assert!(relaxed.is_ok(), "accepted when the operator says so");
    let mut conn = redis_conn(&server).await;
    let p = durability::read(&mut conn).await.unwrap();
    assert_eq!(p.appendonly, Some(false));
    assert!(p.version.is_some());
}

#[tokio::test]
async fn the_test_server_is_durable_by_fsync_on_every_write() {
    let server = RedisServer::private(Persistence::Durable);
    let mut conn = redis_conn(&server).await;
    let p = durability::read(&mut conn).await.unwrap();
    let verdict = durability::assess(&p);
    if p.version.is_some_and(|v| v >= (7, 2, 0)) {
        assert!(
            matches!(verdict, Verdict::FsyncAlways | Verdict::WaitAof),
            "{verdict:?}"
        );
    } else {
        assert_eq!(verdict, Verdict::FsyncAlways);
    }
}

#[tokio::test]
async fn the_waitaof_path_acknowledges_only_a_confirmed_fsync() {
    let server = RedisServer::shared();
    let store = open(&server).await;
    let version = durability::read(&mut redis_conn(&server).await)
        .await
        .unwrap()
        .version;
    // The writer as it runs against Redis >= 7.2: the script, then WAITAOF 1 0.
    let inner = Inner {
        conn: store.inner.conn.clone(),
        keys: store.inner.keys.clone(),
        consumer: "waitaof-test".into(),
        dedupe_window_ms: 60_000,
        require_durable: true,
        ack_mode: tokio::sync::OnceCell::new_with(Some(true)),
        url: String::new(),
    };
    let batch = [conformance::sample("waitaof", "w-1")];
    let result = write_batch(&inner, &batch).await;
    if version.is_some_and(|v| v >= (7, 2, 0)) {
        assert_eq!(result.unwrap(), vec![true], "fsync confirmed: acknowledged");
    } else {
        // No WAITAOF here: the fsync cannot be confirmed that way, so no outcome (and no
        // receipt) comes out, although the script itself ran.
        assert!(matches!(result, Err(Error::Redis(_))), "{result:?}");
    }
}

#[tokio::test]
async fn bad_urls_and_credentials_are_clear_errors_without_the_password() {
    let err = RedisStore::open(RedisOptions::new("redis://127.0.0.1:notaport/0"))
        .await
        .unwrap_err();
    assert!(matches!(err, OpenError::BadUrl { .. }), "{err}");
    assert!(err.to_string().contains("storage.url"), "{err}");
    let server = RedisServer::private(Persistence::Durable);
    let url = server.url().replace("redis://", "redis://app:hunter2@");
    let err = RedisStore::open(RedisOptions::new(url)).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, OpenError::Auth { .. }), "{text}");
    assert!(text.contains("app:***@127.0.0.1"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

/// Insert throughput of the store alone, next to SQLite's on the same machine: `cargo test
/// --release -p hookgate --lib store::redis::tests::insert_throughput -- --ignored
/// --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn insert_throughput() {
    let server = RedisServer::private(Persistence::Durable);
    let redis: Arc<dyn Store> = Arc::new(open(&server).await);
    let dir = tempfile::tempdir().unwrap();
    let sqlite: Arc<dyn Store> = Arc::new(crate::store::SqliteStore::open(dir.path()).unwrap());
    for (name, store) in [("redis", redis), ("sqlite", sqlite)] {
        for concurrency in [1usize, 16, 64, 256] {
            let per_task = 4000 / concurrency;
            let started = Instant::now();
            let tasks: Vec<_> = (0..concurrency)
                .map(|t| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        for i in 0..per_task {
                            let id = format!("{concurrency}-{t}-{i}");
                            store
                                .insert(store.incoming(), routed("bench", &id, &["r"]))
                                .await
                                .unwrap();
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            let n = per_task * concurrency;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "{name:>6} insert, {concurrency:>3} concurrent: {n} events in {secs:.2} s = {:.0}/s",
                n as f64 / secs
            );
        }
    }
}

/// Data of the first layout (no `layout` key) is read as it is and stamped; a prefix whose
/// data a newer build wrote is refused before anything is written (issue 17 item 14).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_carry_their_layout_and_newer_ones_are_refused() {
    let server = RedisServer::shared();
    let options = options(&server);
    let keys = Keys::new(&options.prefix);
    let id = {
        let store = RedisStore::open(options.clone()).await.unwrap();
        let receipt = store
            .insert(store.incoming(), routed("stripe", "evt_layout", &["crm"]))
            .await
            .unwrap();
        receipt.events()[0].0.clone()
    };
    let mut conn = redis_conn(&server).await;
    // As the first layout left it: no number.
    let _: () = redis::cmd("DEL")
        .arg(keys.layout())
        .query_async(&mut conn)
        .await
        .unwrap();
    let store = RedisStore::open(options.clone()).await.unwrap();
    assert!(store.get_event(&id).await.unwrap().is_some());
    assert_eq!(store.jobs_for_event(&id).await.unwrap().len(), 1);
    let stamped: String = redis::cmd("GET")
        .arg(keys.layout())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(stamped, layout::LATEST.to_string());
    drop(store);

    let _: () = redis::cmd("SET")
        .arg(keys.layout())
        .arg(layout::LATEST + 1)
        .query_async(&mut conn)
        .await
        .unwrap();
    let err = RedisStore::open(options).await.unwrap_err().to_string();
    assert!(err.contains("written by a newer hookgate"), "{err}");
}
