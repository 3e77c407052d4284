//! Raw wit-bindgen bindings for the `platform-plugin` world of 1.3.0 (one `ingest` export:
//! metadata, check-config, process, sign). Plugin code should not need these:
//! [`crate::Platform`] and [`crate::export_platform!`] wrap them.
//!
//! The WASI packages the 1.3.0 package refers to are vendored once, in `wit/deps/`, and listed
//! before the package in dependency order (each file may only use those above it).
#![allow(missing_docs, clippy::all, unsafe_code)]

wit_bindgen::generate!({
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
    default_bindings_module: "hookgate_sdk::bindings",
    pub_export_macro: true,
    export_macro_name: "__export_platform_bindings",
});
