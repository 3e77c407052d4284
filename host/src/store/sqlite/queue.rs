//! The delivery queue on SQLite: leasing, attempts, the dead-letter queue and route state.
//! Writes go through the writer thread (and its group commit) like ingests do; reads use the
//! reader pool.

use super::SqliteStore;
use crate::store::queue::{
    Attempt, DeadLetter, DisabledRoute, DlqFilter, DlqPage, EventFilter, EventPage, EventSummary,
    Finished, LeasedJob, Next, QueueStats, status,
};
use crate::store::{JobRecord, StoreError};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

const LEASE_CANDIDATES: &str =
    "SELECT j.id, j.event_id, j.route, j.attempts, e.type, e.envelope, e.payload
    FROM jobs j JOIN events e ON e.id = j.event_id
    WHERE j.status = 'pending' AND j.due_at_ms <= ?1
      AND (j.lease_until_ms IS NULL OR j.lease_until_ms <= ?1)";

impl SqliteStore {
    pub(super) async fn lease_jobs(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
        skip_routes: Vec<String>,
    ) -> Result<Vec<LeasedJob>, StoreError> {
        let lease_until_ms = now_ms + lease_ms;
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

    pub(super) async fn finish_job(&self, finished: Finished) -> Result<bool, StoreError> {
        self.write(move |c| record_finished(c, &finished)).await
    }

    /// All of `finished` in one write (one savepoint of the next group commit). A failure
    /// undoes the whole write, so every item gets the error; their jobs run again once their
    /// leases expire.
    pub(super) async fn finish_jobs(
        &self,
        finished: Vec<Finished>,
    ) -> Vec<Result<bool, StoreError>> {
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

    pub(super) async fn defer_job(
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

    pub(super) async fn jobs_of(&self, event_id: &str) -> Result<Vec<JobRecord>, StoreError> {
        let event_id = event_id.to_owned();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT event_id, route, status, attempts, due_at_ms, last_error
                 FROM jobs WHERE event_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([event_id], |r| {
                Ok(JobRecord {
                    event_id: r.get(0)?,
                    route: r.get(1)?,
                    status: r.get(2)?,
                    attempts: r.get(3)?,
                    due_at_ms: r.get(4)?,
                    last_error: r.get(5)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    pub(super) async fn attempts_of(&self, event_id: &str) -> Result<Vec<Attempt>, StoreError> {
        let event_id = event_id.to_owned();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT a.number, j.route, a.started_at_ms, a.duration_ms, a.outcome, a.http_status, a.error
                 FROM attempts a JOIN jobs j ON j.id = a.job_id
                 WHERE j.event_id = ?1 ORDER BY a.id",
            )?;
            let rows = stmt.query_map([event_id], |r| {
                Ok(Attempt {
                    number: r.get(0)?,
                    route: r.get(1)?,
                    started_at_ms: r.get(2)?,
                    duration_ms: r.get(3)?,
                    outcome: r.get(4)?,
                    http_status: r.get(5)?,
                    error: r.get(6)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    pub(super) async fn dlq_page(
        &self,
        filter: DlqFilter,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<DlqPage, StoreError> {
        let after = match cursor.as_deref() {
            None | Some("") => None,
            Some(text) => Some(
                parse_cursor(text)
                    .ok_or_else(|| StoreError::Corrupt(format!("invalid cursor {text:?}")))?,
            ),
        };
        let limit = limit.clamp(1, 1000);
        self.read(move |c| {
            // Jobs that gave up, and payloads that could not be normalized (no job; keyed by
            // their negated rowid so one cursor orders both).
            let mut sql = String::from(
                "SELECT event_id, route, source, type, attempts, error, received_at_ms, at, key FROM (
                   SELECT j.event_id AS event_id, j.route AS route, e.source AS source,
                          e.type AS type, j.attempts AS attempts, j.last_error AS error,
                          e.received_at_ms AS received_at_ms, j.updated_at_ms AS at, j.id AS key
                   FROM jobs j JOIN events e ON e.id = j.event_id
                   WHERE j.status = 'dead_lettered'
                   UNION ALL
                   SELECT e.id, NULL, e.source, e.type, 0, e.error, e.received_at_ms,
                          e.received_at_ms, -e.rowid
                   FROM events e WHERE e.status = 'dead_lettered'
                 ) WHERE 1 = 1",
            );
            let mut args = filter_sql(&filter, &mut sql);
            if let Some((at, id)) = after {
                sql.push_str(" AND (at < ? OR (at = ? AND key < ?))");
                args.extend([Value::Integer(at), Value::Integer(at), Value::Integer(id)]);
            }
            sql.push_str(" ORDER BY at DESC, key DESC LIMIT ?");
            args.push(Value::Integer(limit as i64 + 1));
            let mut stmt = c.prepare(&sql)?;
            let mut rows: Vec<(DeadLetter, i64)> = stmt
                .query_map(params_from_iter(args), |r| {
                    Ok((
                        DeadLetter {
                            event_id: r.get(0)?,
                            route: r.get(1)?,
                            source: r.get(2)?,
                            event_type: r.get(3)?,
                            attempts: r.get(4)?,
                            error: r.get(5)?,
                            received_at_ms: r.get(6)?,
                            dead_lettered_at_ms: r.get(7)?,
                        },
                        r.get(8)?,
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let next_cursor = if rows.len() > limit {
                rows.truncate(limit);
                rows.last()
                    .map(|(d, id)| format!("{}.{id}", d.dead_lettered_at_ms))
            } else {
                None
            };
            Ok(DlqPage {
                items: rows.into_iter().map(|(d, _)| d).collect(),
                next_cursor,
            })
        })
        .await
    }

    pub(super) async fn requeue(
        &self,
        event_id: &str,
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

    pub(super) async fn list_disabled(&self) -> Result<Vec<DisabledRoute>, StoreError> {
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

    pub(super) async fn event_page(
        &self,
        filter: EventFilter,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<EventPage, StoreError> {
        let after = match cursor.as_deref() {
            None | Some("") => None,
            Some(text) => Some(
                parse_cursor(text)
                    .ok_or_else(|| StoreError::Corrupt(format!("invalid cursor {text:?}")))?,
            ),
        };
        let limit = limit.clamp(1, 1000);
        self.read(move |c| {
            let mut sql = String::from(
                "SELECT e.id, e.source, e.type, e.status, e.received_at_ms, e.rowid,
                        (SELECT count(*) FROM jobs j WHERE j.event_id = e.id),
                        (SELECT count(*) FROM jobs j WHERE j.event_id = e.id AND j.status = 'delivered'),
                        (SELECT count(*) FROM jobs j WHERE j.event_id = e.id AND j.status = 'dead_lettered')
                 FROM events e WHERE 1 = 1",
            );
            let mut args: Vec<Value> = Vec::new();
            if let Some(source) = &filter.source {
                sql.push_str(" AND e.source = ?");
                args.push(Value::Text(source.clone()));
            }
            if let Some(event_type) = &filter.event_type {
                sql.push_str(" AND e.type = ?");
                args.push(Value::Text(event_type.clone()));
            }
            if let Some(since) = filter.since_ms {
                sql.push_str(" AND e.received_at_ms >= ?");
                args.push(Value::Integer(since));
            }
            if let Some(until) = filter.until_ms {
                sql.push_str(" AND e.received_at_ms < ?");
                args.push(Value::Integer(until));
            }
            if let Some((at, rowid)) = after {
                sql.push_str(
                    " AND (e.received_at_ms < ? OR (e.received_at_ms = ? AND e.rowid < ?))",
                );
                args.extend([Value::Integer(at), Value::Integer(at), Value::Integer(rowid)]);
            }
            sql.push_str(" ORDER BY e.received_at_ms DESC, e.rowid DESC LIMIT ?");
            args.push(Value::Integer(limit as i64 + 1));
            let mut stmt = c.prepare(&sql)?;
            let mut rows: Vec<(EventSummary, i64)> = stmt
                .query_map(params_from_iter(args), |r| {
                    Ok((
                        EventSummary {
                            id: r.get(0)?,
                            source: r.get(1)?,
                            event_type: r.get(2)?,
                            status: r.get(3)?,
                            received_at_ms: r.get(4)?,
                            jobs: r.get(6)?,
                            delivered: r.get(7)?,
                            dead_lettered: r.get(8)?,
                        },
                        r.get(5)?,
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let next_cursor = if rows.len() > limit {
                rows.truncate(limit);
                rows.last()
                    .map(|(e, rowid)| format!("{}.{rowid}", e.received_at_ms))
            } else {
                None
            };
            Ok(EventPage {
                items: rows.into_iter().map(|(e, _)| e).collect(),
                next_cursor,
            })
        })
        .await
    }

    pub(super) async fn stats(&self, now_ms: i64) -> Result<QueueStats, StoreError> {
        self.read(move |c| {
            let count = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0));
            let pending = count("SELECT count(*) FROM jobs WHERE status = 'pending'")?;
            let dead = count("SELECT count(*) FROM jobs WHERE status = 'dead_lettered'")?
                + count("SELECT count(*) FROM events WHERE status = 'dead_lettered'")?;
            let oldest_due_ms = c.query_row(
                "SELECT MIN(due_at_ms) FROM jobs WHERE status = 'pending' AND due_at_ms <= ?1",
                [now_ms],
                |r| r.get::<_, Option<i64>>(0),
            )?;
            Ok(QueueStats {
                pending: pending.max(0) as u64,
                oldest_due_ms,
                dead_letters: dead.max(0) as u64,
            })
        })
        .await
    }

    pub(super) async fn newest_received(&self, source: &str) -> Result<Option<i64>, StoreError> {
        let source = source.to_owned();
        self.read(move |c| {
            c.query_row(
                "SELECT MAX(received_at_ms) FROM events
                 WHERE source = ?1 AND source LIKE 'schedule:%'",
                [source],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()
            .map(Option::flatten)
        })
        .await
    }
}

/// Appends the filter's conditions to `sql` and returns their arguments.
fn filter_sql(filter: &DlqFilter, sql: &mut String) -> Vec<Value> {
    let mut args = Vec::new();
    if let Some(source) = &filter.source {
        sql.push_str(" AND source = ?");
        args.push(Value::Text(source.clone()));
    }
    if let Some(route) = &filter.route {
        sql.push_str(" AND route = ?");
        args.push(Value::Text(route.clone()));
    }
    if let Some(since) = filter.since_ms {
        sql.push_str(" AND at >= ?");
        args.push(Value::Integer(since));
    }
    if let Some(until) = filter.until_ms {
        sql.push_str(" AND at < ?");
        args.push(Value::Integer(until));
    }
    args
}

/// Cursors are `<dead-lettered-at ms>.<key>` of the last entry of the previous page (the key
/// is a job id, or a negated event rowid).
fn parse_cursor(text: &str) -> Option<(i64, i64)> {
    let (at, id) = text.split_once('.')?;
    Some((at.parse().ok()?, id.parse().ok()?))
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
        Next::Delivered => (status::DELIVERED, now, None),
        Next::RetryAt(due) => (status::PENDING, *due, attempt.error.as_deref()),
        Next::DeadLetter(error) => (status::DEAD_LETTERED, now, Some(error.as_str())),
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

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(
            parse_cursor("1700000000000.42"),
            Some((1_700_000_000_000, 42))
        );
        assert_eq!(parse_cursor("x.1"), None);
        assert_eq!(parse_cursor("12"), None);
    }
}
