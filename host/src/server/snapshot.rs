//! The store's figures for `/metrics`, read at most every [`SNAPSHOT_MAX_AGE`] and by one
//! scrape at a time however many arrive: the store's counting is not free, and `/metrics`
//! may be reachable by anyone.

use crate::store::{QueueStats, Store};
use std::time::{Duration, Instant, SystemTime};

/// How old the store's figures in a scrape may be.
pub const SNAPSHOT_MAX_AGE: Duration = Duration::from_secs(5);

/// What the store says about itself.
#[derive(Debug, Clone, Copy)]
pub struct Figures {
    /// Queue depth, oldest due job, dead letters.
    pub queue: QueueStats,
    /// Bytes the store takes.
    pub bytes: u64,
}

/// The store's figures as last read, and the lock that lets one scrape at a time read them.
#[derive(Debug, Default)]
pub struct StoreSnapshot {
    last: tokio::sync::Mutex<Option<(Instant, i64, Figures)>>,
}

impl StoreSnapshot {
    /// The figures, read again when older than [`SNAPSHOT_MAX_AGE`]; `None` when the store
    /// cannot be read and no earlier figures exist. Returns them with the time (Unix ms) they
    /// were read at.
    pub async fn get(&self, store: &dyn Store) -> Option<(i64, Figures)> {
        // Held across the read: concurrent scrapes wait for this one's figures.
        let mut last = self.last.lock().await;
        if let Some((at, read_ms, stats)) = &*last
            && at.elapsed() < SNAPSHOT_MAX_AGE
        {
            return Some((*read_ms, *stats));
        }
        let now_ms = crate::model::unix_ms(SystemTime::now());
        let read = async {
            Ok::<_, crate::store::StoreError>(Figures {
                queue: store.queue_stats(now_ms).await?,
                bytes: store.size_bytes().await?,
            })
        };
        match read.await {
            Ok(stats) => {
                *last = Some((Instant::now(), now_ms, stats));
                Some((now_ms, stats))
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics: cannot read queue figures from the store");
                last.as_ref().map(|(_, ms, stats)| (*ms, *stats))
            }
        }
    }
}
