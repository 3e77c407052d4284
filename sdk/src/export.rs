//! Glue between the wit-bindgen bindings and [`crate::Platform`]; used by [`export_platform!`].

use crate::bindings::hookgate::plugin::ingest_types as it;
use crate::bindings::hookgate::plugin::types as ty;
use crate::event::Payload;
use crate::{
    Platform, Request, Response, SecretRequirement, Settings, SignContext, SignError,
    VerifyContext, VerifyError,
};

fn request(r: ty::Request) -> Request {
    Request {
        method: r.method,
        url: r.url,
        headers: r.headers.into_iter().map(|h| (h.name, h.value)).collect(),
        body: r.body,
    }
}

/// The host checked the settings at load (`check-config`), so they parse; were they somehow
/// not to, the plugin sees none rather than trapping.
fn settings(json: &str) -> Settings {
    Settings::parse(json).unwrap_or_default()
}

fn context(c: it::SourceContext) -> VerifyContext {
    VerifyContext {
        secrets: c.secrets,
        tolerance_secs: c.tolerance_secs,
        now_unix_secs: c.now_unix_secs,
        settings: settings(&c.config),
    }
}

fn response(r: Response) -> it::Response {
    it::Response {
        status: r.status,
        headers: r.headers,
        body: r.body,
    }
}

/// Metadata for the plugin, with the plugin crate's own version.
pub fn metadata<P: Platform>(version: &str) -> it::PluginMetadata {
    let m = P::metadata();
    it::PluginMetadata {
        name: m.name,
        version: version.to_owned(),
        wit_version: crate::WIT_VERSION.to_owned(),
        description: m.description,
        secrets: match m.secrets {
            SecretRequirement::Required => it::SecretRequirement::Required,
            SecretRequirement::Optional => it::SecretRequirement::Optional,
            SecretRequirement::None => it::SecretRequirement::None,
        },
        secret_description: m.secret_description,
        suggested_max_body_bytes: m.suggested_max_body_bytes,
        has_handshake: m.has_handshake,
    }
}

/// Calls [`Platform::check_config`].
pub fn check_config<P: Platform>(json: String) -> Result<(), it::ConfigError> {
    Settings::parse(&json)
        .and_then(|s| P::check_config(&s))
        .map_err(|e| it::ConfigError {
            key: e.key,
            message: e.message,
        })
}

/// Calls [`Platform::verify`] alone (the host asks only after `process` faulted).
pub fn verify<P: Platform>(r: ty::Request, c: it::SourceContext) -> Result<(), it::VerifyError> {
    P::verify(&request(r), &context(c)).map_err(verify_error)
}

/// One request, start to end: [`Platform::handshake`], then for a POST
/// [`Platform::verify`], [`Platform::normalize`] and [`Platform::answer`].
pub fn process<P: Platform>(r: ty::Request, c: it::SourceContext) -> it::Outcome {
    let request = request(r);
    let context = context(c);
    if let Some(answer) = P::handshake(&request, &context) {
        return it::Outcome::Handshake(response(answer));
    }
    // Only POSTs carry events; any other method is a handshake or nothing.
    if request.method != "POST" {
        return it::Outcome::Refused(it::VerifyError::MissingSignature);
    }
    if let Err(e) = P::verify(&request, &context) {
        return it::Outcome::Refused(verify_error(e));
    }
    let events = P::normalize(&request, &context.settings)
        .map(|events| events.into_iter().map(event).collect())
        .map_err(|e| e.0);
    it::Outcome::Accepted(it::Accepted {
        events,
        response: P::answer(&request, &context.settings).map(response),
    })
}

fn verify_error(e: VerifyError) -> it::VerifyError {
    match e {
        VerifyError::MissingSignature => it::VerifyError::MissingSignature,
        VerifyError::MalformedSignature(s) => it::VerifyError::MalformedSignature(s),
        VerifyError::SignatureMismatch => it::VerifyError::SignatureMismatch,
        VerifyError::MissingTimestamp => it::VerifyError::MissingTimestamp,
        VerifyError::TimestampOutsideTolerance(t) => it::VerifyError::TimestampOutsideTolerance(t),
        VerifyError::NoSecretConfigured => it::VerifyError::NoSecretConfigured,
    }
}

fn event(e: crate::Event) -> it::Event {
    it::Event {
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
            Payload::WholeBody => it::Payload::WholeBody,
            Payload::Json(s) => it::Payload::Json(s),
        },
    }
}

/// Calls [`Platform::sign_body`], then [`Platform::sign`] on the request with that body.
pub fn sign<P: Platform>(r: ty::Request, c: it::SignContext) -> Result<it::Signed, it::SignError> {
    let context = SignContext {
        secret: c.secret,
        now_unix_secs: c.now_unix_secs,
        nonce: c.nonce,
        settings: settings(&c.config),
    };
    let signed = crate::platform::sign_request::<P>(request(r), &context).map_err(|e| match e {
        SignError::Unsupported => it::SignError::Unsupported,
        SignError::Invalid(message) => it::SignError::Invalid(message),
    })?;
    Ok(it::Signed {
        headers: signed
            .headers
            .into_iter()
            .map(|(name, value)| ty::Header {
                name,
                value: value.into_bytes(),
            })
            .collect(),
        body: signed.body,
    })
}

/// Exports a [`Platform`](crate::Platform) implementation as the plugin's component exports.
/// Call it exactly once per plugin crate, with a type that implements `Platform`.
#[macro_export]
macro_rules! export_platform {
    ($platform:ty) => {
        #[doc(hidden)]
        pub struct __HookgatePlatformExport;

        impl $crate::bindings::exports::hookgate::plugin::ingest::Guest for __HookgatePlatformExport {
            fn metadata() -> $crate::bindings::hookgate::plugin::ingest_types::PluginMetadata {
                $crate::export::metadata::<$platform>(env!("CARGO_PKG_VERSION"))
            }
            fn check_config(
                config: String,
            ) -> Result<(), $crate::bindings::hookgate::plugin::ingest_types::ConfigError> {
                $crate::export::check_config::<$platform>(config)
            }
            fn process(
                request: $crate::bindings::hookgate::plugin::types::Request,
                context: $crate::bindings::hookgate::plugin::ingest_types::SourceContext,
            ) -> $crate::bindings::hookgate::plugin::ingest_types::Outcome {
                $crate::export::process::<$platform>(request, context)
            }
            fn verify(
                request: $crate::bindings::hookgate::plugin::types::Request,
                context: $crate::bindings::hookgate::plugin::ingest_types::SourceContext,
            ) -> Result<(), $crate::bindings::hookgate::plugin::ingest_types::VerifyError> {
                $crate::export::verify::<$platform>(request, context)
            }
            fn sign(
                request: $crate::bindings::hookgate::plugin::types::Request,
                context: $crate::bindings::hookgate::plugin::ingest_types::SignContext,
            ) -> Result<
                $crate::bindings::hookgate::plugin::ingest_types::Signed,
                $crate::bindings::hookgate::plugin::ingest_types::SignError,
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
