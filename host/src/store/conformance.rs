//! The behaviour every storage backend must show, as one suite each backend's tests run
//! against a real instance (a SQLite file, a Redis server).

use super::{Attempt, DlqFilter, EventFilter, Finished, Inserted, LeasedJob, Next, Store};
use crate::model::{AttemptOutcome, EventRecord, EventStatus, JobStatus, NewEvents, event_id};
use std::sync::Arc;

/// A one-event request, as if a plugin had verified and normalized it.
pub fn sample(source: &str, platform_event_id: &str) -> NewEvents {
    NewEvents::from_records(vec![record(source, platform_event_id)], vec![Vec::new()])
}

/// One pending event from `source` with a job along each of `routes`.
pub(crate) fn routed(source: &str, platform_event_id: &str, routes: &[&str]) -> NewEvents {
    let routes = routes.iter().map(|r| (*r).to_owned()).collect();
    NewEvents::from_records(vec![record(source, platform_event_id)], vec![routes])
}

fn record(source: &str, platform_event_id: &str) -> EventRecord {
    let id = event_id(source, platform_event_id);
    EventRecord {
        envelope: format!(r#"{{"id":"{id}","source":"{source}","type":"payment.completed"}}"#),
        id,
        source: source.into(),
        platform_event_id: platform_event_id.into(),
        event_type: "payment.completed".into(),
        status: EventStatus::Pending,
        error: None,
        received_at_ms: 1_700_000_000_123,
        payload: br#"{"id":"x","amount":2000}"#.to_vec(),
    }
}

/// Runs every check against `store`, which must be empty.
pub async fn run_all(store: Arc<dyn Store>) {
    round_trip(&*store).await;
    duplicates_are_recognised(&*store).await;
    concurrent_copies_store_once(store.clone()).await;
    batch_with_partial_duplicate(&*store).await;
    dead_letters_keep_their_error(&*store).await;
    jobs_are_created_with_new_events_only(&*store).await;
    many_concurrent_writers(store.clone()).await;
    store.ping().await.expect("ping");
}

async fn round_trip(store: &dyn Store) {
    let receipt = store
        .insert(store.incoming(), sample("conf", "rt-1"))
        .await
        .expect("insert");
    let id = event_id("conf", "rt-1");
    assert_eq!(receipt.events(), &[(id.clone(), Inserted::New)]);
    assert!(!receipt.all_duplicates());
    let stored = store.get_event(&id).await.expect("get").expect("stored");
    let expected = record("conf", "rt-1");
    assert_eq!(stored.id, expected.id);
    assert_eq!(stored.source, "conf");
    assert_eq!(stored.platform_event_id, "rt-1");
    assert_eq!(stored.event_type, "payment.completed");
    assert_eq!(stored.status, EventStatus::Pending);
    assert_eq!(stored.error, None);
    assert_eq!(stored.received_at_ms, expected.received_at_ms);
    assert_eq!(stored.envelope, expected.envelope);
    assert_eq!(stored.payload, expected.payload);
    assert_eq!(store.get_event("evt_missing").await.expect("get"), None);
}

async fn duplicates_are_recognised(store: &dyn Store) {
    let before = store.count_events().await.expect("count");
    let again = store
        .insert(store.incoming(), sample("conf", "rt-1"))
        .await
        .expect("insert");
    assert!(again.all_duplicates());
    assert_eq!(store.count_events().await.expect("count"), before);
    // The same platform id on another source is another event.
    let other = store
        .insert(store.incoming(), sample("conf-2", "rt-1"))
        .await
        .expect("insert");
    assert!(!other.all_duplicates());
}

async fn concurrent_copies_store_once(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .insert(store.incoming(), sample("conf", "race-1"))
                    .await
            })
        })
        .collect();
    let mut new = 0;
    for t in tasks {
        let receipt = t.await.expect("task").expect("insert");
        new += receipt
            .events()
            .iter()
            .filter(|(_, i)| *i == Inserted::New)
            .count();
    }
    assert_eq!(new, 1, "exactly one concurrent copy is new");
}

