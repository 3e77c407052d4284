//! The embedded SQLite backend: WAL with `synchronous=FULL` (an acknowledged event survives
//! power loss), one writer connection behind the shared group-commit [`Batcher`] (whatever
//! arrived while the previous fsync ran: one transaction, one fsync, many requests), and
//! short-lived reader connections. All SQLite work happens on dedicated or blocking threads,
//! never on the async runtime.

mod checkpoint;
mod events;
mod inspect;
mod layout;
mod queue;
mod retention;
mod words;

use super::batch::{BatchLimits, BatchWrite, Batcher};
use super::{Inserted, StoreError};
use crate::model::{EventId, EventRecord, EventStatus, NewEvents};
use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// How the writer batches. Requests waiting beyond 8192 are refused (503) instead of queueing
/// forever behind a stalled disk; at most 1024 share a transaction, so one commit never holds
/// replies back for long.
const WRITER: BatchLimits = BatchLimits {
    name: "hookgate-sqlite-writer",
    capacity: 8192,
    max_items: 1024,
    max_weight: usize::MAX,
    window: COMMIT_WINDOW,
    metered: true,
};
/// Longest a commit waits for requests announced by [`EventLog::incoming`]. On this project's
/// 2-core VM an fsync costs ~300 µs of CPU besides its latency, so under load committing
/// every few requests spent a large share of the CPU on fsyncs; waiting for the requests
/// already in their plugin checks about doubled the batches (15 KB bodies: 6.6 → 12 per
/// commit) and raised ingest throughput 5–20%. Nothing waits when nothing is announced (a
/// lone request commits at once), and never longer than this.
const COMMIT_WINDOW: std::time::Duration = std::time::Duration::from_millis(1);
/// Idle reader connections kept open.
const MAX_IDLE_READERS: usize = 4;

/// A new event, unless its id is stored, or is a tombstone of an event pruned inside the dedupe
/// window (see [`retention`]). The `WHERE` also settles SQLite's parsing of an upsert after a
/// `SELECT`.
const INSERT: &str = "INSERT INTO events
    (id, source, platform_event_id, type, status, error, received_at_ms, envelope, payload)
    SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
    WHERE NOT EXISTS (SELECT 1 FROM dedupe WHERE id = ?1)
    ON CONFLICT (id) DO NOTHING";

const INSERT_JOB: &str =
    "INSERT INTO jobs (event_id, route, status, attempts, due_at_ms, updated_at_ms)
    VALUES (?1, ?2, 'pending', 0, ?3, ?3)
    ON CONFLICT (event_id, route) DO NOTHING";

/// A write other than an ingest: runs inside the batch's transaction, in its own savepoint, so
/// its failure undoes only itself.
type Op = Box<dyn FnOnce(&Connection) -> Result<(), StoreError> + Send>;

/// What the writer is asked to do.
enum WriteJob {
    /// Store a request's events (answered with each event's outcome).
    Insert(NewEvents),
    /// Any other write (answered with nothing; it hands its own value back).
    Op(Op),
}

/// Each event id of an insert with its outcome (empty for an [`WriteJob::Op`]).
type Written = Vec<(EventId, Inserted)>;

/// The batch write of the SQLite backend: one transaction on the writer connection.
struct Writer {
    conn: Connection,
    checkpointer: checkpoint::Checkpointer,
}

impl BatchWrite for Writer {
    type Item = WriteJob;
    type Output = Written;

    fn write(
        &mut self,
        jobs: Vec<WriteJob>,
    ) -> Result<Vec<Result<Written, StoreError>>, StoreError> {
        let answers = write_batch(&mut self.conn, jobs).map_err(unavailable)?;
        self.checkpointer.nudge();
        Ok(answers)
    }
}

