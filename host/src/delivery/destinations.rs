//! Where jobs go: every configured route, and every schedule (as `schedule:<name>`), with the
//! live state that decides whether a destination takes work right now — its circuit breaker,
//! its token bucket, a pause a rate-limited destination asked for, its deliveries in flight,
//! and whether a 410 disabled it.
//!
//! On a node of a cluster ([`Cluster::Shared`]) part of that state comes from the other nodes,
//! merged in by [`super::shared`]: a *hold* (some node's circuit opened, or the destination
//! asked for a pause) blocks the route like this node's own breaker would, the rate limit is
//! the cluster's bucket (this node only remembers how long the bucket told it to wait), and
//! disabled routes follow the store. The breaker itself stays per node: it counts this node's
//! own consecutive failures.
//!
//! A local change (a 410 disabling the route, an operator re-enabling it) always wins over a
//! view of the store read before it: the store write that follows it may not have landed
//! yet, and undoing the change for a refresh interval would send deliveries to a destination
//! that said it is gone.

use super::breaker::{Breaker, CircuitState};
use crate::cluster::Cluster;
use crate::cluster::TokenBucket;
use crate::config::{ActionConfig, BreakerConfig, Config, RateLimit, Secret};
use crate::model::names::schedule_source;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A route or schedule, as the delivery engine needs it.
#[derive(Debug)]
pub struct Destination {
    /// Route name, or `schedule:<name>`.
    pub name: String,
    /// Action plugin name.
    pub action: String,
    /// The action's config, rendered per delivery.
    pub config: ActionConfig,
    /// Standard Webhooks signing secret (its `Debug` is redacted, like every [`Secret`]).
    pub signing_secret: Option<Secret>,
    /// Delays between attempts.
    pub retry_schedule: Vec<Duration>,
    rate_limit: Option<RateLimit>,
    breaker: BreakerConfig,
    /// Deliveries it may have in flight: a slow destination holds at most this many of the
    /// engine's slots, the rest keep serving healthy ones.
    max_in_flight: usize,
}

impl Destination {
    /// Its delivery rate limit, if it has one.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.rate_limit
    }
}

/// Every destination of a config, by name.
pub fn from_config(config: &Config) -> HashMap<String, Destination> {
    let schedule = |s: &Option<Vec<Duration>>| {
        s.clone()
            .unwrap_or_else(|| super::retry::DEFAULT_SCHEDULE.to_vec())
    };
    let routes = config.routes.iter().map(|r| Destination {
        name: r.name.clone(),
        action: r.action.clone(),
        config: r.config.clone(),
        signing_secret: r.signing_secret.clone(),
        retry_schedule: schedule(&r.retry_schedule),
        rate_limit: r.rate_limit,
        breaker: r.breaker,
        max_in_flight: r.max_in_flight as usize,
    });
    let schedules = config.schedules.iter().map(|s| Destination {
        name: schedule_source(&s.name),
        action: s.action.clone(),
        config: s.config.clone(),
        signing_secret: s.signing_secret.clone(),
        retry_schedule: schedule(&s.retry_schedule),
        rate_limit: None,
        breaker: BreakerConfig::default(),
        // A tick at a time is what a schedule means.
        max_in_flight: 1,
    });
    routes
        .chain(schedules)
        .map(|d| (d.name.clone(), d))
        .collect()
}

/// Live state of one destination.
#[derive(Debug)]
struct Live {
    breaker: Breaker,
    /// The node's own bucket; `None` without a rate limit, and in a cluster (whose bucket is
    /// shared).
    bucket: Option<TokenBucket>,
    /// Until when the cluster's bucket said to wait (so the lease query skips the route
    /// meanwhile instead of leasing its jobs only to hand them back).
    token_wait_until: Option<Instant>,
    paused_until: Option<Instant>,
    /// A cluster-wide hold (from any node, this one included).
    held_until: Option<Instant>,
    in_flight: usize,
    max_in_flight: usize,
    disabled: Option<String>,
    /// Whether the store is known to hold `disabled` (false after a 410 until its write is
    /// confirmed, so a refresh retries the write instead of re-enabling the route).
    disable_stored: bool,
    /// When this node last disabled or enabled the route itself.
    changed_at: Option<Instant>,
}

