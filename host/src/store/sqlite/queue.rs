//! The delivery queue on SQLite: leasing, attempts, replay and route state.
//! Writes go through the writer thread (and its group commit) like ingests do; reads use the
//! reader pool.

use super::SqliteStore;
use crate::model::{EventId, JobStatus};
use crate::store::queue::{Attempt, DisabledRoute, Finished, LeasedJob, Next};
use crate::store::{JobQueue, RouteState, StoreError};
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};

const LEASE_CANDIDATES: &str =
    "SELECT j.id, j.event_id, j.route, j.attempts, e.type, e.envelope, e.payload
    FROM jobs j JOIN events e ON e.id = j.event_id
    WHERE j.status = 'pending' AND j.due_at_ms <= ?1
      AND (j.lease_until_ms IS NULL OR j.lease_until_ms <= ?1)";

#[async_trait::async_trait]
impl JobQueue for SqliteStore {
    async fn lease(
        &self,
        now_ms: i64,
        lease: std::time::Duration,
        limit: usize,
        skip_routes: Vec<String>,
    ) -> Result<Vec<LeasedJob>, StoreError> {
        let lease_until_ms = now_ms.saturating_add(crate::model::duration_ms(lease));
        self.write(move |c| {
            let mut sql = String::from(LEASE_CANDIDATES);
            let mut args: Vec<Value> = vec![Value::Integer(now_ms)];
            if !skip_routes.is_empty() {
                sql.push_str(" AND j.route NOT IN (");
                for (i, route) in skip_routes.into_iter().enumerate() {
                    sql.push_str(if i == 0 { "?" } else { ", ?" });
                    args.push(Value::Text(route));
                }
                sql.push(')');
            }
            sql.push_str(" ORDER BY j.due_at_ms, j.id LIMIT ?");
            args.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
            let mut jobs: Vec<LeasedJob> = {
                // Cached: the text varies only with the number of skipped routes.
                let mut stmt = c.prepare_cached(&sql)?;
                stmt.query_map(params_from_iter(args), |r| {
                    Ok(LeasedJob {
                        id: r.get(0)?,
                        event_id: r.get(1)?,
                        route: r.get(2)?,
                        attempts: r.get(3)?,
                        lease_until_ms,
                        event_type: r.get(4)?,
                        envelope: r.get(5)?,
                        payload: r.get(6)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?
            };
            let mut take = c.prepare_cached("UPDATE jobs SET lease_until_ms = ?2 WHERE id = ?1")?;
            for job in &mut jobs {
                take.execute(params![job.id, lease_until_ms])?;
            }
            Ok(jobs)
        })
        .await
    }

    async fn finish(
        &self,
        job_id: i64,
        lease_until_ms: i64,
        attempt: Attempt,
        next: Next,
    ) -> Result<bool, StoreError> {
        let finished = Finished {
            job_id,
            lease_until_ms,
            attempt,
            next,
        };
        self.write(move |c| record_finished(c, &finished)).await
    }

    /// All of `finished` in one write (one savepoint of the next group commit). A failure
    /// undoes the whole write, so every item gets the error; their jobs run again once their
    /// leases expire.
    async fn finish_many(&self, finished: Vec<Finished>) -> Vec<Result<bool, StoreError>> {
        let count = finished.len();
        match self
            .write(move |c| {
                finished
                    .iter()
                    .map(|f| record_finished(c, f))
                    .collect::<rusqlite::Result<Vec<bool>>>()
            })
            .await
        {
            Ok(changed) => changed.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e); count],
        }
    }

    async fn defer(
        &self,
        job_id: i64,
        lease_until_ms: i64,
        due_at_ms: i64,
    ) -> Result<(), StoreError> {
        self.write(move |c| {
            c.prepare_cached(
                "UPDATE jobs SET due_at_ms = ?3, lease_until_ms = NULL
                 WHERE id = ?1 AND status = 'pending' AND lease_until_ms = ?2",
            )?
            .execute(params![job_id, lease_until_ms, due_at_ms])?;
            Ok(())
        })
        .await
    }

    async fn replay(
        &self,
        event_id: &EventId,
        routes: Vec<String>,
        now_ms: i64,
    ) -> Result<Vec<String>, StoreError> {
        let event_id = event_id.to_owned();
        self.write(move |c| {
            let mut queued = Vec::new();
            let mut revive = c.prepare_cached(
                "UPDATE jobs SET status = 'pending', due_at_ms = ?3, lease_until_ms = NULL,
                    attempts = 0, updated_at_ms = ?3
                 WHERE event_id = ?1 AND route = ?2 AND status = 'dead_lettered'",
            )?;
            let mut create = c.prepare_cached(
                "INSERT INTO jobs (event_id, route, status, attempts, due_at_ms, updated_at_ms)
                 VALUES (?1, ?2, 'pending', 0, ?3, ?3)
                 ON CONFLICT (event_id, route) DO NOTHING",
            )?;
            for route in routes {
                let changed = revive.execute(params![event_id, route, now_ms])?
                    + create.execute(params![event_id, route, now_ms])?;
                if changed > 0 {
                    queued.push(route);
                }
            }
            Ok(queued)
        })
        .await
    }
}

#[async_trait::async_trait]
impl RouteState for SqliteStore {
    async fn disable_route(
        &self,
        route: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.set_route_disabled(route, Some(reason), now_ms)
            .await
            .map(|_| ())
    }

    async fn enable_route(&self, route: &str) -> Result<bool, StoreError> {
        self.set_route_disabled(route, None, 0).await
    }

    async fn disabled_routes(&self) -> Result<Vec<DisabledRoute>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT route, reason, since_ms FROM disabled_routes ORDER BY route",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(DisabledRoute {
                    route: r.get(0)?,
                    reason: r.get(1)?,
                    since_ms: r.get(2)?,
                })
            })?;
            rows.collect()
        })
        .await
    }
}

