//! The event log on SQLite: inserts go to the writer thread and its group commit; reads use
//! the reader pool.

use super::{SqliteStore, WriteJob};
use crate::model::{EventId, EventRecord, EventStatus, NewEvents};
use crate::store::{EventLog, Incoming, Receipt, StoreError};
use rusqlite::OptionalExtension;

#[async_trait::async_trait]
impl EventLog for SqliteStore {
    fn incoming(&self) -> Incoming {
        self.writer.announce()
    }

    async fn insert(&self, notice: Incoming, events: NewEvents) -> Result<Receipt, StoreError> {
        // Withdrawn just before the job is queued, never after: a writer that received this
        // job while the notice still counted would wait out the rest of its commit window
        // for a request that has already arrived.
        drop(notice);
        let written = self.writer.submit(WriteJob::Insert(events)).await?;
        Ok(Receipt::committed(written))
    }

    async fn get_event(&self, id: &EventId) -> Result<Option<EventRecord>, StoreError> {
        let id = id.to_owned();
        let row = self
            .read(move |c| {
                c.query_row(
                    "SELECT id, source, platform_event_id, type, status, error, received_at_ms, envelope, payload
                     FROM events WHERE id = ?1",
                    [id],
                    |r| {
                        Ok((
                            EventRecord {
                                id: r.get(0)?,
                                source: r.get(1)?,
                                platform_event_id: r.get(2)?,
                                event_type: r.get(3)?,
                                status: EventStatus::Pending,
                                error: r.get(5)?,
                                received_at_ms: r.get(6)?,
                                envelope: r.get(7)?,
                                payload: r.get(8)?,
                            },
                            r.get::<_, String>(4)?,
                        ))
                    },
                )
                .optional()
            })
            .await?;
        row.map(|(mut event, status)| {
            event.status = EventStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown status {status:?}")))?;
            Ok(event)
        })
        .transpose()
    }

    async fn last_received(&self, source: &str) -> Result<Option<i64>, StoreError> {
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
