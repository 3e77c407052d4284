//! The WebAssembly plugin runtime: one wasmtime engine, each plugin compiled once and
//! pre-instantiated, a fresh instance per request with a CPU deadline (epoch interruption) and
//! a memory cap (store limiter). A plugin that traps, spins or hoards memory costs only its
//! own call an error; the host and every other request carry on.

mod action;
mod action_cache;
mod action_host;
mod bindings;
mod cache;
mod call;
mod engine;
mod host_imports;
mod platform;
mod registry;
#[cfg(test)]
mod released_wit;
mod signing;
mod state;
mod stubs;
mod watch;

pub use action::{ActionOutcome, ActionPlugin, ActionRun, DeliveryRequest};
pub use bindings::{
    Event as PluginEvent, HandshakeResponse, Header, Payload, Request, SecretRequirement,
    VerifyContext, VerifyError,
};
pub use platform::{
    ConfigRefusal, Outcome, PlatformPlugin, PluginInfo, SignContext, SignError, SignedRequest,
    SourceContext, Verified,
};
pub use registry::{LoadError, Loaded, Registry, load_file};
pub use state::Cutoff;
pub use watch::{PluginWatch, watch};

pub use engine::{CPU_PER_BODY_MIB, Limits, PluginFault, Runtime};
