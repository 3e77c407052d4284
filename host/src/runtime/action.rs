//! Action plugins: a loaded, pre-instantiated component of the `action-plugin` world and one
//! delivery attempt through it, in a fresh instance under the same CPU and memory limits as
//! platform plugins. Its outbound HTTP goes through `wasi:http` under the host's
//! [`EgressHooks`](crate::egress::EgressHooks).

use super::action_host::ActionState;
use super::bindings::action as act;
use super::call::settle;
use super::engine::{PluginFault, Runtime};
use super::platform::PluginInfo;
use crate::egress::Egress;
use crate::model::AttemptOutcome;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// One delivery attempt, as the host hands it to an action.
#[derive(Debug, Clone)]
pub struct DeliveryRequest {
    /// The normalized event JSON.
    pub event_json: Vec<u8>,
    /// Event id (the idempotency key).
    pub event_id: String,
    /// Event type.
    pub event_type: String,
    /// Route name.
    pub route: String,
    /// The route's `config` as JSON.
    pub config_json: String,
    /// The route's signing secret, if any (redacted in `Debug`).
    pub signing_secret: Option<crate::config::Secret>,
    /// 1-based attempt number.
    pub attempt: u32,
    /// Host wall clock, Unix ms.
    pub now_unix_ms: u64,
}

/// How an attempt ended, as the action classified it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionOutcome {
    /// Success.
    Delivered {
        /// Destination status.
        http_status: Option<u16>,
    },
    /// Transient failure.
    Retryable {
        /// What went wrong.
        reason: String,
        /// Destination status.
        http_status: Option<u16>,
        /// Requested wait.
        after: Option<Duration>,
    },
    /// The destination is rate limiting.
    RateLimited {
        /// What went wrong.
        reason: String,
        /// Destination status.
        http_status: Option<u16>,
        /// Requested wait.
        after: Option<Duration>,
    },
    /// Retrying cannot help.
    Permanent {
        /// What went wrong.
        reason: String,
        /// Destination status.
        http_status: Option<u16>,
    },
    /// The destination is gone for good.
    Gone {
        /// What went wrong.
        reason: String,
        /// Destination status.
        http_status: Option<u16>,
    },
}

impl ActionOutcome {
    /// A short label for logs, metrics and the attempt history.
    pub fn kind(&self) -> AttemptOutcome {
        match self {
            ActionOutcome::Delivered { .. } => AttemptOutcome::Delivered,
            ActionOutcome::Retryable { .. } => AttemptOutcome::Retryable,
            ActionOutcome::RateLimited { .. } => AttemptOutcome::RateLimited,
            ActionOutcome::Permanent { .. } => AttemptOutcome::Permanent,
            ActionOutcome::Gone { .. } => AttemptOutcome::Gone,
        }
    }

    /// The destination's status, if it answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            ActionOutcome::Delivered { http_status }
            | ActionOutcome::Retryable { http_status, .. }
            | ActionOutcome::RateLimited { http_status, .. }
            | ActionOutcome::Permanent { http_status, .. }
            | ActionOutcome::Gone { http_status, .. } => *http_status,
        }
    }

    /// The failure reason, if it failed.
    pub fn reason(&self) -> Option<&str> {
        match self {
            ActionOutcome::Delivered { .. } => None,
            ActionOutcome::Retryable { reason, .. }
            | ActionOutcome::RateLimited { reason, .. }
            | ActionOutcome::Permanent { reason, .. }
            | ActionOutcome::Gone { reason, .. } => Some(reason),
        }
    }

    /// The same outcome with its reason passed through `redact`.
    pub fn redacted(mut self, redact: impl FnOnce(&str) -> String) -> ActionOutcome {
        match &mut self {
            ActionOutcome::Delivered { .. } => {}
            ActionOutcome::Retryable { reason, .. }
            | ActionOutcome::RateLimited { reason, .. }
            | ActionOutcome::Permanent { reason, .. }
            | ActionOutcome::Gone { reason, .. } => *reason = redact(reason),
        }
        self
    }

    fn from_guest(result: Result<act::Delivered, act::ActionError>) -> ActionOutcome {
        let after = |ms: Option<u64>| ms.map(Duration::from_millis);
        match result {
            Ok(d) => ActionOutcome::Delivered {
                http_status: d.http_status,
            },
            Err(act::ActionError::Retryable(r)) => ActionOutcome::Retryable {
                reason: r.failure.reason,
                http_status: r.failure.http_status,
                after: after(r.after_ms),
            },
            Err(act::ActionError::RateLimited(r)) => ActionOutcome::RateLimited {
                reason: r.failure.reason,
                http_status: r.failure.http_status,
                after: after(r.after_ms),
            },
            Err(act::ActionError::Permanent(f)) => ActionOutcome::Permanent {
                reason: f.reason,
                http_status: f.http_status,
            },
            Err(act::ActionError::Gone(f)) => ActionOutcome::Gone {
                reason: f.reason,
                http_status: f.http_status,
            },
        }
    }

    /// Adds the host's own account of an egress failure to the reason the guest gave (the
    /// guest only sees an error code, the host knows which address was refused and why).
    fn with_host_reason(mut self, host: Option<String>) -> ActionOutcome {
        let Some(host) = host else { return self };
        match &mut self {
            ActionOutcome::Delivered { .. } => {}
            ActionOutcome::Retryable { reason, .. }
            | ActionOutcome::RateLimited { reason, .. }
            | ActionOutcome::Permanent { reason, .. }
            | ActionOutcome::Gone { reason, .. } => {
                if !reason.contains(&host) {
                    reason.push_str(" (");
                    reason.push_str(&host);
                    reason.push(')');
                }
            }
        }
        self
    }
}