async fn batch_with_partial_duplicate(store: &dyn Store) {
    store
        .insert(store.incoming(), sample("conf", "b-2"))
        .await
        .expect("insert");
    let batch = NewEvents::from_records(
        vec![
            record("conf", "b-1"),
            record("conf", "b-2"),
            record("conf", "b-3"),
        ],
        vec![Vec::new(); 3],
    );
    let receipt = store.insert(store.incoming(), batch).await.expect("insert");
    let outcomes: Vec<Inserted> = receipt.events().iter().map(|(_, i)| *i).collect();
    assert_eq!(
        outcomes,
        vec![Inserted::New, Inserted::Duplicate, Inserted::New]
    );
}

async fn dead_letters_keep_their_error(store: &dyn Store) {
    let mut r = record("conf", "dl-1");
    r.status = EventStatus::DeadLettered;
    r.error = Some("normalization failed: payload field \"id\" is missing".into());
    let id = r.id.clone();
    // A dead-lettered event goes nowhere, even if routes were (wrongly) attached.
    let routes = vec![vec!["r1".to_owned()]];
    store
        .insert(store.incoming(), NewEvents::from_records(vec![r], routes))
        .await
        .expect("insert");
    let stored = store.get_event(&id).await.expect("get").expect("stored");
    assert_eq!(stored.status, EventStatus::DeadLettered);
    assert!(stored.error.expect("error kept").contains("is missing"));
    assert!(store.jobs_for_event(&id).await.expect("jobs").is_empty());
}

async fn jobs_are_created_with_new_events_only(store: &dyn Store) {
    let id = event_id("conf", "jobs-1");
    store
        .insert(
            store.incoming(),
            routed("conf", "jobs-1", &["to-crm", "to-warehouse"]),
        )
        .await
        .expect("insert");
    let jobs = store.jobs_for_event(&id).await.expect("jobs");
    let routes: Vec<&str> = jobs.iter().map(|j| j.route.as_str()).collect();
    assert_eq!(routes, vec!["to-crm", "to-warehouse"]);
    assert!(
        jobs.iter()
            .all(|j| j.status == JobStatus::Pending && j.attempts == 0 && j.event_id == id)
    );
    // A redelivery (even if routes changed meanwhile) creates no second set of jobs.
    let again = store
        .insert(
            store.incoming(),
            routed("conf", "jobs-1", &["to-crm", "to-warehouse", "new-route"]),
        )
        .await
        .expect("insert");
    assert!(again.all_duplicates());
    assert_eq!(store.jobs_for_event(&id).await.expect("jobs").len(), 2);
    // An event no route matches has no jobs.
    store
        .insert(store.incoming(), sample("conf", "jobs-2"))
        .await
        .expect("insert");
    assert!(
        store
            .jobs_for_event(&event_id("conf", "jobs-2"))
            .await
            .expect("jobs")
            .is_empty()
    );
}

async fn many_concurrent_writers(store: Arc<dyn Store>) {
    let before = store.count_events().await.expect("count");
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .insert(store.incoming(), sample("load", &format!("m-{i}")))
                    .await
            })
        })
        .collect();
    for t in tasks {
        assert!(!t.await.expect("task").expect("insert").all_duplicates());
    }
    assert_eq!(store.count_events().await.expect("count"), before + 200);
}

// ---- the delivery queue -----------------------------------------------------------------

/// Runs every delivery-queue check against `store`, which must be empty.
pub async fn run_queue(store: Arc<dyn Store>) {
    lease_attempt_and_finish(&*store).await;
    expired_leases_run_again(&*store).await;
    several_attempts_are_recorded_together(&*store).await;
    replay_revives_dead_letters_and_adds_routes(&*store).await;
    dead_letter_pages_and_filters(&*store).await;
    routes_can_be_disabled(&*store).await;
    schedule_ticks_are_remembered(&*store).await;
    events_are_listed_newest_first(&*store).await;
    let stats = store.queue_stats(T0 + 10_000_000).await.expect("stats");
    // 5 dead jobs + 1 unnormalized payload (q-1's dead job was replayed and delivered); the
    // two schedule ticks are pending.
    assert_eq!(stats.dead_letters, 6, "{stats:?}");
    assert_eq!(stats.pending, 2, "{stats:?}");
    assert_eq!(stats.oldest_due_ms, Some(T0), "{stats:?}");
}

