//! Action plugins: a loaded, pre-instantiated component of the `action-plugin` world and one
//! delivery attempt through it, in a fresh instance under the same CPU and memory limits as
//! platform plugins. Its outbound HTTP goes through `wasi:http` under the host's
//! [`EgressHooks`](crate::egress::EgressHooks).

use super::action_host::ActionState;
use super::action_host::CacheScope;
use super::bindings::{action as act, action_v1_4 as v14};
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
        /// The destination's quota is spent: pause the route this long (1.4.0 actions).
        pause: Option<Duration>,
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
            ActionOutcome::Delivered { http_status, .. }
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

    fn from_guest(result: Result<v14::Delivered, v14::ActionError>) -> ActionOutcome {
        let after = |ms: Option<u64>| ms.map(Duration::from_millis);
        match result {
            Ok(d) => ActionOutcome::Delivered {
                http_status: d.http_status,
                pause: after(d.pause_ms),
            },
            Err(v14::ActionError::Retryable(r)) => ActionOutcome::Retryable {
                reason: r.failure.reason,
                http_status: r.failure.http_status,
                after: after(r.after_ms),
            },
            Err(v14::ActionError::RateLimited(r)) => ActionOutcome::RateLimited {
                reason: r.failure.reason,
                http_status: r.failure.http_status,
                after: after(r.after_ms),
            },
            Err(v14::ActionError::Permanent(f)) => ActionOutcome::Permanent {
                reason: f.reason,
                http_status: f.http_status,
            },
            Err(v14::ActionError::Gone(f)) => ActionOutcome::Gone {
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

/// A linked action component, by the package version of its `action` export: 1.4.0's
/// `delivered` record has a field 1.1.0's lacks, so each is called through its own bindings.
pub(super) enum ActionPre {
    /// Built against 1.1.0 to 1.3.0 (the same `action` interface).
    V1_1(act::ActionPluginPre<ActionState>),
    /// Built against 1.4.0.
    V1_4(v14::ActionPluginPre<ActionState>),
}

/// A compiled, pre-instantiated action plugin.
pub struct ActionPlugin {
    /// What it is.
    pub info: PluginInfo,
    pre: ActionPre,
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
    pub(super) fn new(info: PluginInfo, pre: ActionPre) -> Self {
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

    /// Links `component` as an action plugin (errors mean it is not one), through the bindings
    /// of the package version its `action` export names.
    pub(super) fn link(
        runtime: &Runtime,
        component: &wasmtime::component::Component,
    ) -> Result<ActionPre, String> {
        let instance_pre = runtime
            .action_linker
            .instantiate_pre(component)
            .map_err(|e| format!("{e:#}"))?;
        let v1_4 = component
            .component_type()
            .exports(runtime.engine())
            .any(|(name, _)| name.starts_with("hookgate:plugin/action@1.4."));
        if v1_4 {
            v14::ActionPluginPre::new(instance_pre)
                .map(ActionPre::V1_4)
                .map_err(|e| format!("{e:#}"))
        } else {
            act::ActionPluginPre::new(instance_pre)
                .map(ActionPre::V1_1)
                .map_err(|e| format!("{e:#}"))
        }
    }

    /// Calls `metadata` in a fresh, limited instance.
    pub(super) async fn metadata(
        pre: &ActionPre,
        runtime: &Runtime,
        label: Arc<str>,
    ) -> Result<act::ActionMetadata, PluginFault> {
        let mut store = runtime.new_store(
            ActionState::new(runtime.call_state(label.clone(), 0), None, None),
            |s| &mut s.call,
        );
        let backstop = super::call::backstop(&store.data().call);
        let result = async {
            match pre {
                ActionPre::V1_1(pre) => {
                    let instance = pre.instantiate_async(&mut store).await?;
                    store.data_mut().call.start_call();
                    instance
                        .hookgate_plugin_action()
                        .call_metadata(&mut store)
                        .await
                }
                ActionPre::V1_4(pre) => {
                    let instance = pre.instantiate_async(&mut store).await?;
                    store.data_mut().call.start_call();
                    let m = instance
                        .hookgate_plugin_action()
                        .call_metadata(&mut store)
                        .await?;
                    Ok(act::ActionMetadata {
                        name: m.name,
                        version: m.version,
                        wit_version: m.wit_version,
                        description: m.description,
                    })
                }
            }
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
                None,
            ),
            |s| &mut s.call,
        );
        let backstop = super::call::backstop(&store.data().call);
        let result = async {
            match &self.pre {
                ActionPre::V1_1(pre) => {
                    let instance = pre.instantiate_async(&mut store).await?;
                    store.data_mut().call.start_call();
                    instance
                        .hookgate_plugin_action()
                        .call_check_config(&mut store, config_json)
                        .await
                }
                ActionPre::V1_4(pre) => {
                    let instance = pre.instantiate_async(&mut store).await?;
                    store.data_mut().call.start_call();
                    instance
                        .hookgate_plugin_action()
                        .call_check_config(&mut store, config_json)
                        .await
                }
            }
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
        let scope = CacheScope::new(
            runtime.action_cache.clone(),
            self.info.name.clone(),
            &delivery.route,
        );
        let mut store = runtime.new_store(
            ActionState::new(
                runtime.call_state(self.info.name.clone(), delivery.event_json.len()),
                Some(egress),
                Some(scope),
            ),
            |s| &mut s.call,
        );
        let backstop = super::call::backstop(&store.data().call) + total;
        let guest = v14::Delivery {
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
            match &self.pre {
                ActionPre::V1_1(pre) => {
                    let instance = pre.instantiate_async(&mut store).await?;
                    store.data_mut().call.start_call();
                    let answer = instance
                        .hookgate_plugin_action()
                        .call_run(&mut store, &downgrade(guest))
                        .await?;
                    Ok(upgrade(answer))
                }
                ActionPre::V1_4(pre) => {
                    let instance = pre.instantiate_async(&mut store).await?;
                    store.data_mut().call.start_call();
                    instance
                        .hookgate_plugin_action()
                        .call_run(&mut store, &guest)
                        .await
                }
            }
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

/// A 1.4.0 delivery as the 1.1.0 interface carries it (the same fields).
fn downgrade(d: v14::Delivery) -> act::Delivery {
    act::Delivery {
        event_json: d.event_json,
        event_id: d.event_id,
        event_type: d.event_type,
        route: d.route,
        config_json: d.config_json,
        signing_secret: d.signing_secret,
        attempt: d.attempt,
        now_unix_ms: d.now_unix_ms,
    }
}

/// A 1.1.0 answer in 1.4.0's types (no pause), so one conversion serves both versions.
fn upgrade(
    answer: Result<act::Delivered, act::ActionError>,
) -> Result<v14::Delivered, v14::ActionError> {
    use super::bindings::action::hookgate::plugin::action_types as old;
    use super::bindings::action_v1_4::hookgate::plugin::action_types as new;
    let failure = |f: old::Failure| new::Failure {
        reason: f.reason,
        http_status: f.http_status,
    };
    let retry = |r: old::Retry| new::Retry {
        failure: failure(r.failure),
        after_ms: r.after_ms,
    };
    match answer {
        Ok(d) => Ok(new::Delivered {
            http_status: d.http_status,
            pause_ms: None,
        }),
        Err(old::ActionError::Retryable(r)) => Err(new::ActionError::Retryable(retry(r))),
        Err(old::ActionError::RateLimited(r)) => Err(new::ActionError::RateLimited(retry(r))),
        Err(old::ActionError::Permanent(f)) => Err(new::ActionError::Permanent(failure(f))),
        Err(old::ActionError::Gone(f)) => Err(new::ActionError::Gone(failure(f))),
    }
}