/// SQLite-backed [`super::Store`].
pub struct SqliteStore {
    path: PathBuf,
    writer: Batcher<WriteJob, Written>,
    readers: Arc<Mutex<Vec<Connection>>>,
    /// An exclusive lock on `<dir>/hookgate.lock`, held while the store is open: one process
    /// owns the database (it releases stale leases at open, which would hand a live process's
    /// jobs to a second one: double delivery).
    _lock: std::fs::File,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Takes the data directory's exclusive lock, or says which directory another process holds.
/// The OS drops the lock when the process dies, so a crash never leaves it stuck.
fn lock_dir(dir: &Path) -> Result<std::fs::File, StoreError> {
    let path = dir.join("hookgate.lock");
    let file = crate::fsmode::private_file_options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| unavailable(format!("opening {}: {e}", path.display())))?;
    // A lock file an older version created with the umask's mode is tightened.
    crate::fsmode::restrict_file(&file, &path)
        .map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(unavailable(format!(
            "{} is in use by another hookgate process (it holds {}); one gateway per data directory with the SQLite backend",
            dir.display(),
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(unavailable(format!("locking {}: {e}", path.display())))
        }
    }
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) `dir/hookgate.db` and starts the writer thread.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        // The data directory is private (0700), and so is the database (0600, which SQLite
        // gives its -wal and -shm files too): events hold payloads and the directory holds
        // the compiled-code cache's key.
        crate::fsmode::create_private_dir(dir)
            .map_err(|e| unavailable(format!("creating {}: {e}", dir.display())))?;
        let lock = lock_dir(dir)?;
        let path = dir.join("hookgate.db");
        crate::fsmode::ensure_private_file(&path)
            .map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
        let conn = Connection::open(&path)
            .map_err(|e| unavailable(format!("opening {}: {e}", path.display())))?;
        configure_writer(&conn).map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
        let released = queue::release_stale_leases(&conn).map_err(unavailable)?;
        if released > 0 {
            tracing::info!(jobs = released, "released the leases of a previous run");
        }
        let checkpointer = checkpoint::Checkpointer::start(&path).map_err(unavailable)?;
        let writer = Batcher::start(Writer { conn, checkpointer }, WRITER)?;
        Ok(SqliteStore {
            path,
            writer,
            readers: Arc::default(),
            _lock: lock,
        })
    }

    /// Runs `f` on the writer connection inside the next group commit and returns its result
    /// once that commit is durable. A failing `f` undoes only its own changes.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        // The value is handed over in the transaction and read only once the batcher says the
        // commit is durable; a failed commit drops it with the receiver.
        let (value, mut written) = oneshot::channel::<T>();
        let op: Op = Box::new(move |conn| {
            // Cached: every write pays these two statements, and parsing them showed in profiles.
            run_cached(conn, "SAVEPOINT op").map_err(unavailable)?;
            match f(conn) {
                Ok(v) => {
                    run_cached(conn, "RELEASE op").map_err(unavailable)?;
                    let _ = value.send(v);
                    Ok(())
                }
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK TO op; RELEASE op");
                    Err(unavailable(e))
                }
            }
        });
        self.writer.submit(WriteJob::Op(op)).await?;
        written
            .try_recv()
            .map_err(|_| unavailable("a committed write left no result"))
    }

    /// Runs `f` with a reader connection on a blocking thread.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (path, readers) = (self.path.clone(), self.readers.clone());
        tokio::task::spawn_blocking(move || {
            let conn = match readers.lock().expect("lock poisoned").pop() {
                Some(c) => c,
                None => {
                    let c = Connection::open_with_flags(
                        &path,
                        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )
                    .map_err(unavailable)?;
                    c.busy_timeout(std::time::Duration::from_secs(5))
                        .map_err(unavailable)?;
                    c
                }
            };
            let result = f(&conn).map_err(unavailable);
            let mut idle = readers.lock().expect("lock poisoned");
            if result.is_ok() && idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
            result
        })
        .await
        .map_err(|e| unavailable(format!("reader task failed: {e}")))?
    }
}

/// Runs a parameterless statement through the connection's statement cache.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// Durability settings of the writer connection: WAL, and `synchronous=FULL` so a commit is
/// fsynced before `insert` returns (an acknowledged event survives power loss, not just a
/// crash of the process). Checkpoints mostly run on their own thread ([`checkpoint`]); the
/// writer's own threshold only finishes what that thread leaves.
fn configure_writer(conn: &Connection) -> Result<(), String> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA busy_timeout = 5000;
         PRAGMA journal_size_limit = 67108864;",
    )
    .map_err(|e| e.to_string())?;
    conn.pragma_update(
        None,
        "wal_autocheckpoint",
        checkpoint::WRITER_AUTOCHECKPOINT_PAGES,
    )
    .map_err(|e| e.to_string())?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(format!("cannot use WAL mode (got {mode})"));
    }
    layout::migrate(conn)
}

