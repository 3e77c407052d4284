//! The behaviour every storage backend must show, as one suite each backend's tests run
//! against a real instance (a SQLite file, a Redis server).

use super::{Inserted, Store};
use crate::model::{EventId, EventRecord, EventStatus, JobStatus, NewEvents, event_id};
use std::sync::Arc;

mod queue;
mod retention;

pub use queue::run_queue;
pub use retention::run_retention;

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
    assert_eq!(
        store
            .get_event(&EventId::stored("evt_missing".into()))
            .await
            .expect("get"),
        None
    );
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
