//! The engine: one wasmtime engine (pooling allocator, epoch interruption), the linkers with
//! the host imports, the limits every call runs under, and why a call produced no answer.

use super::action_host::{self, ActionState};
use super::bindings;
use super::cache;
use super::state::CallState;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the engine's epoch advances. A spinning plugin is noticed within one tick.
const EPOCH_TICK: Duration = Duration::from_millis(1);
/// Plugin instances that may exist at once; further calls wait for a slot (never fail).
const MAX_CONCURRENT_INSTANCES: u32 = 128;

/// Why a plugin call produced no answer. Every variant is hookgate's (or the plugin's) fault,
/// never the sender's: the ingest maps all of them to 503 + Retry-After.
#[derive(Debug, thiserror::Error)]
pub enum PluginFault {
    /// The plugin trapped (panic, unreachable, stack overflow...).
    #[error("plugin {plugin} trapped: {message}")]
    Trap {
        /// Plugin name.
        plugin: String,
        /// The trap message.
        message: String,
    },
    /// The plugin exceeded its CPU deadline.
    #[error("plugin {plugin} exceeded its {limit_ms} ms CPU deadline")]
    Timeout {
        /// Plugin name.
        plugin: String,
        /// The deadline.
        limit_ms: u128,
    },
    /// The plugin exceeded its memory cap.
    #[error("plugin {plugin} exceeded its {limit_mib} MiB memory limit")]
    Memory {
        /// Plugin name.
        plugin: String,
        /// The limit.
        limit_mib: u64,
    },
}

impl PluginFault {
    /// A short label for logs and metrics: `trap`, `timeout` or `memory`.
    pub fn kind(&self) -> &'static str {
        match self {
            PluginFault::Trap { .. } => "trap",
            PluginFault::Timeout { .. } => "timeout",
            PluginFault::Memory { .. } => "memory",
        }
    }
}

/// Limits applied to every plugin call.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// CPU deadline of one export call.
    pub call_timeout: Duration,
    /// Linear memory cap of one instance, in bytes.
    pub memory_limit_bytes: u64,
}

/// CPU time granted per MiB of request body on top of the call timeout: merely scanning a
/// 25 MB GitHub push as JSON takes over 100 ms inside wasm, and a genuine large payload must
/// not be cut off for its size. The deadline counts epoch ticks while the guest runs, so a
/// busy machine that deschedules the call spends its budget too: 20 ms a MiB leaves a 20 MB
/// push twice the time it needs on a quiet core. The budget is still bounded by the source's
/// body limit, and normalizing (the expensive part) only follows a verified signature.
pub const CPU_PER_BODY_MIB: Duration = Duration::from_millis(20);

impl Limits {
    /// The CPU budget of one call on a request with `body_bytes` of body.
    pub fn call_budget(&self, body_bytes: usize) -> Duration {
        let mib = u32::try_from(body_bytes.div_ceil(1 << 20)).unwrap_or(u32::MAX);
        self.call_timeout
            .saturating_add(CPU_PER_BODY_MIB.saturating_mul(mib))
    }
}