/// What an operator sees of a destination: one entry of `GET /admin/routes`, as served and as
/// admin clients read it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestinationStatus {
    /// Name.
    pub name: String,
    /// Action plugin.
    pub action: String,
    /// Circuit state.
    pub circuit: CircuitState,
    /// Deliveries in flight.
    pub in_flight: usize,
    /// Milliseconds until a rate-limit pause (a 429 this node got) ends, if paused.
    pub paused_for_ms: Option<u128>,
    /// Milliseconds until a cluster-wide hold ends (some node's circuit opened or it got a
    /// 429): no node delivers along the route meanwhile. Absent when alone or not held.
    pub held_for_ms: Option<u128>,
    /// Why it is disabled, if it is.
    pub disabled: Option<String>,
}

/// What a refresh from the store changed (see [`Destinations::sync_disabled`]).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DisabledSync {
    /// Routes another node disabled, with the reason.
    pub disabled: Vec<(String, String)>,
    /// Routes re-enabled through another node.
    pub enabled: Vec<String>,
    /// Routes this node disabled whose store write is not confirmed: write them again.
    pub unstored: Vec<(String, String)>,
}

/// Why a destination takes no work right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Until this instant (circuit open, rate limit, pause).
    Until(Instant),
    /// Until a delivery in flight finishes.
    Busy,
    /// Until an operator re-enables it.
    Disabled,
}

/// The live state of every destination.
#[derive(Debug)]
pub struct Destinations {
    config: HashMap<String, Destination>,
    live: Mutex<HashMap<String, Live>>,
}

impl Destinations {
    /// State for `config`'s destinations, with `disabled` (from the store) already disabled.
    /// In a shared `cluster` the rate limits are the cluster's buckets, not the node's.
    pub fn new(
        config: HashMap<String, Destination>,
        disabled: &[(String, String)],
        cluster: &Cluster,
    ) -> Self {
        let local_buckets = cluster.shared().is_none();
        let mut live: HashMap<String, Live> = config
            .values()
            .map(|d| {
                let state = Live {
                    breaker: Breaker::new(d.breaker),
                    bucket: d
                        .rate_limit
                        .filter(|_| local_buckets)
                        .map(|r| TokenBucket::new(r.per_second, r.burst)),
                    token_wait_until: None,
                    paused_until: None,
                    held_until: None,
                    in_flight: 0,
                    max_in_flight: d.max_in_flight.max(1),
                    disabled: None,
                    disable_stored: true,
                    changed_at: None,
                };
                (d.name.clone(), state)
            })
            .collect();
        for (name, reason) in disabled {
            if let Some(state) = live.get_mut(name) {
                state.disabled = Some(reason.clone());
            }
        }
        Destinations {
            config,
            live: Mutex::new(live),
        }
    }

    /// A destination by name.
    pub fn get(&self, name: &str) -> Option<&Destination> {
        self.config.get(name)
    }