/// The result of one action call.
#[derive(Debug)]
pub struct ActionRun {
    /// What the action reported.
    pub outcome: ActionOutcome,
}

/// A compiled, pre-instantiated action plugin.
pub struct ActionPlugin {
    /// What it is.
    pub info: PluginInfo,
    pre: act::ActionPluginPre<ActionState>,
    calls: AtomicU64,
    failures: AtomicU64,
}

impl std::fmt::Debug for ActionPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionPlugin")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl ActionPlugin {
    pub(super) fn new(info: PluginInfo, pre: act::ActionPluginPre<ActionState>) -> Self {
        ActionPlugin {
            info,
            pre,
            calls: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        }
    }

    /// Calls since load.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Calls that ended in a fault since load.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Links `component` as an action plugin (errors mean it is not one).
    pub(super) fn link(
        runtime: &Runtime,
        component: &wasmtime::component::Component,
    ) -> Result<act::ActionPluginPre<ActionState>, String> {
        let instance_pre = runtime
            .action_linker
            .instantiate_pre(component)
            .map_err(|e| format!("{e:#}"))?;
        act::ActionPluginPre::new(instance_pre).map_err(|e| format!("{e:#}"))
    }

    /// Calls `metadata` in a fresh, limited instance.
    pub(super) async fn metadata(
        pre: &act::ActionPluginPre<ActionState>,
        runtime: &Runtime,
        label: Arc<str>,
    ) -> Result<act::ActionMetadata, PluginFault> {
        let mut store = runtime.new_store(
            ActionState::new(runtime.call_state(label.clone(), 0), None),
            |s| &mut s.call,
        );
        let backstop = super::call::backstop(&store.data().call);
        let result = async {
            let instance = pre.instantiate_async(&mut store).await?;
            store.data_mut().call.start_call();
            instance
                .hookgate_plugin_action()
                .call_metadata(&mut store)
                .await
        };
        let result = tokio::time::timeout(backstop, result).await;
        settle(result, &store.data().call, &label, runtime)
    }

    /// Asks the plugin whether a route's `config` is valid.
    pub async fn check_config(
        &self,
        runtime: &Runtime,
        config_json: &str,
    ) -> Result<Result<(), String>, PluginFault> {
        let mut store = runtime.new_store(
            ActionState::new(
                runtime.call_state(self.info.name.clone(), config_json.len()),
                None,
            ),
            |s| &mut s.call,
        );
        let backstop = super::call::backstop(&store.data().call);
        let result = async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            store.data_mut().call.start_call();
            instance
                .hookgate_plugin_action()
                .call_check_config(&mut store, config_json)
                .await
        };
        let result = tokio::time::timeout(backstop, result).await;
        settle(result, &store.data().call, &self.info.name, runtime)
    }

    /// Runs one delivery attempt in a fresh instance. The CPU deadline counts only time the
    /// guest runs (waiting on the network is free); the wall-clock backstop allows the egress
    /// timeout on top.
    pub async fn run(
        &self,
        runtime: &Runtime,
        egress: Arc<Egress>,
        delivery: DeliveryRequest,
    ) -> Result<ActionRun, PluginFault> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let _slot = runtime
            .slots
            .acquire()
            .await
            .expect("the slot semaphore is never closed");
        let total = egress.total_timeout();
        let mut store = runtime.new_store(
            ActionState::new(
                runtime.call_state(self.info.name.clone(), delivery.event_json.len()),
                Some(egress),
            ),
            |s| &mut s.call,
        );
        let backstop = super::call::backstop(&store.data().call) + total;
        let guest = act::Delivery {
            event_json: delivery.event_json,
            event_id: delivery.event_id,
            event_type: delivery.event_type,
            route: delivery.route,
            config_json: delivery.config_json,
            signing_secret: delivery
                .signing_secret
                .map(|s| String::from_utf8_lossy(s.expose()).into_owned()),
            attempt: delivery.attempt,
            now_unix_ms: delivery.now_unix_ms,
        };
        let result = async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            store.data_mut().call.start_call();
            instance
                .hookgate_plugin_action()
                .call_run(&mut store, &guest)
                .await
        };
        let started = std::time::Instant::now();
        let result = tokio::time::timeout(backstop, result).await;
        let settled = settle(result, &store.data().call, &self.info.name, runtime);
        crate::metrics::metrics().plugin_call(
            &self.info.name,
            started.elapsed(),
            settled.as_ref().err().map(PluginFault::kind),
        );
        match settled {
            Ok(answer) => Ok(ActionRun {
                outcome: ActionOutcome::from_guest(answer)
                    .with_host_reason(store.data().hooks.last_refusal()),
            }),
            Err(fault) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                Err(fault)
            }
        }
    }
}

// ---- host imports of action plugins ------------------------------------------------------
