//! # hookgate-sdk
//!
//! Everything needed to write hookgate plugins: WebAssembly components the gateway loads. There
//! are two kinds, each its own component world with its own trait and export macro.
//!
//! ## Platform plugins
//!
//! A platform plugin verifies one platform's webhook signatures and turns its payloads into
//! hookgate's normalized events. Implement [`Platform`] for a unit struct and call
//! [`export_platform!`] once:
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
//!     fn normalize(req: &Request, _settings: &Settings) -> Result<Vec<Event>, NormalizeError> {
//!         let body: serde_json::Value = req.json()?;
//!         let id = body["id"].as_str().ok_or(NormalizeError::missing("id"))?;
//!         Ok(vec![Event::new(id, "acme.ping").whole_body()])
//!     }
//! }
//!
//! hookgate_sdk::export_platform!(Acme);
//! ```
//!
//! A platform plugin has no clock, network or filesystem: the host hands it `now` and the
//! secrets, and a source's `config` table as [`Settings`] (checked at load by
//! [`Platform::check_config`]). It targets `hookgate:plugin@1.3.0` ([`WIT_VERSION`]): the host
//! makes one call per request, in which the SDK runs handshake, verify, normalize and answer.
//! Implementing
//! [`Platform::sign`] as well lets operators send signed test requests to a source with
//! `hookgate send`; plugins that leave it out answer `unsupported`.
//!
//! ## Action plugins
//!
//! An action plugin performs one delivery attempt of one event along one route, usually an
//! outbound HTTP request through [`http`]. Implement [`Action`] and call [`export_action!`]:
//!
//! ```ignore
//! use hookgate_sdk::prelude::*;
//!
//! struct Ping;
//!
//! impl Action for Ping {
//!     fn metadata() -> ActionMetadata {
//!         ActionMetadata::new("ping", "POSTs each event to config.url")
//!     }
//!     fn check_config(config: &serde_json::Value) -> Result<(), String> {
//!         let url = config["url"].as_str().ok_or("url is required")?;
//!         Url::parse(url).map(|_| ()).map_err(|e| e.to_string())
//!     }
//!     fn run(delivery: &Delivery) -> Result<Delivered, ActionError> {
//!         let url = delivery.config["url"].as_str().unwrap_or_default();
//!         let response = HttpRequest::new(Method::Post, url)
//!             .header("content-type", "application/json")
//!             .header("idempotency-key", &delivery.event_id)
//!             .body(delivery.event_json.clone())
//!             .send()
//!             .map_err(|e| ActionError::retryable(e.to_string()))?;
//!         match response.status {
//!             200..=299 => Ok(Delivered::status(response.status)),
//!             429 => Err(ActionError::rate_limited("HTTP 429")
//!                 .with_status(429)
//!                 .with_after_ms(response.header("retry-after").and_then(|v| {
//!                     retry_after_ms(v, delivery.now_unix_ms)
//!                 }))),
//!             s => Err(ActionError::permanent(format!("HTTP {s}")).with_status(s)),
//!         }
//!     }
//! }
//!
//! hookgate_sdk::export_action!(Ping);
//! ```
//!
//! The host owns the retry schedule, jitter, the `Retry-After` cap and the dead-letter queue;
//! the plugin only classifies each attempt as an [`ActionError`] variant. Sign what you send
//! with [`standard_webhooks`]. Action plugins target `hookgate:plugin@1.4.0`
//! ([`ACTION_WIT_VERSION`]); [`log`] and [`crypto`] work in both kinds, [`signing`] (RS256 by
//! the host) and [`cache`] (per route, in the host's memory) in actions only, and
//! [`api`] holds what actions calling an HTTP API share.
//!
//! ## Building and testing
//!
//! Build with `cargo build --release --target wasm32-wasip2` and drop the `.wasm` into the
//! gateway's plugins directory.
//!
//! The plugin functions are ordinary Rust: test them on the host target with `cargo test`. Off
//! wasm, the crypto helpers run natively with the same semantics as the host's crypto imports,
//! so tests exercise real signatures; [`http::Request::send`] validates its request and then
//! fails (there is no network outside the gateway), so keep response handling in pure
//! functions over [`http::Response`] and test those.
//!
//! `testing` (host target only) holds the tests every platform plugin needs: its `fixtures/`
//! checked against golden files, the sign round trip, and the refusals of forged requests,
//! all from one call to `testing::check_fixtures`.
//!
//! Invariants every helper keeps: an empty signature never verifies, comparisons of secret
//! material are constant-time, and nothing here reads a clock (the host passes `now`).
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod action;
#[doc(hidden)]
pub mod action_export;
pub mod amount;
pub mod api;
#[doc(hidden)]
pub mod bindings;
pub mod crypto;
pub mod encoding;
pub mod event;
#[doc(hidden)]
pub mod export;
pub mod hmac_header;
pub mod json;
pub mod log;
pub mod platform;
pub mod request;
pub mod retry_after;
pub mod settings;
pub mod signature;
pub mod standard_webhooks;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod time;

