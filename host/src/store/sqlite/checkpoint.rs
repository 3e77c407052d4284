//! Checkpoints off the commit path. In WAL mode every commit appends pages to the WAL, and a
//! checkpoint copies them into the database file and fsyncs it. Run by the writer (SQLite's
//! default), a checkpoint of tens of MiB holds every acknowledgement of the batch behind it
//! for as long as it takes (measured: p99 over 100 ms with 15 KB events). Here a thread of
//! its own runs PASSIVE checkpoints, which never block the writer, shortly after commits;
//! the writer keeps a higher automatic threshold of its own only to finish the last few
//! pages, which lets the WAL start over from its beginning (a WAL that is never completely
//! checkpointed while writes continue would grow without bound).

use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender};
use std::time::{Duration, Instant};

/// Least time between two background checkpoints: each one ends with an fsync of the
/// database file, and one per commit would double the disk's flushes for little gain.
const MIN_INTERVAL: Duration = Duration::from_millis(50);

/// The writer's own automatic checkpoint threshold, in pages (16 MiB of 4 KiB pages): when the
/// WAL reaches it the writer checkpoints what the background thread has not (usually little)
/// so that the WAL can start over.
pub(super) const WRITER_AUTOCHECKPOINT_PAGES: u32 = 4096;

/// Handle to the checkpoint thread; dropping it stops the thread.
pub(super) struct Checkpointer {
    nudge: SyncSender<()>,
}

impl Checkpointer {
    /// Opens a connection of its own to `path` and starts the thread.
    pub(super) fn start(path: &Path) -> Result<Checkpointer, String> {
        let conn = Connection::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        // The checkpoint's own fsyncs; a passive checkpoint never waits for a lock.
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA busy_timeout = 0;")
            .map_err(|e| e.to_string())?;
        let (nudge, nudged) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("hookgate-sqlite-checkpoint".into())
            .spawn(move || run(conn, nudged))
            .map_err(|e| e.to_string())?;
        Ok(Checkpointer { nudge })
    }

    /// Tells the thread that a commit added pages. Never blocks: one pending nudge is enough.
    pub(super) fn nudge(&self) {
        // Full: a checkpoint is already due. Disconnected: the thread is gone, and the
        // writer's own threshold still bounds the WAL.
        let _ = self.nudge.try_send(());
    }
}

fn run(conn: Connection, nudged: Receiver<()>) {
    while nudged.recv().is_ok() {
        let started = Instant::now();
        // (busy, frames in the WAL, frames checkpointed): busy only means another
        // checkpoint (the writer's) was running; the next nudge tries again.
        let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        });
        match result {
            Ok((_, frames, done)) => {
                let metrics = crate::metrics::metrics();
                metrics
                    .store_checkpoint_latency
                    .observe(started.elapsed().as_secs_f64());
                metrics
                    .store_wal_backlog_pages
                    .set(frames.saturating_sub(done).max(0));
            }
            Err(e) => {
                tracing::warn!(error = %e, "background WAL checkpoint failed; retrying after the next commit")
            }
        }
        std::thread::sleep(MIN_INTERVAL.saturating_sub(started.elapsed()));
    }
}
