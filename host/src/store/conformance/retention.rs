//! The retention half of the conformance suite: what a prune deletes, what it keeps, and that
//! a redelivery inside the dedupe window stays a duplicate after its event was pruned.

use super::record;
use crate::model::{AttemptOutcome, EventStatus, NewEvents, event_id};
use crate::store::{Attempt, DlqFilter, Finished, Inserted, Next, PrunePolicy, Store, pruning};
use std::sync::Arc;

const T0: i64 = 1_800_000_000_000;

/// An event received at `at` along `routes` (none: an event no route matched).
fn at(platform_event_id: &str, at: i64, routes: &[&str]) -> NewEvents {
    let mut r = record("ret", platform_event_id);
    r.received_at_ms = at;
    NewEvents::from_records(
        vec![r],
        vec![routes.iter().map(|r| (*r).to_owned()).collect()],
    )
}

/// Leases every due job and finishes each with `next`.
async fn finish_all(store: &dyn Store, next: impl Fn(&str) -> Option<Next>) {
    let leased = store
        .lease(T0 + 1, std::time::Duration::from_secs(60), 1000, Vec::new())
        .await
        .expect("lease");
    let finished = leased
        .into_iter()
        .filter_map(|job| {
            let platform = job.event_id.to_string();
            Some(Finished {
                job_id: job.id,
                lease_until_ms: job.lease_until_ms,
                attempt: Attempt {
                    number: 1,
                    route: job.route.clone(),
                    started_at_ms: T0 + 1,
                    duration_ms: 3,
                    outcome: AttemptOutcome::Delivered,
                    http_status: Some(200),
                    error: None,
                },
                next: next(&platform)?,
            })
        })
        .collect();
    for result in store.finish_many(finished).await {
        result.expect("finish");
    }
}

fn policy(delivered_before: i64, dead_before: i64, dedupe_since: i64) -> PrunePolicy {
    PrunePolicy {
        delivered_before_ms: delivered_before,
        dead_lettered_before_ms: dead_before,
        dedupe_since_ms: dedupe_since,
    }
}

/// Runs a whole pass of prunes, `max` events per call; returns how many went.
async fn pass(store: &dyn Store, policy: PrunePolicy, max: usize) -> usize {
    let (mut cursor, mut removed) = (None, 0);
    loop {
        let pruned = store
            .prune(policy, cursor.take(), max)
            .await
            .expect("prune");
        removed += pruned.events;
        match pruned.next {
            Some(next) => cursor = Some(next),
            None => return removed,
        }
    }
}

/// Runs every retention check against `store`, which must be empty.
pub async fn run_retention(store: Arc<dyn Store>) {
    let store = &*store;
    let delivered = event_id("ret", "delivered");
    let dead = event_id("ret", "dead");
    let pending = event_id("ret", "pending");
    let unrouted = event_id("ret", "unrouted");
    let broken = event_id("ret", "broken");
    for events in [
        at("delivered", T0, &["a", "b"]),
        at("dead", T0, &["a"]),
        at("pending", T0, &["a"]),
        at("unrouted", T0, &[]),
    ] {
        store
            .insert(store.incoming(), events)
            .await
            .expect("insert");
    }
    let mut unnormalized = record("ret", "broken");
    unnormalized.received_at_ms = T0;
    unnormalized.status = EventStatus::DeadLettered;
    unnormalized.error = Some("normalization failed".into());
    store
        .insert(
            store.incoming(),
            NewEvents::from_records(vec![unnormalized], vec![Vec::new()]),
        )
        .await
        .expect("insert");
    let (d, x) = (delivered.to_string(), dead.to_string());
    finish_all(store, |id| {
        if id == d {
            Some(Next::Delivered)
        } else if id == x {
            Some(Next::DeadLetter("422".into()))
        } else {
            None
        }
    })
    .await;
    // Lease expiry gives the pending job back (it was leased, not finished).

    // Delivered retention over, dead-lettered not yet: the delivered and the unrouted go.
    let removed = pass(store, policy(T0 + 1, T0, T0), 2).await;
    assert_eq!(removed, 2);
    for (id, kept) in [
        (&delivered, false),
        (&unrouted, false),
        (&dead, true),
        (&broken, true),
        (&pending, true),
    ] {
        let found = store.get_event(id).await.expect("get").is_some();
        assert_eq!(found, kept, "{id}");
    }
    assert!(store.jobs_for_event(&delivered).await.unwrap().is_empty());
    assert!(
        store
            .attempts_for_event(&delivered)
            .await
            .unwrap()
            .is_empty()
    );

    // Both over: the dead letters go, their DLQ entries with them; the pending event stays.
    let removed = pass(store, policy(T0 + 1, T0 + 1, T0), 1).await;
    assert_eq!(removed, 2);
    let dlq = store
        .dead_letters(DlqFilter::default(), None, 100)
        .await
        .expect("dlq");
    assert!(dlq.items.is_empty(), "{:?}", dlq.items);
    assert!(store.get_event(&pending).await.unwrap().is_some());
    assert_eq!(store.count_events().await.unwrap(), 1);
    let stats = store.queue_stats(T0 + 10).await.unwrap();
    assert_eq!((stats.pending, stats.dead_letters), (1, 0), "{stats:?}");

    // Inside the dedupe window a pruned event's redelivery is still a duplicate.
    let again = store
        .insert(store.incoming(), at("delivered", T0, &["a"]))
        .await
        .expect("insert");
    assert_eq!(again.events(), &[(delivered.clone(), Inserted::Duplicate)]);

    // A pass over many events in small batches reaches them all.
    for i in 0..25 {
        store
            .insert(
                store.incoming(),
                at(&format!("bulk-{i}"), T0 + 100 + i, &[]),
            )
            .await
            .expect("insert");
    }
    let now = T0 + 10_000;
    let removed = pruning::pass(
        store,
        policy(now, now, T0),
        &tokio::sync::watch::channel(false).1,
    )
    .await;
    assert_eq!(removed, 25);
    assert_eq!(
        store.count_events().await.unwrap(),
        1,
        "only the pending one"
    );
    assert!(store.size_bytes().await.unwrap() > 0);
}
