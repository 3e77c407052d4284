//! What an action plugin's instance may reach: the store data of one action call (WASI with
//! no sockets, files or environment; `wasi:http` under the host's egress hooks) and the host
//! imports (`log`, `crypto`) in both package versions.

use super::bindings::{self, action as act};
use super::state::CallState;
use crate::egress::{Egress, EgressHooks};
use bindings::hookgate::plugin::crypto::Host as _;
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
