//! `[[schedules]]`: each cron tick becomes a stored event with one job for the schedule's
//! action, so a tick is as durable as a webhook. The store remembers the last tick of every
//! schedule (the newest tick event); after a restart the scheduler fires the ticks it missed
//! while down, and a tick stored twice (the same instant) is one event with one job, so no
//! tick is lost or fired twice.

use crate::config::ScheduleConfig;
use crate::model::{Clock, NewEvents, unix_ms};
use crate::store::EventLog;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Missed ticks fired after a long outage, at most; older ones are skipped with a warning (a
/// per-minute schedule down for a week should not fire ten thousand times at once).
const MAX_CATCH_UP: usize = 1000;

/// The tick after `after_ms` (exclusive), Unix ms.
pub fn next_tick(cron: &croner::Cron, after_ms: i64) -> Option<i64> {
    let after = DateTime::<Utc>::from_timestamp_millis(after_ms)?;
    cron.find_next_occurrence(&after, false)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Runs every schedule until `stop`, storing its ticks in `store` (on `clock`'s time) and
/// notifying `wake` (the delivery engine) after each.
pub fn start(
    schedules: &[ScheduleConfig],
    store: Arc<dyn EventLog>,
    wake: Arc<Notify>,
    clock: Arc<dyn Clock>,
    stop: watch::Receiver<bool>,
) {
    for schedule in schedules {
        let Some(cron) = schedule.cron.clone() else {
            continue;
        };
        tokio::spawn(run(
            schedule.name.clone(),
            schedule.cron_text.clone(),
            cron,
            store.clone(),
            wake.clone(),
            clock.clone(),
            stop.clone(),
        ));
    }
}

async fn run(
    name: String,
    cron_text: String,
    cron: croner::Cron,
    store: Arc<dyn EventLog>,
    wake: Arc<Notify>,
    clock: Arc<dyn Clock>,
    mut stop: watch::Receiver<bool>,
) {
    let source = crate::model::names::schedule_source(&name);
    let now = unix_ms(clock.now());
    // The last tick fired, from the store; a schedule that never fired starts now.
    let mut cursor = loop {
        match store.last_received(&source).await {
            Ok(last) => break last.unwrap_or(now),
            Err(e) => {
                tracing::error!(schedule = %name, error = %e, "cannot read the schedule's last tick; retrying");
                if sleep_or_stop(clock.as_ref(), Duration::from_secs(1), &mut stop).await {
                    return;
                }
            }
        }
    };
    let missed = count_missed(&cron, cursor, now);
    if missed > MAX_CATCH_UP {
        tracing::warn!(schedule = %name, missed, fired = MAX_CATCH_UP, "schedule missed many ticks while down; firing only the latest");
        cursor = skip_to_latest(&cron, cursor, now, MAX_CATCH_UP);
    } else if missed > 0 {
        tracing::info!(schedule = %name, missed, "firing ticks missed while hookgate was down");
    }
    tracing::info!(schedule = %name, cron = %cron_text, "schedule running");
    loop {
        let Some(tick) = next_tick(&cron, cursor) else {
            tracing::warn!(schedule = %name, "the cron expression has no further ticks");
            return;
        };
        let wait = tick - unix_ms(clock.now());
        if wait > 0
            && sleep_or_stop(
                clock.as_ref(),
                Duration::from_millis(wait as u64),
                &mut stop,
            )
            .await
        {
            return;
        }
        // The tick must be stored before it counts as fired: retry until the store takes it.
        loop {
            match store
                .insert(
                    store.incoming(),
                    NewEvents::scheduled_tick(&name, &cron_text, tick),
                )
                .await
            {
                Ok(_) => break,
                Err(e) => {
                    tracing::error!(schedule = %name, error = %e, "cannot store a tick; retrying");
                    if sleep_or_stop(clock.as_ref(), Duration::from_secs(1), &mut stop).await {
                        return;
                    }
                }
            }
        }
        tracing::debug!(schedule = %name, tick, "tick stored");
        wake.notify_one();
        cursor = tick;
    }
}

fn count_missed(cron: &croner::Cron, mut cursor: i64, now: i64) -> usize {
    let mut n = 0;
    while let Some(t) = next_tick(cron, cursor) {
        if t > now || n > MAX_CATCH_UP {
            break;
        }
        n += 1;
        cursor = t;
    }
    n
}

/// The cursor from which only the latest `keep` ticks up to `now` remain.
fn skip_to_latest(cron: &croner::Cron, cursor: i64, now: i64, keep: usize) -> i64 {
    let mut ticks = std::collections::VecDeque::with_capacity(keep + 1);
    let mut at = cursor;
    while let Some(t) = next_tick(cron, at) {
        if t > now {
            break;
        }
        ticks.push_back(t);
        if ticks.len() > keep + 1 {
            ticks.pop_front();
        }
        at = t;
    }
    if ticks.len() > keep {
        ticks.front().copied().unwrap_or(cursor)
    } else {
        cursor
    }
}

/// Sleeps; true when asked to stop meanwhile.
async fn sleep_or_stop(
    clock: &dyn Clock,
    duration: Duration,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    tokio::select! {
        () = clock.sleep(duration) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn ticks_follow_the_cron_expression() {
        let cron = croner::Cron::from_str("*/5 * * * *").unwrap();
        // 2023-11-14T22:13:20Z → next */5 is 22:15:00.
        let t = next_tick(&cron, 1_700_000_000_000).unwrap();
        assert_eq!(t, 1_700_000_100_000);
        // Exclusive: a tick is never returned for itself.
        assert_eq!(next_tick(&cron, t).unwrap(), t + 300_000);
    }

    #[test]
    fn missed_ticks_are_counted_and_capped() {
        let cron = croner::Cron::from_str("* * * * *").unwrap();
        let start = 1_700_000_040_000; // 22:14:00
        assert_eq!(count_missed(&cron, start, start + 10 * 60_000), 10);
        let day = 24 * 60 * 60_000;
        let cursor = skip_to_latest(&cron, start, start + day, 100);
        assert_eq!(count_missed(&cron, cursor, start + day), 100);
    }

    /// An event log that keeps the ticks it is given.
    #[derive(Debug)]
    struct Ticks {
        last: Option<i64>,
        stored: std::sync::Mutex<Vec<i64>>,
    }

    #[async_trait::async_trait]
    impl EventLog for Ticks {
        async fn insert(
            &self,
            _: crate::store::Incoming,
            events: NewEvents,
        ) -> Result<crate::store::Receipt, crate::store::StoreError> {
            let mut stored = self.stored.lock().unwrap();
            let ids = events
                .records()
                .iter()
                .map(|r| {
                    stored.push(r.received_at_ms);
                    (r.id.clone(), crate::store::Inserted::New)
                })
                .collect();
            Ok(crate::store::Receipt::committed(ids))
        }
        async fn get_event(
            &self,
            _: &crate::model::EventId,
        ) -> Result<Option<crate::model::EventRecord>, crate::store::StoreError> {
            Ok(None)
        }
        async fn last_received(&self, _: &str) -> Result<Option<i64>, crate::store::StoreError> {
            Ok(self.last)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn missed_ticks_fire_at_start_then_each_on_time_and_once() {
        // 22:13:20 on the wall clock; the last tick stored was 22:10:00, so 22:11, 22:12 and
        // 22:13 were missed while down; 22:14 … 22:23 come during the ten minutes it runs.
        let wall = std::time::UNIX_EPOCH + Duration::from_millis(1_700_000_000_000);
        let clock = crate::model::clock::TokioClock::starting_at(wall);
        let log = Arc::new(Ticks {
            last: Some(1_699_999_800_000),
            stored: Default::default(),
        });
        let schedule = ScheduleConfig {
            name: "minutely".into(),
            cron_text: "* * * * *".into(),
            cron: Some(croner::Cron::from_str("* * * * *").unwrap()),
            action: "forward".into(),
            config: Default::default(),
            retry_schedule: None,
            signing_secret: None,
        };
        let (stop, stopped) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        start(
            &[schedule],
            log.clone(),
            wake.clone(),
            Arc::new(clock),
            stopped,
        );
        tokio::time::sleep(Duration::from_secs(10 * 60)).await;
        stop.send(true).unwrap();
        let stored = log.stored.lock().unwrap().clone();
        let expected: Vec<i64> = (1..=13).map(|m| 1_699_999_800_000 + m * 60_000).collect();
        assert_eq!(
            stored, expected,
            "every minute once, none early, none twice"
        );
        // The engine was told about the ticks.
        tokio::time::timeout(Duration::from_millis(1), wake.notified())
            .await
            .expect("woken");
    }
}
