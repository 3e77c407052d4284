//! Glue between the wit-bindgen bindings and [`crate::Platform`]; used by [`export_platform!`].

use crate::bindings::exports::hookgate::plugin::signer as sg;
use crate::bindings::hookgate::plugin::platform_types as pt;
use crate::bindings::hookgate::plugin::types as ty;
use crate::event::Payload;
use crate::{
    Platform, Request, SecretRequirement, SignContext, SignError, VerifyContext, VerifyError,
};

fn request(r: ty::Request) -> Request {
    Request {
        method: r.method,
        url: r.url,
        headers: r.headers.into_iter().map(|h| (h.name, h.value)).collect(),
        body: r.body,
    }
}

fn context(c: ty::VerifyContext) -> VerifyContext {
    VerifyContext {
        secrets: c.secrets,
        tolerance_secs: c.tolerance_secs,
        now_unix_secs: c.now_unix_secs,
    }
}

/// Metadata for the plugin, with the plugin crate's own version.
pub fn metadata<P: Platform>(version: &str) -> pt::PluginMetadata {
    let m = P::metadata();
    pt::PluginMetadata {
        name: m.name,
        version: version.to_owned(),
        wit_version: crate::WIT_VERSION.to_owned(),
        description: m.description,
        secrets: match m.secrets {
            SecretRequirement::Required => pt::SecretRequirement::Required,
            SecretRequirement::Optional => pt::SecretRequirement::Optional,
            SecretRequirement::None => pt::SecretRequirement::None,
        },
        secret_description: m.secret_description,
        suggested_max_body_bytes: m.suggested_max_body_bytes,
        has_handshake: m.has_handshake,
    }
}

/// Calls [`Platform::handshake`].
pub fn handshake<P: Platform>(
    r: ty::Request,
    c: ty::VerifyContext,
) -> Option<pt::HandshakeResponse> {
    P::handshake(&request(r), &context(c)).map(|h| pt::HandshakeResponse {
        status: h.status,
        headers: h.headers,
        body: h.body,
    })
}

/// Calls [`Platform::verify`].
pub fn verify<P: Platform>(r: ty::Request, c: ty::VerifyContext) -> Result<(), pt::VerifyError> {
    P::verify(&request(r), &context(c)).map_err(|e| match e {
        VerifyError::MissingSignature => pt::VerifyError::MissingSignature,
        VerifyError::MalformedSignature(s) => pt::VerifyError::MalformedSignature(s),
        VerifyError::SignatureMismatch => pt::VerifyError::SignatureMismatch,
        VerifyError::MissingTimestamp => pt::VerifyError::MissingTimestamp,
        VerifyError::TimestampOutsideTolerance(t) => pt::VerifyError::TimestampOutsideTolerance(t),
        VerifyError::NoSecretConfigured => pt::VerifyError::NoSecretConfigured,
    })
}

/// Calls [`Platform::normalize`].
pub fn normalize<P: Platform>(r: ty::Request) -> Result<Vec<pt::Event>, String> {
    let events = P::normalize(&request(r)).map_err(|e| e.0)?;
    Ok(events
        .into_iter()
        .map(|e| pt::Event {
            platform_event_id: e.platform_event_id,
            event_type: e.event_type,
            occurred_at: e.occurred_at,
            entity_id: e.entity_id,
            entity_type: e.entity_type,
            user_id: e.user_id,
            amount: e.amount,
            currency: e.currency,
            metadata: e.metadata,
            payload: match e.payload {
                Payload::WholeBody => pt::Payload::WholeBody,
                Payload::Json(s) => pt::Payload::Json(s),
            },
        })
        .collect())
}

/// Calls [`Platform::sign`].
pub fn sign<P: Platform>(
    r: ty::Request,
    c: sg::SignContext,
) -> Result<Vec<ty::Header>, sg::SignError> {
    let context = SignContext {
        secret: c.secret,
        now_unix_secs: c.now_unix_secs,
        nonce: c.nonce,
    };
    match P::sign(&request(r), &context) {
        Ok(headers) => Ok(headers
            .into_iter()
            .map(|(name, value)| ty::Header {
                name: name.to_ascii_lowercase(),
                value: value.into_bytes(),
            })
            .collect()),
        Err(SignError::Unsupported) => Err(sg::SignError::Unsupported),
        Err(SignError::Invalid(message)) => Err(sg::SignError::Invalid(message)),
    }
}

/// Exports a [`Platform`](crate::Platform) implementation as the plugin's component exports.
/// Call it exactly once per plugin crate, with a type that implements `Platform`.
#[macro_export]
macro_rules! export_platform {
    ($platform:ty) => {
        #[doc(hidden)]
        pub struct __HookgatePlatformExport;

        impl $crate::bindings::exports::hookgate::plugin::platform::Guest for __HookgatePlatformExport {
            fn metadata() -> $crate::bindings::hookgate::plugin::platform_types::PluginMetadata {
                $crate::export::metadata::<$platform>(env!("CARGO_PKG_VERSION"))
            }
            fn handshake(
                request: $crate::bindings::hookgate::plugin::types::Request,
                context: $crate::bindings::hookgate::plugin::types::VerifyContext,
            ) -> Option<$crate::bindings::hookgate::plugin::platform_types::HandshakeResponse> {
                $crate::export::handshake::<$platform>(request, context)
            }
            fn verify(
                request: $crate::bindings::hookgate::plugin::types::Request,
                context: $crate::bindings::hookgate::plugin::types::VerifyContext,
            ) -> Result<(), $crate::bindings::hookgate::plugin::platform_types::VerifyError> {
                $crate::export::verify::<$platform>(request, context)
            }
            fn normalize(
                request: $crate::bindings::hookgate::plugin::types::Request,
            ) -> Result<Vec<$crate::bindings::hookgate::plugin::platform_types::Event>, String> {
                $crate::export::normalize::<$platform>(request)
            }
        }

        impl $crate::bindings::exports::hookgate::plugin::signer::Guest for __HookgatePlatformExport {
            fn sign(
                request: $crate::bindings::hookgate::plugin::types::Request,
                context: $crate::bindings::exports::hookgate::plugin::signer::SignContext,
            ) -> Result<
                Vec<$crate::bindings::hookgate::plugin::types::Header>,
                $crate::bindings::exports::hookgate::plugin::signer::SignError,
            > {
                $crate::export::sign::<$platform>(request, context)
            }
        }

        // Only wasm builds export the component ABI; native builds (unit tests) would fail to
        // link a cdylib with WIT-style symbol names.
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_platform_bindings!(__HookgatePlatformExport with_types_in $crate::bindings);
    };
}
