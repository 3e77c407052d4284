//! The delivery engine: leases due jobs from the store, runs each through its destination's
//! action plugin, records the attempt and moves the job on (delivered, retry at a time,
//! dead-lettered). Jobs waiting for anything — a retry time, an open circuit, a rate limit, a
//! disabled route, a free slot — wait in the store, never in memory.
//!
//! Crash safety: a leased job that is never finished (the process died) is pending again when
//! its lease expires (at once on the next start, for SQLite); the action then runs again with
//! the same `Idempotency-Key`. Delivery is at-least-once.
//!
//! On several nodes ([`Cluster::Shared`]) rate limits come from the cluster's buckets, an
//! opened circuit or a pause is published as a hold, and [`Deliverer::follow_shared_state`] merges the
//! other nodes' holds and disabled routes in about once a second.

use super::destinations::{Destination, Destinations, Wait};
use super::dlq::Dlq;
use super::recorder::Recorder;
use super::retry;
use super::shared;
use crate::cluster::Cluster;
use crate::egress::Egress;
use crate::ingest::RouteTable;
use crate::model::{AttemptOutcome, Clock, delivery_json, duration_ms, unix_ms};
use crate::runtime::{ActionOutcome, DeliveryRequest, Registry};
use crate::store::{Attempt, Finished, LeasedJob, Next, Store, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore, watch};

/// Deliveries in flight across all destinations.
const MAX_IN_FLIGHT: usize = crate::config::MAX_IN_FLIGHT_TOTAL as usize;
/// How often the store is polled for due jobs when nothing wakes the engine sooner.
const POLL: Duration = Duration::from_millis(250);
/// How long a job waits when its action plugin is not loaded (not counted as an attempt).
const MISSING_PLUGIN_WAIT: Duration = Duration::from_secs(5);
/// Waits on a rate-limited destination when it did not say how long.
const DEFAULT_RATE_LIMIT_PAUSE: Duration = Duration::from_secs(1);

/// The delivery engine.
pub struct Deliverer {
    store: Arc<dyn Store>,
    recorder: Recorder,
    registry: Arc<Registry>,
    egress: Arc<Egress>,
    destinations: Destinations,
    dlq: Dlq,
    slots: Arc<Semaphore>,
    wake: Arc<Notify>,
    lease: Duration,
    cluster: Cluster,
    /// The wall clock of due times and attempt times (monotonic waits — circuits, pauses —
    /// use [`Instant`]): passed in, so a test can move a retry hours ahead without waiting.
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer")
            .field("destinations", &self.destinations)
            .finish_non_exhaustive()
    }
}

/// Margin of a lease over the longest possible attempt.
const LEASE_SLACK: Duration = Duration::from_secs(10);

/// Payloads larger than this are joined into the event JSON and rendered into the route's
/// config off the async runtime.
const INLINE_PREPARE_BYTES: usize = 256 * 1024;

/// The event JSON an action is handed, and the route's config rendered for it.
fn prepare(
    job: &LeasedJob,
    config: &crate::config::ActionConfig,
) -> (Vec<u8>, Result<Arc<str>, crate::config::ConfigRenderError>) {
    let event_json = delivery_json(&job.envelope, &job.payload);
    let rendered = config.render(&event_json, &job.route);
    (event_json, rendered)
}

impl Deliverer {
    /// An engine for `destinations`; routes disabled in the store stay disabled.
    pub async fn new(
        store: Arc<dyn Store>,
        registry: Arc<Registry>,
        egress: Arc<Egress>,
        destinations: std::collections::HashMap<String, Destination>,
        routes: RouteTable,
        cluster: Cluster,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Deliverer>, StoreError> {
        // A shared store may be unreachable at start: the gateway still starts (ingest answers
        // 503, /ready fails) and leases once the store answers.
        let disabled: Vec<(String, String)> = match store.disabled_routes().await {
            Ok(routes) => routes.into_iter().map(|d| (d.route, d.reason)).collect(),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the disabled routes at start; assuming none until the store answers");
                Vec::new()
            }
        };
        for (route, reason) in &disabled {
            tracing::warn!(
                route,
                reason,
                "route is disabled; re-enable it with POST /admin/routes/{route}/enable"
            );
        }
        // A lease must outlast the longest attempt, which the action runtime bounds by the
        // outbound timeout plus ten times the plugin's CPU budget plus a second (its wall-clock
        // backstop); the slack covers scheduling. It is also how long a crashed node's jobs
        // wait before another node takes them (21 s with the defaults).
        let call_timeout = registry.runtime().limits().call_timeout;
        let lease = egress.total_timeout() + call_timeout * 10 + LEASE_SLACK;
        let wake = Arc::new(Notify::new());
        Ok(Arc::new(Deliverer {
            recorder: Recorder::start(store.clone())?,
            dlq: Dlq::new(store.clone(), routes, wake.clone(), clock.clone()),
            store,
            registry,
            egress,
            destinations: Destinations::new(destinations, &disabled, &cluster),
            slots: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            wake,
            lease,
            cluster,
            clock,
        }))
    }

