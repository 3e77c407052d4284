//! Host-side bindings of the `hookgate:plugin` WIT package. Every supported package version
//! gets its own module here: 1.0.0 brought the platform world, 1.1.0 the action world, 1.2.0
//! the optional `signer` export of platform plugins, 1.3.0 the one-call `ingest` export, 1.4.0
//! the action world's `signing` and `cache` imports and the quota pause.
//!
//! The platform world is bound at 1.0.0 and serves every 1.x platform plugin: wasmtime looks
//! exports and imports up semver-compatibly, and the `platform` interface has not changed.
//!
//! The WASI packages that 1.1.0 and later refer to (`wasi:http` and what it reaches) are vendored
//! once, in `wit/deps/`, for every version: a package folder has no `deps/` of its own, so each
//! `bindgen!` lists those files before the package, in dependency order (a file may only use
//! the ones above it), and names its world in full since several packages are given. The SDK's
//! `wit_bindgen::generate!` calls list the same files.

wasmtime::component::bindgen!({
    world: "platform-plugin",
    path: "../wit/hookgate-plugin@1.0.0",
    exports: { default: async },
});

pub use hookgate::plugin::platform_types::{
    Event, HandshakeResponse, Payload, PluginMetadata, SecretRequirement, VerifyError,
};
pub use hookgate::plugin::types::{Header, Request, VerifyContext};

/// The 1.1.0 `action-plugin` world. Its `wasi:http` (and the `wasi:io`/`wasi:clocks` types
/// that come with it) are wasmtime-wasi-http's own bindings, so the host's implementation of
/// outbound HTTP is theirs, under our hooks.
pub mod action {
    wasmtime::component::bindgen!({
        world: "hookgate:plugin/action-plugin@1.1.0",
        path: [
            "../wit/deps/wasi-io@0.2.12.wit",
            "../wit/deps/wasi-clocks@0.2.12.wit",
            "../wit/deps/wasi-random@0.2.12.wit",
            "../wit/deps/wasi-filesystem@0.2.12.wit",
            "../wit/deps/wasi-sockets@0.2.12.wit",
            "../wit/deps/wasi-cli@0.2.12.wit",
            "../wit/deps/wasi-http@0.2.12.wit",
            "../wit/hookgate-plugin@1.1.0",
        ],
        exports: { default: async },
        require_store_data_send: true,
        with: {
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        },
    });

    pub use exports::hookgate::plugin::action::{ActionError, Delivered, Delivery};
    pub use hookgate::plugin::action_types::ActionMetadata;
}

/// The 1.2.0 `signer` export (`hookgate send`). Only its interface is used: the rest of a 1.2.0
/// plugin is served through the 1.0.0 bindings above, so a plugin without a signer (any 1.0.0
/// or 1.1.0 build) loads exactly as before.
pub mod signer {
    wasmtime::component::bindgen!({
        world: "hookgate:plugin/signing-platform-plugin@1.2.0",
        path: [
            "../wit/deps/wasi-io@0.2.12.wit",
            "../wit/deps/wasi-clocks@0.2.12.wit",
            "../wit/deps/wasi-random@0.2.12.wit",
            "../wit/deps/wasi-filesystem@0.2.12.wit",
            "../wit/deps/wasi-sockets@0.2.12.wit",
            "../wit/deps/wasi-cli@0.2.12.wit",
            "../wit/deps/wasi-http@0.2.12.wit",
            "../wit/hookgate-plugin@1.2.0",
        ],
        exports: { default: async },
    });

    pub use exports::hookgate::plugin::signer::{GuestIndices, SignContext, SignError};
    pub use hookgate::plugin::types::{Header, Request};
}

/// The 1.3.0 `platform-plugin` world: one `ingest` export (metadata, check-config, process,
/// sign), so a request is lowered into the guest once. Its `types`, `log` and `crypto`
/// interfaces are unchanged since 1.0.0 and bound to the 1.0.0 modules above, so the request
/// the ingest builds, the host imports and the stubs serve every version alike.
pub mod v1_3 {
    wasmtime::component::bindgen!({
        world: "hookgate:plugin/platform-plugin@1.3.0",
        path: [
            "../wit/deps/wasi-io@0.2.12.wit",
            "../wit/deps/wasi-clocks@0.2.12.wit",
            "../wit/deps/wasi-random@0.2.12.wit",
            "../wit/deps/wasi-filesystem@0.2.12.wit",
            "../wit/deps/wasi-sockets@0.2.12.wit",
            "../wit/deps/wasi-cli@0.2.12.wit",
            "../wit/deps/wasi-http@0.2.12.wit",
            "../wit/hookgate-plugin@1.3.0",
        ],
        exports: { default: async },
        with: {
            "hookgate:plugin/types": super::hookgate::plugin::types,
            "hookgate:plugin/log": super::hookgate::plugin::log,
            "hookgate:plugin/crypto": super::hookgate::plugin::crypto,
        },
    });

    pub use hookgate::plugin::ingest_types::{
        Event, Outcome, Payload, Response, SecretRequirement, SignContext, SignError,
        SourceContext, VerifyError,
    };
}

/// The 1.4.0 `action-plugin` world: the 1.1.0 one plus host RS256 signing, the per-route cache
/// and a `delivered` that may ask for a pause. Its `delivered` record differs, so an action
/// exporting 1.4.0's `action` is bound here and an older one through [`action`]; `log` and
/// `crypto` are unchanged and bound to the 1.0.0 modules (one implementation serves all).
pub mod action_v1_4 {
    wasmtime::component::bindgen!({
        world: "hookgate:plugin/action-plugin@1.4.0",
        path: [
            "../wit/deps/wasi-io@0.2.12.wit",
            "../wit/deps/wasi-clocks@0.2.12.wit",
            "../wit/deps/wasi-random@0.2.12.wit",
            "../wit/deps/wasi-filesystem@0.2.12.wit",
            "../wit/deps/wasi-sockets@0.2.12.wit",
            "../wit/deps/wasi-cli@0.2.12.wit",
            "../wit/deps/wasi-http@0.2.12.wit",
            "../wit/hookgate-plugin@1.4.0",
        ],
        exports: { default: async },
        require_store_data_send: true,
        with: {
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
            "hookgate:plugin/log": super::hookgate::plugin::log,
            "hookgate:plugin/crypto": super::hookgate::plugin::crypto,
        },
    });

    pub use exports::hookgate::plugin::action::{ActionError, Delivered, Delivery};
}
