//! The engine on a clock the test moves: what the retry schedule says happens an hour later
//! happens as soon as the engine's clock reads an hour later, and the test never waits.

use super::{Deliverer, destinations};
use crate::cluster::Cluster;
use crate::config::Config;
use crate::egress::Egress;
use crate::ingest::RouteTable;
use crate::model::clock::ManualClock;
use crate::model::{AttemptOutcome, JobStatus, event_id, unix_ms};
use crate::runtime::{Limits, Registry, Runtime};
use crate::store::conformance::routed;
use crate::store::{JobRecord, SqliteStore, Store};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// A receiver on a free loopback port answering 500 to the first delivery and 200 after;
/// returns its URL and its count of requests.
async fn flaky_receiver() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = Router::new().route(
        "/hook",
        post(move || {
            let counted = counted.clone();
            async move {
                match counted.fetch_add(1, Ordering::SeqCst) {
                    0 => StatusCode::INTERNAL_SERVER_ERROR,
                    _ => StatusCode::OK,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, hits)
}

/// Polls the event's only job until `done` says so (30 s at most: a readiness poll).
async fn job_until(store: &dyn Store, done: impl Fn(&JobRecord) -> bool) -> JobRecord {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let jobs = store
            .jobs_for_event(&event_id("stripe", "evt_later"))
            .await
            .unwrap();
        if let [job] = &jobs[..]
            && done(job)
        {
            return job.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the job never got there: {jobs:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_runs_when_the_engines_clock_reaches_its_due_time() {
    let (url, hits) = flaky_receiver().await;
    let config = Config::parse(
        &format!(
            "[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"whsec_t\"]\n\
             [egress]\nallow_private = [\"127.0.0.1/32\"]\n\
             [[routes]]\nname = \"crm\"\nsource = \"stripe\"\naction = \"forward\"\n\
             retry = {{ schedule = [\"1h\"] }}\nconfig = {{ url = \"{url}\" }}\n"
        ),
        Path::new("t.toml"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let runtime = Runtime::new(Limits {
        call_timeout: Duration::from_secs(1),
        memory_limit_bytes: 64 << 20,
    })
    .unwrap();
    let registry = Arc::new(Registry::new(runtime));
    let forward = Path::new(env!("HOOKGATE_BUILT_PLUGINS_DIR")).join("forward-action.wasm");
    let plugin = crate::runtime::load_file(registry.runtime(), &forward)
        .await
        .unwrap();
    registry.insert(plugin).unwrap();
    let t0 = SystemTime::now();
    let clock = Arc::new(ManualClock::at(t0));
    let engine = Deliverer::new(
        store.clone(),
        registry,
        Egress::new(&config.egress).unwrap(),
        destinations::from_config(&config),
        RouteTable::new(&config.routes),
        Cluster::Local,
        clock.clone(),
    )
    .await
    .unwrap();
    store
        .insert(store.incoming(), routed("stripe", "evt_later", &["crm"]))
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(engine.clone().run(stopped, Duration::from_secs(5)));

    let failed = job_until(store.as_ref(), |j| j.attempts == 1).await;
    assert_eq!(failed.status, JobStatus::Pending);
    let hour_ms = 3_600_000;
    let retry_in = failed.due_at_ms - unix_ms(t0);
    assert!(
        (hour_ms * 8 / 10..=hour_ms * 12 / 10).contains(&retry_in),
        "due in the schedule's hour (±20% jitter), on the engine's clock: {retry_in} ms"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    clock.advance(Duration::from_secs(2 * 3600));
    engine.wake();
    let delivered = job_until(store.as_ref(), |j| j.status == JobStatus::Delivered).await;
    assert_eq!(delivered.attempts, 2);
    assert_eq!(hits.load(Ordering::SeqCst), 2, "delivered on the retry");
    let attempts = store
        .attempts_for_event(&event_id("stripe", "evt_later"))
        .await
        .unwrap();
    let outcomes: Vec<_> = attempts.iter().map(|a| a.outcome).collect();
    assert_eq!(
        outcomes,
        [AttemptOutcome::Retryable, AttemptOutcome::Delivered]
    );
    assert_eq!(
        attempts[1].started_at_ms - attempts[0].started_at_ms,
        2 * hour_ms,
        "attempt times are the engine's clock's"
    );
    stop.send(true).unwrap();
    running.await.unwrap();
}