const T0: i64 = 1_700_000_000_123;

fn attempt(number: u32, route: &str, outcome: AttemptOutcome, error: Option<&str>) -> Attempt {
    Attempt {
        number,
        route: route.into(),
        started_at_ms: T0 + i64::from(number) * 1000,
        duration_ms: 12,
        outcome,
        http_status: Some(500),
        error: error.map(str::to_owned),
    }
}

/// Leases everything due at `now` and hands it all back (so each check starts clean).
async fn lease_all(store: &dyn Store, now: i64) -> Vec<LeasedJob> {
    store
        .lease(now, 60_000, 100, Vec::new())
        .await
        .expect("lease")
}

async fn lease_attempt_and_finish(store: &dyn Store) {
    let id = event_id("q", "q-1");
    store
        .insert(store.incoming(), routed("q", "q-1", &["a", "b"]))
        .await
        .expect("insert");
    let skipped = store
        .lease(T0, 60_000, 10, vec!["a".into()])
        .await
        .expect("lease");
    assert_eq!(skipped.len(), 1, "skipped routes are not leased");
    assert_eq!(skipped[0].route, "b");
    store
        .defer(skipped[0].id, skipped[0].lease_until_ms, T0 + 50_000)
        .await
        .expect("defer");
    let jobs = lease_all(store, T0).await;
    assert_eq!(jobs.len(), 1, "the deferred job is not due yet");
    let a = jobs[0].clone();
    assert_eq!(
        (a.route.as_str(), a.event_id.as_str(), a.attempts),
        ("a", id.as_str(), 0)
    );
    assert!(a.envelope.contains(&id) && a.payload.starts_with(b"{"));
    assert!(
        lease_all(store, T0).await.is_empty(),
        "a leased job is not leased twice"
    );
    // Retry later.
    let changed = store
        .finish(
            a.id,
            a.lease_until_ms,
            attempt(1, "a", AttemptOutcome::Retryable, Some("boom")),
            Next::RetryAt(T0 + 10_000),
        )
        .await
        .expect("finish");
    assert!(changed);
    assert!(lease_all(store, T0 + 5_000).await.is_empty());
    let again = lease_all(store, T0 + 10_000).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);
    // A worker whose lease was taken over cannot overwrite the job.
    let stale = store
        .finish(
            a.id,
            a.lease_until_ms,
            attempt(2, "a", AttemptOutcome::Delivered, None),
            Next::Delivered,
        )
        .await
        .expect("finish");
    assert!(!stale);
    let done = store
        .finish(
            again[0].id,
            again[0].lease_until_ms,
            attempt(2, "a", AttemptOutcome::Delivered, None),
            Next::Delivered,
        )
        .await
        .expect("finish");
    assert!(done);
    let b = lease_all(store, T0 + 50_000).await;
    assert_eq!(b.len(), 1);
    store
        .finish(
            b[0].id,
            b[0].lease_until_ms,
            attempt(
                1,
                "b",
                AttemptOutcome::Permanent,
                Some("422 from destination"),
            ),
            Next::DeadLetter("422 from destination".into()),
        )
        .await
        .expect("finish");
    let jobs = store.jobs_for_event(&id).await.expect("jobs");
    let states: Vec<(&str, &str, u32)> = jobs
        .iter()
        .map(|j| (j.route.as_str(), j.status.as_str(), j.attempts))
        .collect();
    assert_eq!(
        states,
        vec![("a", "delivered", 2), ("b", "dead_lettered", 1)]
    );
    assert_eq!(jobs[1].last_error.as_deref(), Some("422 from destination"));
    let history = store.attempts_for_event(&id).await.expect("attempts");
    assert_eq!(history.len(), 4, "every attempt is kept, the stale one too");
    assert!(
        lease_all(store, T0 + 1_000_000).await.is_empty(),
        "finished jobs are never leased"
    );
}

