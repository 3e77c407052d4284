//! What every plugin call shares, whatever its world: the wall-clock backstop and turning a
//! call's result into a value or a precise [`PluginFault`].

use super::engine::{PluginFault, Runtime};
use super::state::{CallState, Cutoff};
use std::time::Duration;

/// The outer wall-clock bound on a call; the CPU deadline normally fires long before it. It
/// only catches a call stuck where the epoch check cannot reach, and is generous because a
/// busy machine stretches wall time without the plugin being at fault.
pub(super) fn backstop(call: &CallState) -> Duration {
    call.budget() * 10 + Duration::from_secs(1)
}

/// Turns a call's result into a value or a precise fault.
pub(super) fn settle<T>(
    result: Result<wasmtime::Result<T>, tokio::time::error::Elapsed>,
    call: &CallState,
    plugin: &str,
    runtime: &Runtime,
) -> Result<T, PluginFault> {
    let timeout = || PluginFault::Timeout {
        plugin: plugin.to_owned(),
        limit_ms: call.budget().as_millis(),
    };
    match result {
        Ok(Ok(value)) => Ok(value),
        Err(_elapsed) => Err(timeout()),
        Ok(Err(error)) => Err(match call.cutoff {
            Some(Cutoff::Deadline) => timeout(),
            Some(Cutoff::Memory) => PluginFault::Memory {
                plugin: plugin.to_owned(),
                limit_mib: runtime.limits.memory_limit_bytes >> 20,
            },
            None => PluginFault::Trap {
                plugin: plugin.to_owned(),
                message: trap_message(&error),
            },
        }),
    }
}

/// The first line of a trap, without the wasm backtrace.
fn trap_message(error: &wasmtime::Error) -> String {
    let text = format!("{error:#}");
    text.lines()
        .next()
        .unwrap_or("trap")
        .chars()
        .take(300)
        .collect()
}
