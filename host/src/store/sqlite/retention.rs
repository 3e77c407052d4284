//! Retention on SQLite. One prune call is one write in the writer's next group commit: it
//! examines up to `max` events in receive order from the cursor (the `events_received` index,
//! whose entries end in the rowid, gives that order without a sort) and deletes those
//! `[storage.retention]` lets go, with their jobs and attempts. An event still inside the
//! dedupe window leaves its id in `dedupe` (a tombstone the insert checks), so a redelivery is
//! still a duplicate; tombstones go once the window has passed. Freed pages stay in the
//! database file and are reused by later writes (no `VACUUM`, which would rewrite the file
//! and stall the writer), so a store at its retention stops growing.

use super::SqliteStore;
use crate::store::{PrunePolicy, Pruned, Retention, StoreError};
use rusqlite::{Connection, params};

/// The next events to examine, oldest first, after the cursor: each with whether it has a
/// pending job and whether it is a dead letter.
const CANDIDATES: &str = "SELECT e.rowid, e.id, e.received_at_ms,
        EXISTS (SELECT 1 FROM jobs j WHERE j.event_id = e.id AND j.status = 'pending'),
        e.status = 'dead_lettered'
          OR EXISTS (SELECT 1 FROM jobs j WHERE j.event_id = e.id AND j.status = 'dead_lettered')
    FROM events e INDEXED BY events_received
    WHERE e.received_at_ms < ?1
      AND e.received_at_ms >= ?2 AND NOT (e.received_at_ms = ?2 AND e.rowid <= ?3)
    ORDER BY e.received_at_ms, e.rowid
    LIMIT ?4";

#[async_trait::async_trait]
impl Retention for SqliteStore {
    async fn prune(
        &self,
        policy: PrunePolicy,
        cursor: Option<String>,
        max: usize,
    ) -> Result<Pruned, StoreError> {
        // No cursor: from the oldest.
        let (after_ms, after_rowid) = crate::store::page::parse_cursor::<i64>(cursor.as_deref())?
            .unwrap_or((i64::MIN, i64::MIN));
        self.write(move |conn| prune(conn, policy, after_ms, after_rowid, max))
            .await
    }

    async fn size_bytes(&self) -> Result<u64, StoreError> {
        // The files as they stand on disk: `page_count` would count pages still in the WAL a
        // second time.
        let mut bytes = 0;
        for file in [self.path.clone(), self.path.with_extension("db-wal")] {
            bytes += tokio::fs::metadata(&file).await.map_or(0, |m| m.len());
        }
        Ok(bytes)
    }
}

fn prune(
    conn: &Connection,
    policy: PrunePolicy,
    after_ms: i64,
    after_rowid: i64,
    max: usize,
) -> rusqlite::Result<Pruned> {
    let oldest_cutoff = policy
        .delivered_before_ms
        .max(policy.dead_lettered_before_ms);
    let candidates: Vec<(i64, String, i64, bool, bool)> = conn
        .prepare_cached(CANDIDATES)?
        .query_map(
            params![oldest_cutoff, after_ms, after_rowid, max as i64],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?
        .collect::<rusqlite::Result<_>>()?;
    let mut deleted = 0;
    for (rowid, id, received_at_ms, pending, dead) in &candidates {
        let cutoff = if *dead {
            policy.dead_lettered_before_ms
        } else {
            policy.delivered_before_ms
        };
        if *pending || *received_at_ms >= cutoff {
            continue;
        }
        conn.prepare_cached(
            "DELETE FROM attempts WHERE job_id IN (SELECT id FROM jobs WHERE event_id = ?1)",
        )?
        .execute([id])?;
        conn.prepare_cached("DELETE FROM jobs WHERE event_id = ?1")?
            .execute([id])?;
        conn.prepare_cached("DELETE FROM events WHERE rowid = ?1")?
            .execute([rowid])?;
        if *received_at_ms >= policy.dedupe_since_ms {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO dedupe (id, received_at_ms) VALUES (?1, ?2)",
            )?
            .execute(params![id, received_at_ms])?;
        }
        deleted += 1;
    }
    conn.prepare_cached("DELETE FROM dedupe WHERE received_at_ms < ?1")?
        .execute([policy.dedupe_since_ms])?;
    let next = (candidates.len() == max)
        .then(|| {
            candidates
                .last()
                .map(|(rowid, _, at, _, _)| format!("{at}.{rowid}"))
        })
        .flatten();
    Ok(Pruned {
        events: deleted,
        next,
    })
}

#[cfg(test)]
mod tests {
    use crate::model::{NewEvents, event_id};
    use crate::store::conformance::sample;
    use crate::store::{EventLog, Inserted, PrunePolicy, Retention, SqliteStore};

    const T: i64 = 1_700_000_000_123;

    fn policy(dedupe_since_ms: i64) -> PrunePolicy {
        PrunePolicy {
            delivered_before_ms: T + 1,
            dead_lettered_before_ms: T + 1,
            dedupe_since_ms,
        }
    }

    /// A tombstone keeps a pruned event's id a duplicate until the dedupe window has passed;
    /// then the same delivery is a new event.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tombstones_last_the_dedupe_window() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        store
            .insert(store.incoming(), sample("s", "e1"))
            .await
            .unwrap();
        let pruned = store.prune(policy(T), None, 10).await.unwrap();
        assert_eq!(pruned.events, 1);
        let again = store
            .insert(store.incoming(), sample("s", "e1"))
            .await
            .unwrap();
        assert_eq!(
            again.events(),
            &[(event_id("s", "e1"), Inserted::Duplicate)]
        );
        // The window is over: the tombstone goes, and the delivery counts as new.
        store.prune(policy(T + 1), None, 10).await.unwrap();
        let later = store
            .insert(store.incoming(), sample("s", "e1"))
            .await
            .unwrap();
        assert_eq!(later.events()[0].1, Inserted::New);
    }

    /// Pruned pages are reused: a store that keeps a steady number of events stops growing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn freed_pages_are_reused() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let fill = |round: usize| {
            let store = &store;
            async move {
                for i in 0..300 {
                    let mut record = sample("s", &format!("r{round}-{i}")).records()[0].clone();
                    record.payload = vec![b'x'; 4000];
                    let events = NewEvents::from_records(vec![record], vec![Vec::new()]);
                    store.insert(store.incoming(), events).await.unwrap();
                }
            }
        };
        let checkpoint = |store: &SqliteStore| {
            let conn = rusqlite::Connection::open(store.path.clone()).unwrap();
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .unwrap();
            conn.query_row("PRAGMA page_count", [], |r| r.get::<_, i64>(0))
                .unwrap()
        };
        fill(0).await;
        store.prune(policy(0), None, 1000).await.unwrap();
        let after_first = checkpoint(&store);
        for round in 1..4 {
            fill(round).await;
            store.prune(policy(0), None, 1000).await.unwrap();
        }
        let after_more = checkpoint(&store);
        assert!(
            after_more <= after_first + after_first / 10,
            "{after_first} pages after one round, {after_more} after four"
        );
    }
}