impl SqliteStore {
    pub(super) async fn set_route_disabled(
        &self,
        route: &str,
        reason: Option<&str>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (route, reason) = (route.to_owned(), reason.map(str::to_owned));
        self.write(move |c| {
            let changed = match reason {
                Some(reason) => c.execute(
                    "INSERT INTO disabled_routes (route, reason, since_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT (route) DO NOTHING",
                    params![route, reason, now_ms],
                )?,
                None => c.execute("DELETE FROM disabled_routes WHERE route = ?1", [route])?,
            };
            Ok(changed > 0)
        })
        .await
    }
}

/// Leases belong to the process that took them; with SQLite one process owns the database, so
/// at start every lease is a dead process's and is released at once instead of waiting for
/// it to expire.
pub(super) fn release_stale_leases(conn: &Connection) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE jobs SET lease_until_ms = NULL WHERE status = 'pending' AND lease_until_ms IS NOT NULL",
        [],
    )
}

/// Records one attempt and moves its job on, unless its lease was taken over meanwhile.
/// Returns whether the job changed.
fn record_finished(c: &Connection, f: &Finished) -> rusqlite::Result<bool> {
    let attempt = &f.attempt;
    c.prepare_cached(
        "INSERT INTO attempts (job_id, number, started_at_ms, duration_ms, outcome, http_status, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        f.job_id,
        attempt.number,
        attempt.started_at_ms,
        attempt.duration_ms,
        attempt.outcome,
        attempt.http_status,
        attempt.error,
    ])?;
    let now = attempt.started_at_ms + attempt.duration_ms;
    let (status, due, error) = match &f.next {
        Next::Delivered => (JobStatus::Delivered, now, None),
        Next::RetryAt(due) => (JobStatus::Pending, *due, attempt.error.as_deref()),
        Next::DeadLetter(error) => (JobStatus::DeadLettered, now, Some(error.as_str())),
    };
    let changed = c
        .prepare_cached(
            "UPDATE jobs SET status = ?3, attempts = ?4, due_at_ms = ?5, last_error = ?6,
                lease_until_ms = NULL, updated_at_ms = ?7
             WHERE id = ?1 AND status = 'pending' AND lease_until_ms = ?2",
        )?
        .execute(params![
            f.job_id,
            f.lease_until_ms,
            status,
            attempt.number,
            due,
            error,
            now
        ])?;
    Ok(changed == 1)
}
