//! Raw wit-bindgen bindings for action plugins: the `action` export of `hookgate:plugin@1.4.0`,
//! its `signing` and `cache` imports and the `wasi:http/outgoing-handler` import, with the
//! `wasi:io`/`wasi:clocks` types it reaches. Plugin code should not need these: `hookgate_sdk::Action`,
//! `hookgate_sdk::export_action!` and [`crate::http`] wrap them.
//!
//! The world generated here is the package's `action-plugin` world minus its `log` and
//! `crypto` imports (see the crate docs for why): the SDK's `log` and `crypto` modules, shared
//! with platform plugins, import the 1.3.0 versions; linked into an action plugin they merge
//! into 1.4.0 (the newest version of the package the component uses), which the gateway grants
//! action plugins. A component built from this still targets `action-plugin`: it exports exactly its
//! `action` interface and imports a subset of what the world allows plus the helpers.
//!
//! `generate_all` is needed because `wasi:http/outgoing-handler` refers to types of other WASI
//! interfaces (streams, pollables, durations); no crate in the workspace provides bindings for
//! them, so these are generated here, private to the SDK. Their WIT is vendored once, in
//! `wit/deps/`, and listed before the package in dependency order (each file may only use those
//! above it).
#![allow(missing_docs, clippy::all, unsafe_code)]

wit_bindgen::generate!({
    inline: r#"
        package hookgate:sdk-action;

        world action-plugin-http {
            import wasi:http/outgoing-handler@0.2.12;
            import hookgate:plugin/signing@1.4.0;
            import hookgate:plugin/cache@1.4.0;
            export hookgate:plugin/action@1.4.0;
        }
    "#,
    path: [
        "../../wit/deps/wasi-io@0.2.12.wit",
        "../../wit/deps/wasi-clocks@0.2.12.wit",
        "../../wit/deps/wasi-random@0.2.12.wit",
        "../../wit/deps/wasi-filesystem@0.2.12.wit",
        "../../wit/deps/wasi-sockets@0.2.12.wit",
        "../../wit/deps/wasi-cli@0.2.12.wit",
        "../../wit/deps/wasi-http@0.2.12.wit",
        "../../wit/hookgate-plugin@1.4.0",
    ],
    world: "hookgate:sdk-action/action-plugin-http",
    default_bindings_module: "hookgate_sdk::action_bindings",
    pub_export_macro: true,
    export_macro_name: "__export_action_bindings",
    generate_all,
});