/// Writes one batch in one transaction and commits it (one fsync): each insert answered with
/// its events' outcomes, each other write with its own success or failure.
fn write_batch(
    conn: &mut Connection,
    batch: Vec<WriteJob>,
) -> rusqlite::Result<Vec<Result<Written, StoreError>>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut answers = Vec::with_capacity(batch.len());
    {
        let mut stmt = tx.prepare_cached(INSERT)?;
        let mut jobs = tx.prepare_cached(INSERT_JOB)?;
        for job in batch {
            let events = match job {
                WriteJob::Insert(events) => events,
                WriteJob::Op(op) => {
                    answers.push(op(&tx).map(|()| Vec::new()));
                    continue;
                }
            };
            let mut outcome = Vec::with_capacity(events.records().len());
            for (r, routes) in events.with_routes() {
                let new = insert_one(&mut stmt, r)? == 1;
                if new && r.status == EventStatus::Pending {
                    for route in routes {
                        jobs.execute(params![r.id, route, r.received_at_ms])?;
                    }
                }
                outcome.push((
                    r.id.clone(),
                    if new {
                        Inserted::New
                    } else {
                        Inserted::Duplicate
                    },
                ));
            }
            answers.push(Ok(outcome));
        }
    }
    tx.commit()?;
    Ok(answers)
}

fn insert_one(
    stmt: &mut rusqlite::CachedStatement<'_>,
    r: &EventRecord,
) -> rusqlite::Result<usize> {
    stmt.execute(params![
        r.id,
        r.source,
        r.platform_event_id,
        r.event_type,
        r.status.as_str(),
        r.error,
        r.received_at_ms,
        r.envelope,
        r.payload,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EventLog;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_passes_the_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        super::super::conformance::run_all(store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_passes_the_queue_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        super::super::conformance::run_queue(store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_passes_the_retention_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        super::super::conformance::run_retention(store).await;
    }

    #[tokio::test]
    async fn data_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let store = SqliteStore::open(dir.path()).unwrap();
            let receipt = store
                .insert(
                    store.incoming(),
                    super::super::conformance::sample("stripe", "evt_reopen"),
                )
                .await
                .unwrap();
            receipt.events()[0].0.clone()
        };
        let store = SqliteStore::open(dir.path()).unwrap();
        assert!(store.get_event(&id).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn commits_are_checkpointed_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let db = dir.path().join("hookgate.db");
        let before = std::fs::metadata(&db).unwrap().len();
        for i in 0..50 {
            store
                .insert(
                    store.incoming(),
                    super::super::conformance::sample("stripe", &format!("evt_ck_{i}")),
                )
                .await
                .unwrap();
        }
        // Far below the writer's own threshold: only the background thread copies these
        // pages into the database file.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::fs::metadata(&db).unwrap().len() <= before {
            assert!(
                std::time::Instant::now() < deadline,
                "no checkpoint within 10 s: the database file stayed at {before} bytes"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// The data directory is 0700 and the database, its WAL and the lock file 0600, whatever
    /// the umask (issue 17 item 10).
    #[cfg(unix)]
    #[tokio::test]
    async fn the_store_is_private_to_its_user() {
        use std::os::unix::fs::PermissionsExt;
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("data");
        let store = SqliteStore::open(&dir).unwrap();
        store
            .insert(
                store.incoming(),
                super::super::conformance::sample("stripe", "evt_private"),
            )
            .await
            .unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        for file in ["hookgate.db", "hookgate.db-wal", "hookgate.lock"] {
            assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
        }
    }

    #[test]
    fn a_second_store_on_one_directory_is_refused_until_the_first_closes() {
        let dir = tempfile::tempdir().unwrap();
        let first = SqliteStore::open(dir.path()).unwrap();
        let err = SqliteStore::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("in use by another hookgate process"), "{err}");
        drop(first);
        SqliteStore::open(dir.path()).expect("free again once the first is closed");
    }

    #[test]
    fn the_writer_is_wal_with_full_fsync() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("t.db")).unwrap();
        configure_writer(&conn).unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn unwritable_directory_is_a_clear_error() {
        let err = SqliteStore::open(Path::new("/proc/hookgate-cannot-exist")).unwrap_err();
        assert!(
            err.to_string().contains("/proc/hookgate-cannot-exist"),
            "{err}"
        );
    }
}
