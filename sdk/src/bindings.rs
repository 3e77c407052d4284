//! Raw wit-bindgen bindings for the `signing-platform-plugin` world (1.2.0: the platform world
//! plus the optional `signer` export). Plugin code should not need these: [`crate::Platform`]
//! and [`crate::export_platform!`] wrap them.
#![allow(missing_docs, clippy::all, unsafe_code)]

wit_bindgen::generate!({
    world: "signing-platform-plugin",
    path: "../wit/hookgate-plugin@1.2.0",
    default_bindings_module: "hookgate_sdk::bindings",
    pub_export_macro: true,
    export_macro_name: "__export_platform_bindings",
});
