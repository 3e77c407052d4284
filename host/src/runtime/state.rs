//! Per-call store data: the memory limiter, the CPU deadline and the log budget of one plugin
//! instance. A fresh `CallState` (and store, and instance) serves each request, so no request
//! can observe another's state.

use std::sync::Arc;
use std::time::Duration;

/// Why a call was cut off by the host, recorded by the limiter and the epoch callback so that
/// the resulting trap can be reported precisely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cutoff {
    /// The CPU deadline passed.
    Deadline,
    /// The memory cap was reached.
    Memory,
}

/// Data of one plugin store.
pub struct CallState {
    /// Plugin name, for log attribution.
    pub plugin: Arc<str>,
    /// Log lines written during this call.
    pub log_lines: u32,
    memory_limit: usize,
    /// Epoch ticks this call has run through; the deadline counts running time only, so a
    /// call that waits for a CPU on a busy machine is not blamed for the wait.
    ticks_run: u64,
    tick_budget: u64,
    budget: Duration,
    /// The epoch period, to turn host time into ticks.
    tick: Duration,
    /// Host time not yet a whole tick, carried to the next host call.
    host_carry: Duration,
    /// Set when the host stopped the call.
    pub cutoff: Option<Cutoff>,
}

impl CallState {
    /// State for calls to `plugin` with a memory cap and a per-call CPU `budget`; `tick` is the
    /// epoch period.
    pub fn new(plugin: Arc<str>, memory_limit: usize, budget: Duration, tick: Duration) -> Self {
        let tick_budget = u64::try_from(budget.as_nanos() / tick.as_nanos().max(1))
            .unwrap_or(u64::MAX)
            .max(1);
        CallState {
            plugin,
            log_lines: 0,
            memory_limit,
            ticks_run: 0,
            tick_budget,
            budget,
            tick,
            host_carry: Duration::ZERO,
            cutoff: None,
        }
    }

    /// The CPU budget of each export call of this store.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// Starts the CPU deadline of the next export call.
    pub fn start_call(&mut self) {
        self.ticks_run = 0;
        self.log_lines = 0;
        self.host_carry = Duration::ZERO;
    }

    /// Charges time the host spent on the guest's behalf (a host-run HMAC over a large body,
    /// say) to the call's budget, as the ticks the guest would have run through doing it: a
    /// plugin cannot escape its deadline by making expensive host calls, which the epoch
    /// counts as one tick however long they take. The deadline itself is enforced at the
    /// guest's next epoch check.
    pub fn charge_host_time(&mut self, spent: Duration) {
        let total = self.host_carry + spent;
        let tick = self.tick.max(Duration::from_nanos(1));
        let ticks = total.as_nanos() / tick.as_nanos();
        self.host_carry = total - tick * u32::try_from(ticks).unwrap_or(u32::MAX);
        self.ticks_run = self
            .ticks_run
            .saturating_add(u64::try_from(ticks).unwrap_or(u64::MAX));
    }

    /// Whether the budget is spent (host time included).
    pub fn over_budget(&self) -> bool {
        self.ticks_run > self.tick_budget
    }

    /// Called on every epoch tick the guest runs through: whether its CPU budget is spent
    /// (recording the cutoff if so).
    pub fn tick(&mut self) -> bool {
        self.ticks_run += 1;
        let spent = self.over_budget();
        if spent {
            self.cutoff = Some(Cutoff::Deadline);
        }
        spent
    }
}

impl wasmtime::ResourceLimiter for CallState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_limit {
            self.cutoff = Some(Cutoff::Memory);
            return Err(wasmtime::format_err!(
                "memory limit of {} MiB exceeded",
                self.memory_limit >> 20
            ));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables hold function references; a plugin needing more than this is misbehaving.
        Ok(desired <= 100_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_time_counts_against_the_budget() {
        let mut call = CallState::new(
            "p".into(),
            1 << 20,
            Duration::from_millis(10),
            Duration::from_millis(1),
        );
        call.start_call();
        for _ in 0..30 {
            // 30 host calls of 0.4 ms: 12 ms, more than the 10 ms budget.
            call.charge_host_time(Duration::from_micros(400));
        }
        assert!(call.over_budget());
        assert!(call.tick(), "the next epoch check cuts the call off");
        assert_eq!(call.cutoff, Some(Cutoff::Deadline));
        call.start_call();
        call.charge_host_time(Duration::from_micros(900));
        assert!(
            !call.over_budget(),
            "a fresh call starts with its whole budget"
        );
    }
}
