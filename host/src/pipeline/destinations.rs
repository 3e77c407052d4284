//! Where jobs go: every configured route, and every schedule (as `schedule:<name>`), with the
//! live state that decides whether a destination takes work right now — its circuit breaker,
//! its token bucket, a pause a rate-limited destination asked for, its deliveries in flight,
//! and whether a 410 disabled it.

use super::breaker::{Breaker, CircuitState};
use crate::config::{BreakerConfig, Config, RateLimit, Secret};
use crate::ratelimit::TokenBucket;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The source name of a schedule's tick events, which is also its jobs' destination name.
pub fn schedule_source(name: &str) -> String {
    format!("schedule:{name}")
}

/// A route or schedule, as the delivery engine needs it.
#[derive(Debug)]
pub struct Destination {
    /// Route name, or `schedule:<name>`.
    pub name: String,
    /// Action plugin name.
    pub action: String,
    /// The action's config as JSON.
    pub config_json: String,
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

/// Every destination of a config, by name.
pub fn from_config(config: &Config) -> HashMap<String, Destination> {
    let schedule = |s: &Option<Vec<Duration>>| {
        s.clone()
            .unwrap_or_else(|| super::retry::DEFAULT_SCHEDULE.to_vec())
    };
    let routes = config.routes.iter().map(|r| Destination {
        name: r.name.clone(),
        action: r.action.clone(),
        config_json: r.config.to_string(),
        signing_secret: r.signing_secret.clone(),
        retry_schedule: schedule(&r.retry_schedule),
        rate_limit: r.rate_limit,
        breaker: r.breaker,
        max_in_flight: r.max_in_flight as usize,
    });
    let schedules = config.schedules.iter().map(|s| Destination {
        name: schedule_source(&s.name),
        action: s.action.clone(),
        config_json: s.config.to_string(),
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
    bucket: Option<TokenBucket>,
    paused_until: Option<Instant>,
    in_flight: usize,
    max_in_flight: usize,
    disabled: Option<String>,
}

/// What an operator sees of a destination.
#[derive(Debug, Clone, Serialize)]
pub struct DestinationStatus {
    /// Name.
    pub name: String,
    /// Action plugin.
    pub action: String,
    /// Circuit state.
    pub circuit: CircuitState,
    /// Deliveries in flight.
    pub in_flight: usize,
    /// Milliseconds until a rate-limit pause ends, if paused.
    pub paused_for_ms: Option<u128>,
    /// Why it is disabled, if it is.
    pub disabled: Option<String>,
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
    pub fn new(config: HashMap<String, Destination>, disabled: &[(String, String)]) -> Self {
        let mut live: HashMap<String, Live> = config
            .values()
            .map(|d| {
                let state = Live {
                    breaker: Breaker::new(d.breaker),
                    bucket: d
                        .rate_limit
                        .map(|r| TokenBucket::new(r.per_second, r.burst)),
                    paused_until: None,
                    in_flight: 0,
                    max_in_flight: d.max_in_flight.max(1),
                    disabled: None,
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
            state.breaker.on_success();
            false
        } else {
            state.breaker.on_failure(now)
        }
    }

    /// Marks a destination disabled (its jobs wait in the store).
    pub fn disable(&self, name: &str, reason: &str) {
        if let Some(state) = self.live.lock().expect("lock poisoned").get_mut(name) {
            state.disabled = Some(reason.to_owned());
        }
    }

    /// Re-enables a destination; whether it exists.
    pub fn enable(&self, name: &str) -> bool {
        match self.live.lock().expect("lock poisoned").get_mut(name) {
            Some(state) => {
                state.disabled = None;
                state.breaker.on_success();
                true
            }
            None => false,
        }
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
                    disabled: state.and_then(|s| s.disabled.clone()),
                }
            })
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }
}

fn wait(state: &Live, now: Instant) -> Option<Wait> {
    if state.disabled.is_some() {
        return Some(Wait::Disabled);
    }
    if state.in_flight >= state.max_in_flight {
        return Some(Wait::Busy);
    }
    let mut until = state.breaker.blocked_until(now);
    if let Some(paused) = state.paused_until.filter(|p| *p > now) {
        until = Some(until.map_or(paused, |u| u.max(paused)));
    }
    if let Some(bucket) = &state.bucket {
        let ready = bucket.ready_in();
        if !ready.is_zero() {
            until = Some(until.map_or(now + ready, |u| u.max(now + ready)));
        }
    }
    until.map(Wait::Until)
}
