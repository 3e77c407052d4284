//! The delivery-queue half of the conformance suite: leasing, attempts, replay, the
//! dead-letter queue, route state, schedule ticks and event listing.

use super::{record, routed};
use crate::model::{AttemptOutcome, EventStatus, JobStatus, NewEvents, event_id};
use crate::store::{Attempt, DlqFilter, EventFilter, Finished, LeasedJob, Next, Store};
use std::sync::Arc;

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
        .lease(now, std::time::Duration::from_secs(60), 100, Vec::new())
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
        .lease(T0, std::time::Duration::from_secs(60), 10, vec!["a".into()])
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
    assert!(a.envelope.contains(id.as_str()) && a.payload.starts_with(b"{"));
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