    /// Tells the engine that new jobs may be due (after an ingest or a replay).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The handle [`Deliverer::wake`] notifies, for ingest to wake the engine without
    /// knowing it.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// The wall clock the engine runs on (the scheduler shares it).
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Now on the engine's clock, Unix ms.
    fn now_ms(&self) -> i64 {
        unix_ms(self.clock.now())
    }

    /// The dead-letter queue, replaying into this engine.
    pub fn dlq(&self) -> &Dlq {
        &self.dlq
    }

    /// The destinations' live state.
    pub fn destinations(&self) -> &Destinations {
        &self.destinations
    }

    /// Follows the other nodes' holds and the store's disabled routes (every
    /// [`shared::REFRESH`]) until `stop`. The composition root runs it beside [`Deliverer::run`].
    pub async fn follow_shared_state(self: Arc<Self>, stop: watch::Receiver<bool>) {
        shared::follow(
            self.store.as_ref(),
            &self.cluster,
            &self.destinations,
            &self.wake,
            stop,
        )
        .await;
    }

    /// Runs until `stop` turns true, then waits (up to `drain`) for deliveries in flight.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>, drain: Duration) {
        let mut store_down_since: Option<Instant> = None;
        while !*stop.borrow() {
            let now = Instant::now();
            let free = self
                .slots
                .available_permits()
                .min(self.destinations.capacity(now));
            let mut leased = 0;
            if free > 0 {
                let skip = self.destinations.waiting(now);
                let now_ms = self.now_ms();
                match self.store.lease(now_ms, self.lease, free, skip).await {
                    Ok(jobs) => {
                        if store_down_since.take().is_some() {
                            tracing::info!("delivery engine reaches the store again");
                        }
                        leased = jobs.len();
                        for job in jobs {
                            self.clone().dispatch(job).await;
                        }
                    }
                    Err(e) => {
                        if store_down_since.is_none() {
                            tracing::error!(error = %e, "delivery engine cannot lease jobs; retrying");
                            store_down_since = Some(Instant::now());
                        }
                    }
                }
            }
            if leased == 0 || free == 0 {
                tokio::select! {
                    () = self.wake.notified() => {}
                    () = self.clock.sleep(POLL) => {}
                    _ = stop.changed() => {}
                }
            }
        }
        let all = u32::try_from(MAX_IN_FLIGHT).unwrap_or(u32::MAX);
        if tokio::time::timeout(drain, self.slots.acquire_many(all))
            .await
            .is_err()
        {
            tracing::warn!(
                "deliveries still in flight at shutdown; their leases expire and they run again"
            );
        }
    }

    /// Starts one leased job, or hands it back to the store when its destination cannot
    /// take it now.
    async fn dispatch(self: Arc<Self>, job: LeasedJob) {
        let Some(destination) = self.destinations.get(&job.route) else {
            let error = format!("route {:?} is no longer configured", job.route);
            let attempt = Attempt {
                number: job.attempts + 1,
                route: job.route.clone(),
                started_at_ms: self.now_ms(),
                duration_ms: 0,
                outcome: AttemptOutcome::Refused,
                http_status: None,
                error: Some(error.clone()),
            };
            tracing::warn!(event_id = %job.event_id, route = %job.route, "dead-lettered: route no longer configured");
            crate::metrics::metrics().attempt(&job.route, AttemptOutcome::Refused, Duration::ZERO);
            self.finish(&job, attempt, Next::DeadLetter(error)).await;
            return;
        };
        if self.registry.action(&destination.action).is_none() {
            tracing::warn!(route = %job.route, action = %destination.action, "action plugin not loaded; delivery waits");
            self.defer(&job, MISSING_PLUGIN_WAIT).await;
            return;
        }
        if let Err(wait) =
            shared::take_delivery_token(&self.cluster, &self.destinations, destination).await
        {
            self.defer(&job, wait).await;
            return;
        }
        let now = Instant::now();
        if let Err(wait) = self.destinations.begin(&job.route, now) {
            let until = match wait {
                Wait::Until(t) => t,
                Wait::Busy => now + Duration::from_millis(50),
                Wait::Disabled => now + POLL,
            };
            self.defer(&job, until.saturating_duration_since(now)).await;
            return;
        }
        let permit = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the slot semaphore is never closed");
        tokio::spawn(async move {
            self.attempt(job).await;
            drop(permit);
            self.wake();
        });
    }

    /// Runs one attempt and records it.
    async fn attempt(&self, job: LeasedJob) {
        let Some(destination) = self.destinations.get(&job.route) else {
            return;
        };
        let Some(plugin) = self.registry.action(&destination.action) else {
            self.destinations
                .end(&job.route, Instant::now(), true, None);
            self.defer(&job, MISSING_PLUGIN_WAIT).await;
            return;
        };
        let number = job.attempts + 1;
        let started = self.clock.now();
        let timer = Instant::now();
        let (job, event_json, rendered) = if job.payload.len() > INLINE_PREPARE_BYTES {
            // Joining and rendering a large payload (a 25 MB GitHub push) takes milliseconds
            // of CPU: on a blocking thread, not on a worker that serves requests.
            let (config, route) = (destination.config.clone(), job.route.clone());
            match tokio::task::spawn_blocking(move || {
                let (event_json, rendered) = prepare(&job, &config);
                (job, event_json, rendered)
            })
            .await
            {
                Ok(prepared) => prepared,
                // Only a panic ends the task early; the job's lease expires and it runs again.
                Err(e) => {
                    tracing::error!(route = %route, error = %e, "preparing a delivery failed; the job runs again when its lease expires");
                    self.destinations.end(&route, Instant::now(), true, None);
                    return;
                }
            }
        } else {
            let (event_json, rendered) = prepare(&job, &destination.config);
            (job, event_json, rendered)
        };
        let outcome = match rendered {
            // A template that cannot render for this event will not render on a retry
            // either: dead-lettered with the route, key and expression, replayable once the
            // config is fixed.
            Err(e) => ActionOutcome::Permanent {
                reason: format!("route {}: {e}", job.route),
                http_status: None,
            },
            Ok(config_json) => {
                let request = DeliveryRequest {
                    event_json,
                    event_id: job.event_id.to_string(),
                    event_type: job.event_type.clone(),
                    route: job.route.clone(),
                    config_json: config_json.to_string(),
                    signing_secret: destination.signing_secret.clone(),
                    attempt: number,
                    now_unix_ms: u64::try_from(unix_ms(started)).unwrap_or(0),
                };
                match plugin
                    .run(self.registry.runtime(), self.egress.clone(), request)
                    .await
                {
                    Ok(run) => run.outcome,
                    Err(fault) => ActionOutcome::Retryable {
                        reason: format!("action plugin fault ({}): {fault}", fault.kind()),
                        http_status: None,
                        after: None,
                    },
                }
            }
        };
        // Whatever the action wrote, no secret of its config reaches the attempt history,
        // the dead-letter queue or a log line.
        let outcome = outcome.redacted(|reason| destination.config.redact(reason).into_owned());
        let elapsed = timer.elapsed();
        crate::metrics::metrics().attempt(&job.route, outcome.kind(), elapsed);
        let now = Instant::now();
        let (healthy, pause) = match &outcome {
            // Delivered with the quota spent: the route waits for the reset rather than
            // spending its next attempt on a 429.
            ActionOutcome::Delivered { pause, .. } => {
                (true, pause.map(|p| p.min(retry::MAX_RETRY_AFTER)))
            }
            ActionOutcome::Permanent { .. } | ActionOutcome::Gone { .. } => (true, None),
            ActionOutcome::Retryable { .. } => (false, None),
            ActionOutcome::RateLimited { after, .. } => (
                true,
                Some(
                    after
                        .unwrap_or(DEFAULT_RATE_LIMIT_PAUSE)
                        .min(retry::MAX_RETRY_AFTER),
                ),
            ),
        };
        let opened = self.destinations.end(&job.route, now, healthy, pause);
        if opened {
            tracing::warn!(route = %job.route, "circuit opened: too many consecutive failures");
        }
        if opened || pause.is_some() {
            shared::publish_hold(&self.cluster, &self.destinations, &job.route).await;
        }
        let next = self.next_step(&job, destination, number, &outcome).await;
        let log_reason = outcome.reason().unwrap_or("");
        match &next {
            Next::Delivered => {
                tracing::info!(event_id = %job.event_id, route = %job.route, attempt = number, http_status = outcome.http_status().unwrap_or_default(), ms = elapsed.as_millis() as u64, "delivered")
            }
            Next::RetryAt(at) => {
                tracing::warn!(event_id = %job.event_id, route = %job.route, attempt = number, outcome = %outcome.kind(), http_status = outcome.http_status().unwrap_or_default(), reason = log_reason, retry_in_ms = at - self.now_ms(), "delivery failed; will retry")
            }
            Next::DeadLetter(error) => {
                tracing::error!(event_id = %job.event_id, route = %job.route, attempt = number, outcome = %outcome.kind(), error = %error, "delivery dead-lettered")
            }
        }
        let attempt = Attempt {
            number,
            route: job.route.clone(),
            started_at_ms: unix_ms(started),
            duration_ms: duration_ms(elapsed),
            outcome: outcome.kind(),
            http_status: outcome.http_status(),
            error: outcome.reason().map(str::to_owned),
        };
        self.finish(&job, attempt, next).await;
    }

    /// What follows an attempt; a 410 also disables the route.
    async fn next_step(
        &self,
        job: &LeasedJob,
        destination: &Destination,
        number: u32,
        outcome: &ActionOutcome,
    ) -> Next {
        match outcome {
            ActionOutcome::Delivered { .. } => Next::Delivered,
            ActionOutcome::Retryable { reason, after, .. }
            | ActionOutcome::RateLimited { reason, after, .. } => {
                let delay = retry::next_delay(
                    &destination.retry_schedule,
                    number,
                    *after,
                    retry::jitter_unit(),
                );
                match delay {
                    Some(delay) => Next::RetryAt(self.now_ms().saturating_add(duration_ms(delay))),
                    None => Next::DeadLetter(format!("gave up after {number} attempts: {reason}")),
                }
            }
            ActionOutcome::Permanent { reason, .. } => Next::DeadLetter(reason.clone()),
            ActionOutcome::Gone { reason, .. } => {
                let why = format!("destination is gone (410): {reason}");
                self.destinations.disable(&job.route, &why);
                tracing::error!(route = %job.route, reason = %why, "route disabled: its destination answered 410 Gone; jobs wait until POST /admin/routes/{}/enable", job.route);
                match self
                    .store
                    .disable_route(&job.route, &why, self.now_ms())
                    .await
                {
                    Ok(()) => self.destinations.disable_stored(&job.route),
                    Err(e) => {
                        tracing::error!(route = %job.route, error = %e, "cannot persist the disabled route; retrying")
                    }
                }
                Next::DeadLetter(why)
            }
        }
    }

    async fn finish(&self, job: &LeasedJob, attempt: Attempt, next: Next) {
        let finished = Finished {
            job_id: job.id,
            lease_until_ms: job.lease_until_ms,
            attempt,
            next,
        };
        match self.recorder.record(finished).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(event_id = %job.event_id, route = %job.route, "lease lost before the attempt was recorded; another worker owns the job")
            }
            Err(e) => {
                tracing::error!(event_id = %job.event_id, route = %job.route, error = %e, "cannot record the attempt; the job runs again when its lease expires")
            }
        }
    }

    async fn defer(&self, job: &LeasedJob, wait: Duration) {
        let due = self.now_ms().saturating_add(duration_ms(wait));
        if let Err(e) = self.store.defer(job.id, job.lease_until_ms, due).await {
            tracing::warn!(event_id = %job.event_id, error = %e, "cannot hand a job back; it runs when its lease expires");
        }
    }
}
