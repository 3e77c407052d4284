//! hookgate platform plugin for **Meta** Graph API webhooks: Facebook Pages and Messenger,
//! Instagram, WhatsApp Cloud API, Threads — one Meta app's subscriptions.
//!
//! Verifies `X-Hub-Signature-256`: `sha256=` + lower-case hex HMAC-SHA256 of the raw body under
//! the app secret (raw bytes), as Meta's WhatsApp SDK checks it. The raw body is exactly what
//! Meta signed (its "escaped unicode" remark concerns re-serialized JSON, which is never used
//! here). The legacy SHA-1 `X-Hub-Signature` Meta still sends alongside is not accepted. Meta
//! signs no timestamp, so there is no replay window: replays are caught by duplicate detection
//! on each event's id. Resetting the app secret invalidates queued retries: keep the old one
//! configured beside the new one for a while.
//!
//! **Handshake.** When a callback URL or verify token is saved, Meta sends an unsigned
//! `GET ?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…`. It is answered `200` with the
//! challenge as `text/plain` only when the token equals the source's `config.verify_token`
//! (compared in constant time); any other request carrying `hub.*` parameters is answered
//! `403`, as Meta's own Messenger and WhatsApp samples do (Meta only needs a non-200; a 403 says
//! "wrong token" rather than "unsigned", and nothing is stored either way). A GET without them
//! is no handshake and is refused with a 401 like any unsigned request. The query is read from
//! the request URL: do not set the source's `public_url`, which replaces that URL (Meta does not
//! sign the URL anyway).
//!
//! **Settings**: `config = { verify_token = "…" }`, required.
//!
//! **Batches.** One POST carries `entry[]`, each with `changes[]` (Graph fields) or
//! `messaging[]` / `standby[]` (Messenger, Instagram messaging): one event per change or
//! messaging item, with that item as its payload. Meta sends no delivery id, so each event's id
//! is derived from the signed body (see [`normalize`]).

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Meta platform.
pub struct Meta;

/// The one setting: the token Meta's GET handshake must present.
pub const VERIFY_TOKEN: &str = "verify_token";

impl Platform for Meta {
    fn metadata() -> Metadata {
        Metadata::new(
            "meta",
            "Meta Graph API webhooks: Pages, Messenger, Instagram, WhatsApp (X-Hub-Signature-256, HMAC-SHA256)",
        )
        .secret_description("app secret")
        .with_handshake()
    }

    fn check_config(settings: &Settings) -> Result<(), ConfigError> {
        settings.only(&[VERIFY_TOKEN])?;
        settings.required_str(VERIFY_TOKEN).map(drop)
    }

    fn handshake(request: &Request, context: &VerifyContext) -> Option<Response> {
        verify::handshake(request, &context.settings)
    }

    fn verify(request: &Request, context: &VerifyContext) -> Result<(), VerifyError> {
        verify::verify(request, context)
    }

    fn normalize(request: &Request, _settings: &Settings) -> Result<Vec<Event>, NormalizeError> {
        normalize::normalize(request)
    }

    fn sign(request: &Request, context: &SignContext) -> Result<Vec<(String, String)>, SignError> {
        verify::signed_headers(request, context)
    }
}

hookgate_sdk::export_platform!(Meta);

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const SECRET: &[u8] = b"meta-app-secret-0123456789abcdef";
    const NOW: i64 = 1_700_000_000;

    pub(crate) fn settings() -> Settings {
        Settings::from_json(serde_json::json!({ "verify_token": "meatball-subscribe-42" }))
    }

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures_with::<Meta>(
            env!("CARGO_MANIFEST_DIR"),
            SECRET,
            NOW,
            &settings(),
        );
    }

    #[test]
    fn the_handshake_reads_the_sources_token() {
        let get = |token: &str| Request {
            method: "GET".into(),
            url: format!(
                "https://hooks.example.com/webhooks/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={token}"
            ),
            ..Request::default()
        };
        let context = VerifyContext::new(SECRET, NOW).with_settings(settings());
        assert_eq!(
            Meta::handshake(&get("meatball-subscribe-42"), &context),
            Some(Response::ok("text/plain", "1158201444"))
        );
        assert_eq!(
            Meta::handshake(&get("guess"), &context),
            Some(Response::empty(403))
        );
        // An event notification is no handshake, whatever its URL.
        let post = Request {
            url: get("meatball-subscribe-42").url,
            ..Request::post("{}")
        };
        assert_eq!(Meta::handshake(&post, &context), None);
    }

    #[test]
    fn the_verify_token_is_a_required_string_and_the_only_setting() {
        assert!(Meta::check_config(&settings()).is_ok());
        let error = |json: serde_json::Value| {
            Meta::check_config(&Settings::from_json(json))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error(serde_json::json!({})),
            "config.verify_token is required"
        );
        assert_eq!(
            error(serde_json::json!({ "verify_token": "" })),
            "config.verify_token is required"
        );
        assert_eq!(
            error(serde_json::json!({ "verify_token": 42 })),
            "config.verify_token must be a string"
        );
        assert!(
            error(serde_json::json!({ "verify_token": "t", "app_secret": "s" }))
                .starts_with("config.app_secret is not a setting")
        );
    }
}