async fn expired_leases_run_again(store: &dyn Store) {
    store
        .insert(store.incoming(), routed("q", "q-2", &["a"]))
        .await
        .expect("insert");
    let first = lease_all(store, T0 + 2_000_000).await;
    assert_eq!(first.len(), 1);
    assert!(lease_all(store, T0 + 2_000_000 + 59_999).await.is_empty());
    let retaken = lease_all(store, T0 + 2_000_000 + 60_000).await;
    assert_eq!(retaken.len(), 1, "a crashed worker's job runs again");
    store
        .finish(
            retaken[0].id,
            retaken[0].lease_until_ms,
            attempt(1, "a", AttemptOutcome::Delivered, None),
            Next::Delivered,
        )
        .await
        .expect("finish");
}

async fn several_attempts_are_recorded_together(store: &dyn Store) {
    let id = event_id("q", "q-many");
    store
        .insert(store.incoming(), routed("q", "q-many", &["a", "b", "c"]))
        .await
        .expect("insert");
    let now = T0 + 2_100_000;
    let mut jobs = lease_all(store, now).await;
    jobs.sort_by(|x, y| x.route.cmp(&y.route));
    assert_eq!(jobs.len(), 3, "{jobs:?}");
    let finished = |job: &LeasedJob, lease_until_ms: i64| Finished {
        job_id: job.id,
        lease_until_ms,
        attempt: attempt(1, &job.route, AttemptOutcome::Delivered, None),
        next: Next::Delivered,
    };
    let answers = store
        .finish_many(vec![
            finished(&jobs[0], jobs[0].lease_until_ms),
            // Not b's lease: recorded, but the job must not change.
            finished(&jobs[1], jobs[1].lease_until_ms - 1),
            finished(&jobs[2], jobs[2].lease_until_ms),
        ])
        .await;
    let changed: Vec<bool> = answers.into_iter().map(|a| a.expect("finish")).collect();
    assert_eq!(
        changed,
        [true, false, true],
        "one answer per item, in order"
    );
    let answers = store
        .finish_many(vec![finished(&jobs[1], jobs[1].lease_until_ms)])
        .await;
    assert!(matches!(answers[..], [Ok(true)]), "{answers:?}");
    let mut states: Vec<(String, JobStatus)> = store
        .jobs_for_event(&id)
        .await
        .expect("jobs")
        .into_iter()
        .map(|j| (j.route, j.status))
        .collect();
    states.sort();
    let delivered = |r: &str| (r.to_owned(), JobStatus::Delivered);
    assert_eq!(states, [delivered("a"), delivered("b"), delivered("c")]);
    let history = store.attempts_for_event(&id).await.expect("attempts");
    assert_eq!(history.len(), 4, "the stale attempt is kept too");
}

async fn replay_revives_dead_letters_and_adds_routes(store: &dyn Store) {
    let id = event_id("q", "q-1");
    let queued = store
        .replay(
            &id,
            vec!["a".into(), "b".into(), "c".into()],
            T0 + 3_000_000,
        )
        .await
        .expect("replay");
    assert_eq!(
        queued,
        vec!["b".to_owned(), "c".to_owned()],
        "delivered routes are left alone"
    );
    let jobs = lease_all(store, T0 + 3_000_000).await;
    let mut routes: Vec<(&str, u32)> = jobs
        .iter()
        .map(|j| (j.route.as_str(), j.attempts))
        .collect();
    routes.sort_unstable();
    assert_eq!(
        routes,
        vec![("b", 0), ("c", 0)],
        "a replayed job starts a fresh retry schedule"
    );
    let history = store.attempts_for_event(&id).await.expect("attempts");
    assert!(
        history.iter().any(|a| a.route == "b"),
        "the attempt history survives the replay: {history:?}"
    );
    for j in &jobs {
        store
            .finish(
                j.id,
                j.lease_until_ms,
                attempt(j.attempts + 1, &j.route, AttemptOutcome::Delivered, None),
                Next::Delivered,
            )
            .await
            .expect("finish");
    }
}

