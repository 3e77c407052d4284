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
    }

    /// Called on every epoch tick the guest runs through: whether its CPU budget is spent
    /// (recording the cutoff if so).
    pub fn tick(&mut self) -> bool {
        self.ticks_run += 1;
        let spent = self.ticks_run > self.tick_budget;
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
