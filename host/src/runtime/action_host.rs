//! What an action plugin's instance may reach: the store data of one action call (WASI with
//! no sockets, files or environment; `wasi:http` under the host's egress hooks) and the host
//! imports: `log` and `crypto` in every package version, and 1.4.0's `signing` and `cache`.

pub(super) use super::action_cache::CacheScope;
use super::bindings::{self, action as act, action_v1_4 as v14};
use super::host_imports::host_imports;
use super::state::CallState;
use crate::egress::{Egress, EgressHooks};
use std::sync::Arc;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Store data of one action call.
pub(crate) struct ActionState {
    pub(crate) call: CallState,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    pub(super) hooks: EgressHooks,
    /// The cache of this delivery's plugin and route; none outside a delivery.
    cache: Option<CacheScope>,
}

impl ActionState {
    pub(super) fn new(
        call: CallState,
        egress: Option<Arc<Egress>>,
        cache: Option<CacheScope>,
    ) -> ActionState {
        ActionState {
            call,
            cache,
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

/// The linker of action plugins: the `wasi:http` client with what it needs, `log` and `crypto`
/// in both bound package versions (wasmtime matches 1.3.0 and 1.4.0 imports to them
/// semver-compatibly), so a plugin built with an SDK importing 1.0.0 helpers links as well as
/// one built on 1.4.0, and 1.4.0's `signing` and `cache`. The rest of WASI is linked for real (Rust's standard
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
    v14::hookgate::plugin::signing::add_to_linker::<_, HasSelf<ActionState>>(&mut linker, |s| s)?;
    v14::hookgate::plugin::cache::add_to_linker::<_, HasSelf<ActionState>>(&mut linker, |s| s)?;
    Ok(linker)
}

impl act::hookgate::plugin::action_types::Host for ActionState {}

impl v14::hookgate::plugin::signing::Host for ActionState {
    fn rs256_sign(&mut self, private_key_pem: String, message: Vec<u8>) -> Result<Vec<u8>, String> {
        super::signing::rs256_sign(&private_key_pem, &message)
    }
}

impl v14::hookgate::plugin::cache::Host for ActionState {
    fn get(&mut self, key: String) -> Option<Vec<u8>> {
        self.cache.as_ref()?.get(&key)
    }

    fn set(&mut self, key: String, value: Vec<u8>, ttl_ms: u64) -> Result<(), String> {
        match &self.cache {
            Some(scope) => scope.set(key, value, std::time::Duration::from_millis(ttl_ms)),
            None => Err("the cache is only available during a delivery".into()),
        }
    }

    fn remove(&mut self, key: String) {
        if let Some(scope) = &self.cache {
            scope.remove(&key);
        }
    }
}

// `log` and `crypto` in both package versions, each a conversion into the one implementation.
host_imports!(bindings::hookgate::plugin for ActionState, |s| &mut s.call);
host_imports!(act::hookgate::plugin for ActionState, |s| &mut s.call);
