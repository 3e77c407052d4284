//! The SQLite layout and its versions. The database carries its layout's number in
//! `PRAGMA user_version`; at open, the migrations it has not had run in order, each in its own
//! transaction with the version it brings, so a crash between two leaves a store the next start
//! continues from. A store written by a newer hookgate (a version above [`LATEST`]) is refused:
//! this build would misread it.
//!
//! Layout 1 is the first, written before stores carried a number (they read `user_version` 0);
//! its text never changes: every later change is a migration below, so a new store and an
//! upgraded one are built by the same steps.

use rusqlite::Connection;

/// The layout this build writes.
pub(super) const LATEST: u32 = 2;

pub(super) const LAYOUT_1: &str = "
CREATE TABLE IF NOT EXISTS events (
    id                TEXT PRIMARY KEY,
    source            TEXT NOT NULL,
    platform_event_id TEXT NOT NULL,
    type              TEXT NOT NULL,
    status            TEXT NOT NULL,
    error             TEXT,
    received_at_ms    INTEGER NOT NULL,
    envelope          TEXT NOT NULL,
    payload           BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id             INTEGER PRIMARY KEY,
    event_id       TEXT NOT NULL,
    route          TEXT NOT NULL,
    status         TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    due_at_ms      INTEGER NOT NULL,
    lease_until_ms INTEGER,
    last_error     TEXT,
    updated_at_ms  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (event_id, route)
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (status, due_at_ms);
CREATE INDEX IF NOT EXISTS jobs_updated ON jobs (status, updated_at_ms);
CREATE TABLE IF NOT EXISTS attempts (
    id            INTEGER PRIMARY KEY,
    job_id        INTEGER NOT NULL,
    number        INTEGER NOT NULL,
    started_at_ms INTEGER NOT NULL,
    duration_ms   INTEGER NOT NULL,
    outcome       TEXT NOT NULL,
    http_status   INTEGER,
    error         TEXT
);
CREATE INDEX IF NOT EXISTS attempts_job ON attempts (job_id);
CREATE TABLE IF NOT EXISTS disabled_routes (
    route    TEXT PRIMARY KEY,
    reason   TEXT NOT NULL,
    since_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_schedule ON events (source, received_at_ms)
    WHERE source LIKE 'schedule:%';
CREATE INDEX IF NOT EXISTS events_received ON events (received_at_ms);
CREATE INDEX IF NOT EXISTS events_dead ON events (received_at_ms)
    WHERE status = 'dead_lettered';
";

/// The steps after layout 1: (version reached, SQL).
const MIGRATIONS: &[(u32, &str)] = &[(
    2,
    // Tombstones of events pruned inside the dedupe window: their ids, so a redelivery is
    // still a duplicate until the window has passed.
    "CREATE TABLE IF NOT EXISTS dedupe (
         id             TEXT PRIMARY KEY,
         received_at_ms INTEGER NOT NULL
     );
     CREATE INDEX IF NOT EXISTS dedupe_received ON dedupe (received_at_ms);",
)];

/// The layout number a database carries.
pub(super) fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Brings the database to [`LATEST`], or refuses one written by a newer build.
pub(super) fn migrate(conn: &Connection) -> Result<(), String> {
    let found = version(conn).map_err(|e| e.to_string())?;
    if found > LATEST {
        return Err(format!(
            "the database has layout {found}, written by a newer hookgate (this one knows layouts up to {LATEST}); refusing to open it: run the newer hookgate, or restore a backup made before the upgrade"
        ));
    }
    if found == 0 {
        // A new database, or one of layout 1 from before stores were numbered: the same
        // statements (all `IF NOT EXISTS`) make both layout 1.
        step(conn, LAYOUT_1, 1)?;
    }
    for (to, sql) in MIGRATIONS {
        if *to > found.max(1) {
            step(conn, sql, *to)?;
            if found > 0 {
                tracing::info!(from = found, to, "SQLite store migrated");
            }
        }
    }
    Ok(())
}

/// Runs one step and records its version, atomically.
fn step(conn: &Connection, sql: &str, to: u32) -> Result<(), String> {
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {to}; COMMIT;"
    ))
    .map_err(|e| {
        let _ = conn.execute_batch("ROLLBACK");
        format!("migrating the store to layout {to}: {e}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EventId, event_id};
    use crate::store::conformance::routed;
    use crate::store::{EventLog, Inserted, Inspection, SqliteStore};

    /// A store as the first release wrote it: layout 1, no number, with an event and its job.
    fn write_layout_1(dir: &std::path::Path) -> EventId {
        let conn = Connection::open(dir.join("hookgate.db")).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL;").unwrap();
        conn.execute_batch(LAYOUT_1).unwrap();
        let id = event_id("stripe", "evt_old");
        conn.execute(
            "INSERT INTO events (id, source, platform_event_id, type, status, received_at_ms, envelope, payload)
             VALUES (?1, 'stripe', 'evt_old', 'payment.completed', 'pending', 1700000000000, '{}', x'7b7d')",
            [id.as_str()],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO jobs (event_id, route, status, due_at_ms) VALUES (?1, 'crm', 'pending', 1700000000000)",
            [id.as_str()],
        )
        .unwrap();
        assert_eq!(version(&conn).unwrap(), 0);
        id
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_store_of_the_first_layout_is_upgraded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let id = write_layout_1(dir.path());
        let store = SqliteStore::open(dir.path()).unwrap();
        let stored = store.get_event(&id).await.unwrap().expect("kept");
        assert_eq!(stored.platform_event_id, "evt_old");
        assert_eq!(store.jobs_for_event(&id).await.unwrap().len(), 1);
        // Duplicates are still recognised, new events still stored.
        let again = store
            .insert(store.incoming(), routed("stripe", "evt_old", &["crm"]))
            .await
            .unwrap();
        assert_eq!(again.events()[0].1, Inserted::Duplicate);
        let new = store
            .insert(store.incoming(), routed("stripe", "evt_new", &["crm"]))
            .await
            .unwrap();
        assert_eq!(new.events()[0].1, Inserted::New);
        drop(store);
        let conn = Connection::open(dir.path().join("hookgate.db")).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
    }

    #[test]
    fn a_store_of_a_newer_layout_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("hookgate.db")).unwrap();
        conn.execute_batch(&format!("PRAGMA user_version = {};", LATEST + 1))
            .unwrap();
        drop(conn);
        let err = SqliteStore::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("written by a newer hookgate"), "{err}");
    }

    #[test]
    fn a_new_store_has_the_latest_layout() {
        let conn = Connection::open_in_memory().unwrap();
        migrate(&conn).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        // Running it again changes nothing.
        migrate(&conn).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
    }
}
