//! The event log on Redis: inserts go to the writer's batches (one script call each, see
//! [`super::Writer`]); an event is a hash, indexed by source for the schedules' last ticks.

use super::RedisStore;
use super::reply::Cells;
use crate::model::{EventId, EventRecord, EventStatus, NewEvents};
use crate::store::{EventLog, Incoming, Receipt, StoreError};

#[async_trait::async_trait]
impl EventLog for RedisStore {
    async fn insert(&self, _notice: Incoming, events: NewEvents) -> Result<Receipt, StoreError> {
        let written = self.writer.submit(events).await?;
        Ok(Receipt::committed(written))
    }

    async fn get_event(&self, id: &EventId) -> Result<Option<EventRecord>, StoreError> {
        let fields: Vec<redis::Value> = redis::cmd("HMGET")
            .arg(self.keys().event(id.as_str()))
            .arg(&[
                "source", "pid", "type", "status", "error", "received", "envelope", "payload",
            ])
            .query_async(&mut self.conn())
            .await?;
        let mut c = Cells::new(fields);
        let Some(source) = c.opt_text()? else {
            return Ok(None);
        };
        let platform_event_id = c.text()?;
        let event_type = c.text()?;
        let status_text = c.text()?;
        let status = EventStatus::parse(&status_text)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown event status {status_text:?}")))?;
        Ok(Some(EventRecord {
            id: id.clone(),
            source,
            platform_event_id,
            event_type,
            status,
            error: c.opt_text()?,
            received_at_ms: c.int()?,
            envelope: c.text()?,
            payload: c.bytes()?,
        }))
    }

    async fn last_received(&self, source: &str) -> Result<Option<i64>, StoreError> {
        let newest: Vec<(String, String)> = redis::cmd("ZRANGE")
            .arg(self.keys().events_of_source(source))
            .arg(-1)
            .arg(-1)
            .arg("WITHSCORES")
            .query_async(&mut self.conn())
            .await?;
        Ok(newest
            .first()
            .and_then(|(_, score)| score.parse::<i64>().ok()))
    }
}