/// The engine, the linker with the host imports, and the limits.
pub struct Runtime {
    pub(super) engine: Engine,
    pub(super) linker: Linker<CallState>,
    pub(super) action_linker: Linker<ActionState>,
    pub(super) limits: Limits,
    pub(super) slots: tokio::sync::Semaphore,
    /// The memory-only cache 1.4.0 action plugins keep per route (access tokens).
    pub(super) action_cache: Arc<super::action_cache::ActionCache>,
    ticker_stop: Arc<AtomicBool>,
    cache: std::sync::OnceLock<cache::CodeCache>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Creates the engine (pooling allocator, epoch interruption) and starts the epoch ticker.
    pub fn new(limits: Limits) -> anyhow::Result<Arc<Runtime>> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.cranelift_opt_level(wasmtime::OptLevel::Speed);
        // Guest stack overflow becomes a trap well before the host's async stack runs out.
        config.max_wasm_stack(1 << 20);
        config.async_stack_size(2 << 20);
        let memory_limit = usize::try_from(limits.memory_limit_bytes).unwrap_or(usize::MAX);
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(MAX_CONCURRENT_INSTANCES)
            .total_core_instances(MAX_CONCURRENT_INSTANCES * 8)
            .total_memories(MAX_CONCURRENT_INSTANCES * 2)
            .total_tables(MAX_CONCURRENT_INSTANCES * 8)
            .total_stacks(MAX_CONCURRENT_INSTANCES)
            .max_memory_size(memory_limit)
            // Reusing warm slots without zeroing their first pages is what makes a fresh
            // instance per request cheap (measured: 119 µs → 48 µs per request).
            .linear_memory_keep_resident(8 << 20)
            .table_keep_resident(1 << 20)
            .max_unused_warm_slots(32)
            .pagemap_scan(Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine =
            Engine::new(&config).map_err(|e| anyhow::anyhow!("creating the wasm engine: {e}"))?;

        let mut linker = Linker::new(&engine);
        bindings::PlatformPlugin::add_to_linker::<CallState, wasmtime::component::HasSelf<CallState>>(&mut linker, |s| s)
            .map_err(|e| anyhow::anyhow!("linking host imports: {e}"))?;
        let action_linker = action_host::linker(&engine)
            .map_err(|e| anyhow::anyhow!("linking action imports: {e}"))?;

        let ticker_stop = Arc::new(AtomicBool::new(false));
        let (ticker_engine, stop) = (engine.weak(), ticker_stop.clone());
        std::thread::Builder::new()
            .name("hookgate-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match ticker_engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })?;
        Ok(Arc::new(Runtime {
            engine,
            linker,
            action_linker,
            limits,
            slots: tokio::sync::Semaphore::new(MAX_CONCURRENT_INSTANCES as usize),
            action_cache: Arc::default(),
            ticker_stop,
            cache: std::sync::OnceLock::new(),
        }))
    }

    /// The engine.
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The limits applied to every call.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Keeps compiled plugins in `dir` from now on (see [`cache`]).
    pub fn enable_code_cache(&self, dir: std::path::PathBuf) -> std::io::Result<()> {
        let cache = cache::CodeCache::new(dir, &self.engine)?;
        let _ = self.cache.set(cache);
        Ok(())
    }

    /// Removes cached code of every wasm hash not in `keep`.
    pub(crate) fn retain_cached(&self, keep: &std::collections::HashSet<String>) {
        if let Some(cache) = self.cache.get() {
            let removed = cache.retain(keep);
            if removed > 0 {
                tracing::info!(removed, "stale compiled-code cache entries removed");
            }
        }
    }

    /// Compiles a component, or loads its cached compilation (then the flag is true).
    /// Blocking, and slow on a cache miss (~120 ms): call it off the async runtime.
    pub(crate) fn compile(&self, bytes: &[u8], sha256: &str) -> Result<(Component, bool), String> {
        if let Some(component) = self.cache.get().and_then(|c| c.load(&self.engine, sha256)) {
            return Ok((component, true));
        }
        let component = Component::new(&self.engine, bytes).map_err(|e| format!("{e:#}"))?;
        if let Some(cache) = self.cache.get() {
            cache.store(sha256, &component);
        }
        Ok((component, false))
    }

    /// The limits and deadline of one call on `body_bytes` of input.
    pub(crate) fn call_state(&self, plugin: Arc<str>, body_bytes: usize) -> CallState {
        let memory_limit = usize::try_from(self.limits.memory_limit_bytes).unwrap_or(usize::MAX);
        CallState::new(
            plugin,
            memory_limit,
            self.limits.call_budget(body_bytes),
            EPOCH_TICK,
        )
    }

    /// Creates the store for one platform call.
    pub(crate) fn store(&self, plugin: Arc<str>, body_bytes: usize) -> wasmtime::Store<CallState> {
        let state = self.call_state(plugin, body_bytes);
        self.new_store(state, |s| s)
    }

    /// Creates a store with limits, deadline and the yielding epoch callback; `call` finds the
    /// [`CallState`] inside the store's data.
    pub(crate) fn new_store<T: Send + 'static>(
        &self,
        data: T,
        call: fn(&mut T) -> &mut CallState,
    ) -> wasmtime::Store<T> {
        let mut store = wasmtime::Store::new(&self.engine, data);
        store.limiter(move |s| call(s));
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |mut cx| {
            if call(cx.data_mut()).tick() {
                Err(wasmtime::format_err!("CPU deadline exceeded"))
            } else {
                // Let other requests run while a long call is in progress.
                Ok(wasmtime::UpdateDeadline::Yield(1))
            }
        });
        store
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_bodies_get_proportionally_more_cpu() {
        let limits = Limits {
            call_timeout: Duration::from_millis(100),
            memory_limit_bytes: 64 << 20,
        };
        assert_eq!(limits.call_budget(0), Duration::from_millis(100));
        assert_eq!(limits.call_budget(2048), Duration::from_millis(120));
        assert_eq!(limits.call_budget(25 << 20), Duration::from_millis(600));
    }
}