pub use serde_json;

/// Raw bindings of the action world, used by [`export_action!`]. They live in a crate of their
/// own so that platform plugins do not link them (see `hookgate-sdk-action`'s docs).
#[doc(hidden)]
pub use hookgate_sdk_action::bindings as action_bindings;
pub use hookgate_sdk_action::{cache, http, signing};

pub use action::{Action, ActionError, ActionMetadata, Delivered, Delivery};
pub use event::{Event, NormalizeError};
pub use platform::{Metadata, Platform, Response, SecretRequirement, SignContext, SignError};
pub use request::{Request, VerifyContext, VerifyError};
pub use settings::{ConfigError, Settings};

/// The version of the `hookgate:plugin` WIT package this SDK builds platform plugins against.
/// 1.3.0 made a request one call (`ingest.process`) and added per-source settings and the
/// plugin's own answer to an accepted webhook; gateways serve 1.0.0 to 1.3.0.
pub const WIT_VERSION: &str = "1.3.0";

/// The version of the `hookgate:plugin` WIT package this SDK builds action plugins against:
/// the `action-plugin` world first appeared in 1.1.0; 1.4.0 added host RS256 signing, the
/// per-route cache and the quota pause of a delivery. Gateways serve 1.1.0 to 1.4.0.
pub const ACTION_WIT_VERSION: &str = "1.4.0";

/// One import for plugin code: the traits, the types and every helper. The HTTP client's types
/// are `HttpRequest` and `HttpResponse` here, because `Request` is the platform plugins'
/// inbound request.
pub mod prelude {
    pub use crate::action::{Action, ActionError, ActionMetadata, Delivered, Delivery};
    pub use crate::amount::{currency_exponent, decimal_to_minor_units};
    pub use crate::crypto::{
        Hash, constant_time_eq, ecdsa_p256_sign, ecdsa_p256_verify, ed25519_sign, ed25519_verify,
        hmac, hmac_verify, sha256,
    };
    pub use crate::encoding::{
        base64_decode, base64_encode, base64url_encode, form_encode, form_pairs, form_value,
        hex_decode, hex_encode, percent_encode, query_value, snake_case,
    };
    pub use crate::event::{Event, NormalizeError};
    pub use crate::hmac_header::{Encoding, HmacHeader};
    pub use crate::http::{
        HttpError, Method, Request as HttpRequest, Response as HttpResponse, Url,
    };
    pub use crate::platform::{
        Metadata, Platform, Response, SecretRequirement, SignContext, SignError,
    };
    pub use crate::request::{Request, VerifyContext, VerifyError};
    pub use crate::retry_after::retry_after_ms;
    pub use crate::settings::{ConfigError, Settings};
    pub use crate::signature::{SignatureHeader, split_signature_list};
    pub use crate::time::{
        parse_http_date, parse_int_prefix, parse_rfc3339, parse_unix_secs, rfc3339_from_unix,
        rfc3339_from_unix_ms,
    };
    pub use crate::{cache, export_action, export_platform, log, signing, standard_webhooks};
}
