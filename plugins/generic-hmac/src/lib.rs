//! hookgate platform plugin **generic-hmac**: any sender that signs its webhooks with a
//! shared-secret HMAC, described by the source's `config` table instead of a plugin of its own
//! (see [`settings`] for the keys). Verification, signing for `hookgate send` and the event's
//! id and type all follow that description.

pub mod normalize;
pub mod settings;
pub mod verify;

use hookgate_sdk::prelude::*;
use settings::Scheme;

/// The generic HMAC platform.
pub struct GenericHmac;

impl Platform for GenericHmac {
    fn metadata() -> Metadata {
        Metadata::new(
            "generic-hmac",
            "any shared-secret HMAC sender, configured per source",
        )
        .secret_description("the shared signing secret")
    }

    fn check_config(settings: &Settings) -> Result<(), ConfigError> {
        Scheme::parse(settings).map(drop)
    }

    fn verify(request: &Request, context: &VerifyContext) -> Result<(), VerifyError> {
        // `check_config` accepted the settings at load, so they parse.
        let scheme = Scheme::parse(&context.settings)
            .map_err(|e| VerifyError::malformed(format!("source settings: {e}")))?;
        verify::verify(&scheme, request, context)
    }

    fn normalize(request: &Request, settings: &Settings) -> Result<Vec<Event>, NormalizeError> {
        let scheme = Scheme::parse(settings).map_err(|e| NormalizeError::new(e.to_string()))?;
        normalize::normalize(&scheme, request).map(|e| vec![e])
    }

    fn sign(request: &Request, context: &SignContext) -> Result<Vec<(String, String)>, SignError> {
        let scheme = Scheme::parse(&context.settings)
            .map_err(|e| SignError::invalid(format!("source settings: {e}")))?;
        verify::signed_headers(&scheme, request, context)
    }
}

hookgate_sdk::export_platform!(GenericHmac);

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const SECRET: &[u8] = b"acme-shared-secret";
    pub(crate) const NOW: i64 = 1_700_000_000;

    /// The contract's example source: Acme signs `{timestamp}.{body}` with HMAC-SHA256, hex,
    /// behind `sha256=`, and names the delivery in a header.
    pub(crate) fn acme() -> Settings {
        Settings::from_json(serde_json::json!({
            "header": "X-Acme-Signature",
            "algorithm": "sha256",
            "encoding": "hex",
            "prefix": "sha256=",
            "signed": "{timestamp}.{body}",
            "timestamp_header": "X-Acme-Timestamp",
            "id_header": "X-Acme-Delivery",
            "type_field": "type",
            "type_prefix": "acme",
        }))
    }

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures_with::<GenericHmac>(
            env!("CARGO_MANIFEST_DIR"),
            SECRET,
            NOW,
            &acme(),
        );
    }
}
