//! Per-call store data: the memory limiter, the CPU deadline and the log budget of one plugin
//! instance. A fresh `CallState` (and store, and instance) serves each request, so no request
//! can observe another's state.

use std::sync::Arc;
use std::time::{Duration, Instant};

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
    deadline: Instant,
    call_timeout: Duration,
    /// Set when the host stopped the call.
    pub cutoff: Option<Cutoff>,
}

impl CallState {
    /// State for a call to `plugin` with the given limits.
    pub fn new(plugin: Arc<str>, memory_limit: usize, call_timeout: Duration) -> Self {
        CallState {
            plugin,
            log_lines: 0,
            memory_limit,
            deadline: Instant::now() + call_timeout,
            call_timeout,
            cutoff: None,
        }
    }

    /// Starts the CPU deadline of the next export call.
    pub fn start_call(&mut self) {
        self.deadline = Instant::now() + self.call_timeout;
        self.log_lines = 0;
    }

    /// Whether the deadline of the current call has passed; records the cutoff if so.
    pub fn deadline_passed(&mut self) -> bool {
        let passed = Instant::now() >= self.deadline;
        if passed {
            self.cutoff = Some(Cutoff::Deadline);
        }
        passed
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
