//! Action plugins: a loaded, pre-instantiated component of the `action-plugin` world and one
//! delivery attempt through it, in a fresh instance under the same CPU and memory limits as
//! platform plugins. Its outbound HTTP goes through `wasi:http` under the host's
//! [`EgressHooks`](crate::egress::EgressHooks).

use super::bindings::{self, action as act};
use super::call::settle;
use super::platform::PluginInfo;
use super::state::CallState;
use super::{PluginFault, Runtime};
use crate::egress::{Egress, EgressHooks};
use bindings::hookgate::plugin::crypto::Host as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Store data of one action call.
pub(crate) struct ActionState {
    pub(crate) call: CallState,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: EgressHooks,
}

impl ActionState {
    fn new(call: CallState, egress: Option<Arc<Egress>>) -> ActionState {
        ActionState {
            call,
            // No arguments, no environment, no preopened files, no sockets (outbound HTTP goes
            // through wasi:http and its policy only); stdio goes nowhere.
            wasi: WasiCtx::builder()
                .allow_tcp(false)
                .allow_udp(false)
                .allow_ip_name_lookup(false)
                .socket_addr_check(|_, _| Box::pin(async { false }))
                .build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: EgressHooks::new(egress),
        }
    }
}

impl WasiView for ActionState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for ActionState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// The linker of action plugins: the `wasi:http` client with what it needs, plus `log` and
/// `crypto` in both package versions, so a plugin built with an SDK importing 1.0.0 helpers
/// links as well as one built on 1.1.0. The rest of WASI is linked for real (Rust's standard
/// library imports it, in several 0.2.x versions whose resources must line up) but the
/// context grants nothing: no files, no environment, no sockets.
pub(super) fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<ActionState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    act::hookgate::plugin::log::add_to_linker::<_, HasSelf<ActionState>>(&mut linker, |s| s)?;
    act::hookgate::plugin::crypto::add_to_linker::<_, HasSelf<ActionState>>(&mut linker, |s| s)?;
    bindings::hookgate::plugin::log::add_to_linker::<_, HasSelf<ActionState>>(&mut linker, |s| s)?;
    bindings::hookgate::plugin::crypto::add_to_linker::<_, HasSelf<ActionState>>(
        &mut linker,
        |s| s,
    )?;
    Ok(linker)
}

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
    pub fn label(&self) -> &'static str {
        match self {
            ActionOutcome::Delivered { .. } => "delivered",
            ActionOutcome::Retryable { .. } => "retryable",
            ActionOutcome::RateLimited { .. } => "rate_limited",
            ActionOutcome::Permanent { .. } => "permanent",
            ActionOutcome::Gone { .. } => "gone",
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

impl act::hookgate::plugin::action_types::Host for ActionState {}

impl bindings::hookgate::plugin::log::Host for ActionState {
    fn log(&mut self, level: bindings::hookgate::plugin::log::Level, message: String) {
        bindings::hookgate::plugin::log::Host::log(&mut self.call, level, message);
    }
}

impl act::hookgate::plugin::log::Host for ActionState {
    fn log(&mut self, level: act::hookgate::plugin::log::Level, message: String) {
        use act::hookgate::plugin::log::Level as New;
        use bindings::hookgate::plugin::log::Level as Old;
        let level = match level {
            New::Trace => Old::Trace,
            New::Debug => Old::Debug,
            New::Info => Old::Info,
            New::Warn => Old::Warn,
            New::Error => Old::Error,
        };
        bindings::hookgate::plugin::log::Host::log(&mut self.call, level, message);
    }
}

impl bindings::hookgate::plugin::crypto::Host for ActionState {
    fn hmac(
        &mut self,
        algorithm: bindings::hookgate::plugin::crypto::HashAlgorithm,
        key: Vec<u8>,
        prefix: Vec<u8>,
        message: Vec<u8>,
    ) -> Vec<u8> {
        self.call.hmac(algorithm, key, prefix, message)
    }

    fn hmac_verify(
        &mut self,
        algorithm: bindings::hookgate::plugin::crypto::HashAlgorithm,
        key: Vec<u8>,
        prefix: Vec<u8>,
        message: Vec<u8>,
        expected: Vec<u8>,
    ) -> bool {
        self.call
            .hmac_verify(algorithm, key, prefix, message, expected)
    }

    fn sha256(&mut self, message: Vec<u8>) -> Vec<u8> {
        bindings::hookgate::plugin::crypto::Host::sha256(&mut self.call, message)
    }

    fn ed25519_verify(
        &mut self,
        public_key: Vec<u8>,
        message: Vec<u8>,
        signature: Vec<u8>,
    ) -> bool {
        self.call.ed25519_verify(public_key, message, signature)
    }

    fn ecdsa_p256_verify(
        &mut self,
        public_key: Vec<u8>,
        message: Vec<u8>,
        signature: Vec<u8>,
    ) -> bool {
        self.call.ecdsa_p256_verify(public_key, message, signature)
    }
}

fn old_hash(
    algorithm: act::hookgate::plugin::crypto::HashAlgorithm,
) -> bindings::hookgate::plugin::crypto::HashAlgorithm {
    use act::hookgate::plugin::crypto::HashAlgorithm as New;
    use bindings::hookgate::plugin::crypto::HashAlgorithm as Old;
    match algorithm {
        New::Sha1 => Old::Sha1,
        New::Sha256 => Old::Sha256,
        New::Sha512 => Old::Sha512,
    }
}

impl act::hookgate::plugin::crypto::Host for ActionState {
    fn hmac(
        &mut self,
        algorithm: act::hookgate::plugin::crypto::HashAlgorithm,
        key: Vec<u8>,
        prefix: Vec<u8>,
        message: Vec<u8>,
    ) -> Vec<u8> {
        self.call.hmac(old_hash(algorithm), key, prefix, message)
    }

    fn hmac_verify(
        &mut self,
        algorithm: act::hookgate::plugin::crypto::HashAlgorithm,
        key: Vec<u8>,
        prefix: Vec<u8>,
        message: Vec<u8>,
        expected: Vec<u8>,
    ) -> bool {
        self.call
            .hmac_verify(old_hash(algorithm), key, prefix, message, expected)
    }

    fn sha256(&mut self, message: Vec<u8>) -> Vec<u8> {
        bindings::hookgate::plugin::crypto::Host::sha256(&mut self.call, message)
    }

    fn ed25519_verify(
        &mut self,
        public_key: Vec<u8>,
        message: Vec<u8>,
        signature: Vec<u8>,
    ) -> bool {
        self.call.ed25519_verify(public_key, message, signature)
    }

    fn ecdsa_p256_verify(
        &mut self,
        public_key: Vec<u8>,
        message: Vec<u8>,
        signature: Vec<u8>,
    ) -> bool {
        self.call.ecdsa_p256_verify(public_key, message, signature)
    }
}