    /// Destinations that take no work now: the lease query skips their jobs, which wait in
    /// the store.
    pub fn waiting(&self, now: Instant) -> Vec<String> {
        let live = self.live.lock().expect("lock poisoned");
        live.iter()
            .filter(|(_, state)| wait(state, now).is_some())
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Deliveries the destinations that take work now could start: leasing more would only
    /// hand jobs back.
    pub fn capacity(&self, now: Instant) -> usize {
        if self.config.is_empty() {
            // Only jobs of routes removed from the config can be due; let them be leased, so
            // they are dead-lettered with a reason instead of pending forever.
            return usize::MAX;
        }
        let live = self.live.lock().expect("lock poisoned");
        live.values()
            .filter(|state| wait(state, now).is_none())
            .map(|state| state.max_in_flight.saturating_sub(state.in_flight))
            .sum()
    }

    /// Whether `name` would take a delivery now, without claiming anything.
    pub fn check(&self, name: &str, now: Instant) -> Result<(), Wait> {
        let live = self.live.lock().expect("lock poisoned");
        match live.get(name).and_then(|state| wait(state, now)) {
            Some(w) => Err(w),
            None => Ok(()),
        }
    }

    /// Records that the cluster's bucket of `name` has no token before `until`.
    pub fn token_wait(&self, name: &str, until: Instant) {
        if let Some(state) = self.live.lock().expect("lock poisoned").get_mut(name) {
            state.token_wait_until = Some(state.token_wait_until.map_or(until, |t| t.max(until)));
        }
    }

    /// How long this node's own state (its breaker, a pause it was asked for) keeps `name`
    /// from delivering: what it publishes as a hold.
    pub fn blocked_for(&self, name: &str, now: Instant) -> Option<Duration> {
        let live = self.live.lock().expect("lock poisoned");
        let state = live.get(name)?;
        let breaker = state.breaker.blocked_until(now);
        let paused = state.paused_until.filter(|p| *p > now);
        let until = breaker.max(paused)?;
        Some(until.saturating_duration_since(now)).filter(|d| !d.is_zero())
    }

    /// Replaces the cluster's holds with `holds` (route, time left), read at `now`; returns
    /// whether a hold was lifted.
    pub fn set_holds(&self, holds: &[(String, Duration)], now: Instant) -> bool {
        let mut live = self.live.lock().expect("lock poisoned");
        let mut lifted = false;
        for (name, state) in live.iter_mut() {
            let held = holds
                .iter()
                .find(|(route, _)| route == name)
                .map(|(_, left)| now + *left);
            lifted |= held.is_none() && state.held_until.is_some_and(|h| h > now);
            state.held_until = held;
        }
        lifted
    }

    /// Claims a delivery slot of `name` (taking a rate-limit token and, when half-open, the
    /// probe), or says how long to wait.
    pub fn begin(&self, name: &str, now: Instant) -> Result<(), Wait> {
        let mut live = self.live.lock().expect("lock poisoned");
        let Some(state) = live.get_mut(name) else {
            return Ok(());
        };
        if let Some(w) = wait(state, now) {
            return Err(w);
        }
        if let Some(bucket) = &state.bucket
            && let Err(after) = bucket.try_acquire()
        {
            return Err(Wait::Until(now + after));
        }
        state.in_flight += 1;
        state.breaker.on_start(now);
        Ok(())
    }

    /// Records the end of a delivery. `healthy` is whether the destination answered like a
    /// live service (success, or a definite refusal); `pause` is a wait it asked for. Returns
    /// true when this failure opened the circuit.
    pub fn end(&self, name: &str, now: Instant, healthy: bool, pause: Option<Duration>) -> bool {
        let mut live = self.live.lock().expect("lock poisoned");
        let Some(state) = live.get_mut(name) else {
            return false;
        };
        state.in_flight = state.in_flight.saturating_sub(1);
        if let Some(pause) = pause {
            let until = now + pause;
            state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
        }
        if healthy {
            state.breaker.on_success(now);
            false
        } else {
            state.breaker.on_failure(now)
        }
    }

    /// Marks a destination disabled (its jobs wait in the store) until the store is known
    /// to say so too ([`Destinations::disable_stored`]).
    pub fn disable(&self, name: &str, reason: &str) {
        if let Some(state) = self.live.lock().expect("lock poisoned").get_mut(name) {
            state.disabled = Some(reason.to_owned());
            state.disable_stored = false;
            state.changed_at = Some(Instant::now());
        }
    }

    /// Records that the store holds the disabled state of `name`.
    pub fn disable_stored(&self, name: &str) {
        if let Some(state) = self.live.lock().expect("lock poisoned").get_mut(name) {
            state.disable_stored = true;
        }
    }

    /// Re-enables a destination; whether it exists.
    pub fn enable(&self, name: &str) -> bool {
        match self.live.lock().expect("lock poisoned").get_mut(name) {
            Some(state) => {
                reset(state);
                state.changed_at = Some(Instant::now());
                true
            }
            None => false,
        }
    }

    /// Follows the store's disabled routes (`stored`: route, reason), as read starting at
    /// `read_at`: routes another node disabled or re-enabled change here too, except where this
    /// node changed the route itself since `read_at` (the read may predate that change's
    /// store write). A route this node disabled whose write is not confirmed is not
    /// re-enabled but reported for writing again.
    pub fn sync_disabled(&self, stored: &[(String, String)], read_at: Instant) -> DisabledSync {
        let stored: HashMap<&str, &str> = stored
            .iter()
            .map(|(route, reason)| (route.as_str(), reason.as_str()))
            .collect();
        let mut live = self.live.lock().expect("lock poisoned");
        let mut out = DisabledSync::default();
        for (name, state) in live.iter_mut() {
            if state.changed_at.is_some_and(|at| at >= read_at) {
                continue;
            }
            match (stored.get(name.as_str()), &state.disabled) {
                (Some(_), Some(_)) => state.disable_stored = true,
                (Some(reason), None) => {
                    state.disabled = Some((*reason).to_owned());
                    state.disable_stored = true;
                    out.disabled.push((name.clone(), (*reason).to_owned()));
                }
                (None, Some(reason)) if !state.disable_stored => {
                    out.unstored.push((name.clone(), reason.clone()));
                }
                (None, Some(_)) => {
                    reset(state);
                    out.enabled.push(name.clone());
                }
                (None, None) => {}
            }
        }
        out.disabled.sort();
        out.enabled.sort();
        out.unstored.sort();
        out
    }

    /// The status of every destination, by name.
    pub fn status(&self, now: Instant) -> Vec<DestinationStatus> {
        let live = self.live.lock().expect("lock poisoned");
        let mut all: Vec<DestinationStatus> = self
            .config
            .values()
            .map(|d| {
                let state = live.get(&d.name);
                DestinationStatus {
                    name: d.name.clone(),
                    action: d.action.clone(),
                    circuit: state.map_or(CircuitState::Closed, |s| s.breaker.state(now)),
                    in_flight: state.map_or(0, |s| s.in_flight),
                    paused_for_ms: state
                        .and_then(|s| s.paused_until)
                        .filter(|p| *p > now)
                        .map(|p| (p - now).as_millis()),
                    held_for_ms: state
                        .and_then(|s| s.held_until)
                        .filter(|h| *h > now)
                        .map(|h| (h - now).as_millis()),
                    disabled: state.and_then(|s| s.disabled.clone()),
                }
            })
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }
}

/// A route enabled again starts afresh, with its circuit closed.
fn reset(state: &mut Live) {
    state.disabled = None;
    state.disable_stored = true;
    state.breaker.reset();
}

fn wait(state: &Live, now: Instant) -> Option<Wait> {
    if state.disabled.is_some() {
        return Some(Wait::Disabled);
    }
    if state.in_flight >= state.max_in_flight {
        return Some(Wait::Busy);
    }
    let mut until = state.breaker.blocked_until(now);
    for other in [state.paused_until, state.held_until, state.token_wait_until] {
        if let Some(t) = other.filter(|t| *t > now) {
            until = Some(until.map_or(t, |u| u.max(t)));
        }
    }
    if let Some(bucket) = &state.bucket {
        let ready = bucket.ready_in();
        if !ready.is_zero() {
            until = Some(until.map_or(now + ready, |u| u.max(now + ready)));
        }
    }
    until.map(Wait::Until)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{SharedState, Token};
    use crate::store::StoreError;
    use std::sync::Arc;

    fn one(rate_limit: Option<RateLimit>) -> HashMap<String, Destination> {
        let d = Destination {
            name: "crm".into(),
            action: "forward".into(),
            config: ActionConfig::default(),
            signing_secret: None,
            retry_schedule: vec![],
            rate_limit,
            breaker: BreakerConfig {
                min_attempts: 1,
                probes: 1,
                cooldown: Duration::from_secs(10),
                ..BreakerConfig::default()
            },
            max_in_flight: 4,
        };
        HashMap::from([(d.name.clone(), d)])
    }

    /// Never called: only its presence matters to `Destinations::new`.
    #[derive(Debug)]
    struct Unused;

    #[async_trait::async_trait]
    impl SharedState for Unused {
        async fn take_token(&self, _: &str, _: RateLimit) -> Result<Token, StoreError> {
            unreachable!()
        }
        async fn hold(&self, _: &str, _: Duration) -> Result<Duration, StoreError> {
            unreachable!()
        }
        async fn holds(&self) -> Result<Vec<(String, Duration)>, StoreError> {
            unreachable!()
        }
    }

    const LIMIT: RateLimit = RateLimit {
        per_second: 0.001,
        burst: 1,
    };

    #[test]
    fn alone_the_node_bucket_limits_in_a_cluster_it_does_not() {
        let alone = Destinations::new(one(Some(LIMIT)), &[], &Cluster::Local);
        let now = Instant::now();
        alone.begin("crm", now).unwrap();
        alone.end("crm", now, true, None);
        assert!(matches!(alone.begin("crm", now), Err(Wait::Until(_))));

        let cluster = Cluster::Shared(Arc::new(Unused));
        let node = Destinations::new(one(Some(LIMIT)), &[], &cluster);
        for _ in 0..3 {
            node.begin("crm", now).unwrap();
            node.end("crm", now, true, None);
        }
        // What the cluster's bucket said is remembered, and keeps the route out of leases.
        node.token_wait("crm", now + Duration::from_secs(2));
        assert_eq!(node.waiting(now), ["crm"]);
        assert_eq!(
            node.begin("crm", now),
            Err(Wait::Until(now + Duration::from_secs(2)))
        );
        assert!(node.waiting(now + Duration::from_secs(3)).is_empty());
    }

    #[test]
    fn a_hold_blocks_like_an_open_circuit_until_it_ends_or_is_lifted() {
        let node = Destinations::new(one(None), &[], &Cluster::Local);
        let now = Instant::now();
        assert!(!node.set_holds(&[("crm".into(), Duration::from_secs(5))], now));
        assert_eq!(
            node.check("crm", now),
            Err(Wait::Until(now + Duration::from_secs(5)))
        );
        let status = &node.status(now)[0];
        assert_eq!(status.held_for_ms, Some(5000));
        assert_eq!(
            status.circuit,
            CircuitState::Closed,
            "the breaker is this node's"
        );
        assert!(node.check("crm", now + Duration::from_secs(6)).is_ok());
        // Lifted (the hold ended on the backend): reported so the engine looks at once.
        assert!(node.set_holds(&[], now + Duration::from_secs(1)));
        assert!(node.check("crm", now + Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn own_block_is_what_gets_published() {
        let node = Destinations::new(one(None), &[], &Cluster::Local);
        let now = Instant::now();
        assert_eq!(node.blocked_for("crm", now), None);
        node.begin("crm", now).unwrap();
        assert!(
            node.end("crm", now, false, None),
            "one failure opens (failures = 1)"
        );
        assert_eq!(node.blocked_for("crm", now), Some(Duration::from_secs(10)));
        node.begin("crm", now + Duration::from_secs(11)).unwrap();
        node.end(
            "crm",
            now + Duration::from_secs(11),
            true,
            Some(Duration::from_secs(30)),
        );
        assert_eq!(
            node.blocked_for("crm", now + Duration::from_secs(11)),
            Some(Duration::from_secs(30)),
            "a 429's pause"
        );
    }

    #[test]
    fn disabled_routes_follow_the_store_but_never_undo_a_newer_local_change() {
        let node = Destinations::new(one(None), &[], &Cluster::Local);
        let gone = vec![("crm".to_owned(), "410".to_owned())];
        // Another node disabled it.
        let sync = node.sync_disabled(&gone, Instant::now());
        assert_eq!(sync.disabled, gone);
        assert_eq!(node.check("crm", Instant::now()), Err(Wait::Disabled));
        // ...and re-enabled it.
        let sync = node.sync_disabled(&[], Instant::now());
        assert_eq!(sync.enabled, ["crm"]);
        assert!(node.check("crm", Instant::now()).is_ok());

        // A read that started before this node's own 410 does not re-enable the route...
        let read_at = Instant::now();
        node.disable("crm", "410 here");
        assert_eq!(node.sync_disabled(&[], read_at), DisabledSync::default());
        // ...and a later one, while the store write is unconfirmed, asks to write it again.
        let sync = node.sync_disabled(&[], Instant::now());
        assert_eq!(sync.unstored, [("crm".to_owned(), "410 here".to_owned())]);
        assert_eq!(node.check("crm", Instant::now()), Err(Wait::Disabled));
        node.disable_stored("crm");
        // Once stored, the store's word counts: gone from it means re-enabled elsewhere.
        let sync = node.sync_disabled(&[], Instant::now());
        assert_eq!(sync.enabled, ["crm"]);

        // An operator's enable here is not undone by a read from before it.
        let node = Destinations::new(one(None), &gone, &Cluster::Local);
        let read_at = Instant::now();
        assert!(node.enable("crm"));
        assert_eq!(node.sync_disabled(&gone, read_at), DisabledSync::default());
        assert!(node.check("crm", Instant::now()).is_ok());
    }
}