async fn dead_letter_pages_and_filters(store: &dyn Store) {
    for i in 0..5 {
        let source = if i % 2 == 0 { "even" } else { "odd" };
        store
            .insert(store.incoming(), routed(source, &format!("dl-{i}"), &["r"]))
            .await
            .expect("insert");
    }
    let jobs = lease_all(store, T0 + 4_000_000).await;
    assert_eq!(jobs.len(), 5);
    for j in &jobs {
        store
            .finish(
                j.id,
                j.lease_until_ms,
                attempt(1, "r", AttemptOutcome::Permanent, Some("nope")),
                Next::DeadLetter("nope".into()),
            )
            .await
            .expect("finish");
    }
    let filter = DlqFilter {
        route: Some("r".into()),
        ..DlqFilter::default()
    };
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .dead_letters(filter.clone(), cursor, 2)
            .await
            .expect("page");
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|d| d.event_id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "paging returns each dead letter once");
    let odd = store
        .dead_letters(
            DlqFilter {
                source: Some("odd".into()),
                ..DlqFilter::default()
            },
            None,
            50,
        )
        .await
        .expect("page");
    assert_eq!(odd.items.len(), 2);
    assert!(
        odd.items
            .iter()
            .all(|d| d.source == "odd" && d.error.as_deref() == Some("nope"))
    );
    let future = store
        .dead_letters(
            DlqFilter {
                since_ms: Some(i64::MAX / 2),
                ..DlqFilter::default()
            },
            None,
            50,
        )
        .await
        .expect("page");
    assert!(future.items.is_empty());
    // A payload that could not be normalized is a dead letter too, without a route.
    let mut unnormalized = record("odd", "dl-unnormalized");
    unnormalized.status = EventStatus::DeadLettered;
    unnormalized.error = Some("no \"type\" field".into());
    let id = unnormalized.id.clone();
    store
        .insert(
            store.incoming(),
            NewEvents::from_records(vec![unnormalized], vec![Vec::new()]),
        )
        .await
        .expect("insert");
    let odd = store
        .dead_letters(
            DlqFilter {
                source: Some("odd".into()),
                ..DlqFilter::default()
            },
            None,
            50,
        )
        .await
        .expect("page");
    assert_eq!(odd.items.len(), 3);
    let entry = odd.items.iter().find(|d| d.event_id == id).expect("listed");
    assert_eq!(entry.route, None);
    assert_eq!(entry.error.as_deref(), Some("no \"type\" field"));
}

async fn routes_can_be_disabled(store: &dyn Store) {
    store
        .disable_route("gone-route", "410 from destination", T0)
        .await
        .expect("disable");
    let disabled = store.disabled_routes().await.expect("list");
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].route, "gone-route");
    assert_eq!(disabled[0].reason, "410 from destination");
    assert!(store.enable_route("gone-route").await.expect("enable"));
    assert!(!store.enable_route("gone-route").await.expect("enable"));
    assert!(store.disabled_routes().await.expect("list").is_empty());
}

async fn schedule_ticks_are_remembered(store: &dyn Store) {
    assert_eq!(
        store.last_received("schedule:nightly").await.expect("last"),
        None
    );
    for tick in [T0, T0 + 60_000, T0 + 60_000] {
        store
            .insert(
                store.incoming(),
                NewEvents::scheduled_tick("nightly", "0 * * * *", tick),
            )
            .await
            .expect("insert");
    }
    assert_eq!(
        store.last_received("schedule:nightly").await.expect("last"),
        Some(T0 + 60_000)
    );
    // The same tick twice is one event with one job.
    let id = event_id("schedule:nightly", &(T0 + 60_000).to_string());
    assert_eq!(store.jobs_for_event(&id).await.expect("jobs").len(), 1);
}

async fn events_are_listed_newest_first(store: &dyn Store) {
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_events(EventFilter::default(), cursor, 3)
            .await
            .expect("page");
        assert!(page.items.len() <= 3);
        seen.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert!(seen.len() >= 10, "{}", seen.len());
    assert!(
        seen.windows(2)
            .all(|w| w[0].received_at_ms >= w[1].received_at_ms)
    );
    let ids: std::collections::HashSet<&str> = seen.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), seen.len(), "each event once");
    let q1 = seen
        .iter()
        .find(|e| e.id == event_id("q", "q-1"))
        .expect("q-1 listed");
    assert_eq!((q1.jobs, q1.delivered, q1.dead_lettered), (3, 3, 0));
    let odd = store
        .list_events(
            EventFilter {
                source: Some("odd".into()),
                ..EventFilter::default()
            },
            None,
            50,
        )
        .await
        .expect("page");
    assert_eq!(odd.items.len(), 3);
    assert!(odd.items.iter().all(|e| e.source == "odd"));
}
