//! What an action plugin's instance may reach: the store data of one action call (WASI with
//! no sockets, files or environment; `wasi:http` under the host's egress hooks) and the host
//! imports (`log`, `crypto`) in both package versions.

use super::bindings::{self, action as act};
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
}

impl ActionState {
    pub(super) fn new(call: CallState, egress: Option<Arc<Egress>>) -> ActionState {
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

impl act::hookgate::plugin::action_types::Host for ActionState {}

// `log` and `crypto` in both package versions, each a conversion into the one implementation.
host_imports!(bindings::hookgate::plugin for ActionState, |s| &mut s.call);
host_imports!(act::hookgate::plugin for ActionState, |s| &mut s.call);
