//! hookgate platform plugin for **Discord**: the Interactions endpoint (slash commands,
//! components, modals) and the Webhook Events endpoint (`ENTITLEMENT_CREATE`,
//! `APPLICATION_AUTHORIZED`…).
//!
//! - **Verified**: the Ed25519 signature in `X-Signature-Ed25519` (hex) of
//!   `X-Signature-Timestamp` followed by the raw body. The source's secret is the application's
//!   **public key** (64 hex characters, from the developer portal). A timestamp older than the
//!   tolerance is refused; a future one is accepted, as Discord's SDK checks no time at all.
//! - **Event id**: an interaction's `id` (a snowflake, signed). Webhook events carry no id of
//!   any kind: theirs is `sha256:` + the signed body's SHA-256.
//! - **Handshakes**: a PING is answered only once its signature verifies (Discord probes
//!   endpoints with bad signatures and drops those that accept them): `{"type":1}` (JSON) on
//!   the Interactions endpoint, an empty 204 on the Webhook Events endpoint.
//! - **Answer**: Discord wants an answer within 3 seconds. Interactions are deferred
//!   (`{"type":5}` for commands and modals, `{"type":6}` for components; autocomplete, which
//!   cannot be deferred, gets no choices), and the application follows up with the
//!   interaction's token from the forwarded payload. Webhook events get an empty 204.
//! - **Signing** (`hookgate send --key`): the key is an Ed25519 private key as 64 hex
//!   characters (the 32-byte seed) whose public key the source is configured with.
//! - **Settings**: none.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Discord platform.
pub struct Discord;

impl Platform for Discord {
    fn metadata() -> Metadata {
        Metadata::new(
            "discord",
            "Discord interactions and webhook events (Ed25519 signatures)",
        )
        .secret_description("application public key (64 hex characters)")
        .with_handshake()
    }

    fn handshake(request: &Request, context: &VerifyContext) -> Option<Response> {
        let answer = normalize::ping_answer(normalize::kind(request)?)?;
        // An unverified PING gets no answer here; verified as an ordinary request, it is then
        // refused with a 401, which is what Discord's probes must see.
        verify::verify(request, context).ok()?;
        Some(answer)
    }

    fn verify(request: &Request, context: &VerifyContext) -> Result<(), VerifyError> {
        verify::verify(request, context)
    }

    fn normalize(request: &Request, _settings: &Settings) -> Result<Vec<Event>, NormalizeError> {
        normalize::normalize(request).map(|e| vec![e])
    }

    fn answer(request: &Request, _settings: &Settings) -> Option<Response> {
        normalize::answer(request)
    }

    fn sign(request: &Request, context: &SignContext) -> Result<Vec<(String, String)>, SignError> {
        verify::signed_headers(request, context)
    }
}

hookgate_sdk::export_platform!(Discord);

#[cfg(test)]
mod tests {
    use super::*;

    /// A test key pair: the private key is the seed 0x21..=0x40, as `hookgate send --key`
    /// takes it; the public key is what the source is configured with.
    const PRIVATE: &[u8] = b"2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40";
    const PUBLIC: &[u8] = b"e7f162a10bec559afea195e4dce84b69568d5d2cb0963eb446c0685e2b17f2f0";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures_keyed::<Discord>(
            env!("CARGO_MANIFEST_DIR"),
            PUBLIC,
            PRIVATE,
            NOW,
        );
    }

    fn signed(body: &str) -> Request {
        hookgate_sdk::testing::sign::<Discord>(&Request::post(body), PRIVATE, NOW).unwrap()
    }

    #[test]
    fn only_a_signed_ping_is_answered() {
        let ping = r#"{"id":"787053080478613555","token":"ThisIsATokenFromDiscordThatIsVeryLong","type":1,"version":1}"#;
        let context = VerifyContext::new(PUBLIC, NOW);
        assert_eq!(Discord::handshake(&Request::post(ping), &context), None);
        assert_eq!(
            Discord::handshake(&signed(ping), &context),
            Some(Response::ok("application/json", r#"{"type":1}"#))
        );
        let mut forged = signed(ping);
        forged.body = ping.replace("Long", "Lonh").into_bytes();
        assert_eq!(Discord::handshake(&forged, &context), None);
        let stale = VerifyContext::new(PUBLIC, NOW + 301);
        assert_eq!(Discord::handshake(&signed(ping), &stale), None);
        // A command is not a handshake.
        let command = r#"{"id":"787053080478613556","token":"t","type":2,"data":{"name":"test"}}"#;
        assert_eq!(Discord::handshake(&signed(command), &context), None);
    }

    #[test]
    fn a_signed_webhook_events_ping_gets_an_empty_204() {
        let ping = r#"{"version":1,"application_id":"1234560123453231555","type":0}"#;
        let context = VerifyContext::new(PUBLIC, NOW);
        assert_eq!(Discord::handshake(&Request::post(ping), &context), None);
        assert_eq!(
            Discord::handshake(&signed(ping), &context),
            Some(Response::empty(204))
        );
    }
}
