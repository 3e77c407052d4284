//! Host-side bindings of the `hookgate:plugin` WIT package. Every supported package version
//! gets its own module here; version 1.0.0 is the first.

wasmtime::component::bindgen!({
    world: "platform-plugin",
    path: "../wit/hookgate-plugin@1.0.0",
    exports: { default: async },
});

pub use hookgate::plugin::platform_types::{
    Event, HandshakeResponse, Payload, PluginMetadata, SecretRequirement, VerifyError,
};
pub use hookgate::plugin::types::{Header, Request, VerifyContext};
