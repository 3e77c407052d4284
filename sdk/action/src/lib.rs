//! Internal to `hookgate-sdk`, which re-exports everything here: use `hookgate_sdk::http` and
//! `hookgate_sdk::export_action!` instead of depending on this crate.
//!
//! # Why a crate of its own, and a world without `log` and `crypto`
//!
//! wit-bindgen describes a world's imports in a custom section of the object file that holds
//! the bindings, and `wasm-component-ld` unions every such section it links, merging
//! semver-compatible versions of a package into the newest. Generated inside `hookgate-sdk`,
//! the `action-plugin` world's section shared an object file with the platform world's and was
//! linked into *every* plugin: a platform plugin's `hookgate:plugin/crypto@1.0.0` import became
//! `crypto@1.1.0` and its `wasi:io` imports 0.2.12 — and a gateway that links platform plugins
//! against the 1.0.0 interfaces stubs an unknown `crypto@1.1.0` as traps, so every signature
//! check would have trapped.
//!
//! Two measures keep platform plugins as they were:
//!
//! - In a crate of its own, the section is linked only into plugins that use something from
//!   here. That holds in release builds (how plugins are built); debug builds share generic
//!   instantiations across crates and may link it anyway.
//! - So the world generated here leaves out `log` and `crypto` (see [`bindings`]): even when
//!   linked, it cannot change a platform plugin's `hookgate:plugin` imports. At worst a debug
//!   platform plugin's `wasi:io` imports (which the gateway grants platform plugins only as
//!   traps) move from 0.2.6 to 0.2.12.
//!
//! Nothing in `hookgate-sdk`'s own compiled code may call into this crate (re-exports and
//! generic code expanded in the plugin crate are fine), or the first guarantee is lost.
#![deny(missing_docs)]
#![deny(unsafe_code)]

#[doc(hidden)]
pub mod bindings;
pub mod cache;
pub mod http;
pub mod signing;
