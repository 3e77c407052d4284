//! # hookgate-sdk
//!
//! Everything needed to write a hookgate **platform plugin**: a WebAssembly component that
//! verifies one platform's webhook signatures and turns its payloads into hookgate's normalized
//! events. Implement [`Platform`] for a unit struct and call [`export_platform!`] once:
//!
//! ```ignore
//! use hookgate_sdk::prelude::*;
//!
//! struct Acme;
//!
//! impl Platform for Acme {
//!     fn metadata() -> Metadata {
//!         Metadata::new("acme", "Acme Corp webhooks").secrets(SecretRequirement::Required)
//!     }
//!     fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
//!         let sig = req.header_str("x-acme-signature")?.ok_or(VerifyError::MissingSignature)?;
//!         let sig = hex_decode(sig).map_err(|_| VerifyError::malformed("not hex"))?;
//!         ctx.verify_any_secret(|secret| hmac_verify(Hash::Sha256, secret, &[&req.body], &sig))
//!     }
//!     fn normalize(req: &Request) -> Result<Vec<Event>, NormalizeError> {
//!         let body: serde_json::Value = req.json()?;
//!         let id = body["id"].as_str().ok_or(NormalizeError::missing("id"))?;
//!         Ok(vec![Event::new(id, "acme.ping").whole_body()])
//!     }
//! }
//!
//! hookgate_sdk::export_platform!(Acme);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` and drop the `.wasm` into the
//! gateway's plugins directory.
//!
//! The verification and normalization functions are ordinary Rust: test them on the host
//! target with `cargo test`. Off wasm, the crypto helpers run natively with the same semantics
//! as the host's crypto imports, so tests exercise real signatures.
//!
//! Invariants every helper keeps: an empty signature never verifies, comparisons of secret
//! material are constant-time, and nothing here reads a clock (the host passes `now`).
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod amount;
#[doc(hidden)]
pub mod bindings;
pub mod crypto;
pub mod encoding;
pub mod event;
#[doc(hidden)]
pub mod export;
pub mod log;
pub mod platform;
pub mod request;
pub mod signature;
pub mod time;

pub use serde_json;

pub use event::{Event, NormalizeError};
pub use platform::{HandshakeResponse, Metadata, Platform, SecretRequirement};
pub use request::{Request, VerifyContext, VerifyError};

/// The version of the `hookgate:plugin` WIT package this SDK builds plugins against.
pub const WIT_VERSION: &str = "1.0.0";

/// One import for plugin code: the trait, the types and every helper.
pub mod prelude {
    pub use crate::amount::{currency_exponent, decimal_to_minor_units};
    pub use crate::crypto::{Hash, constant_time_eq, hmac, hmac_verify, sha256};
    pub use crate::encoding::{base64_decode, base64_encode, form_value, hex_decode, hex_encode};
    pub use crate::event::{Event, NormalizeError};
    pub use crate::platform::{HandshakeResponse, Metadata, Platform, SecretRequirement};
    pub use crate::request::{Request, VerifyContext, VerifyError};
    pub use crate::signature::{SignatureHeader, split_signature_list};
    pub use crate::time::{parse_unix_secs, rfc3339_from_unix};
    pub use crate::{export_platform, log};
}
