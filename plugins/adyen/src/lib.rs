//! hookgate platform plugin for **Adyen** standard webhooks (the classic "notifications").
//!
//! Adyen signs inside the body, not in a header: every `notificationItems[]` element carries its
//! own `additionalData.hmacSignature`, the base64 HMAC-SHA256 of eight of its fields joined by
//! `:` under the hex-decoded HMAC key of the Customer Area. Every item of a request must verify
//! (any configured key, for rotation); nothing is timestamped, so replays are caught by
//! duplicate detection on the event id. Fields outside the eight (`eventDate`, the rest of
//! `additionalData`, `live`) are not covered by Adyen's signature, exactly as in Adyen's own
//! libraries.
//!
//! Each item becomes one event. Its id is `{pspReference}:{eventCode}:{success}`: all three
//! are signed, and together they are what Adyen resends unchanged on a retry (a modification
//! has its own `pspReference`; `success` keeps a refused and a later accepted outcome apart).
//!
//! No handshake. An accepted request is answered `200 [accepted]` ([`Platform::answer`]):
//! Adyen now takes any 2xx, but its test-webhook tooling still checks for that body. No
//! per-source settings; the source's secret is the HMAC key (64 hex characters). The other
//! Adyen webhook families (Balance Platform, Management: a `HmacSignature` header over the raw
//! body) are a different scheme and not handled here.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Adyen platform.
pub struct Adyen;

impl Platform for Adyen {
    fn metadata() -> Metadata {
        Metadata::new(
            "adyen",
            "Adyen standard webhooks (per-item HMAC-SHA256 in additionalData.hmacSignature)",
        )
        .secret_description("HMAC key (64 hex characters, from the Customer Area)")
    }

    fn verify(request: &Request, context: &VerifyContext) -> Result<(), VerifyError> {
        verify::verify(request, context)
    }

    fn normalize(request: &Request, _settings: &Settings) -> Result<Vec<Event>, NormalizeError> {
        normalize::normalize(request)
    }

    fn answer(_request: &Request, _settings: &Settings) -> Option<Response> {
        Some(Response::ok("text/plain", "[accepted]"))
    }

    fn sign(request: &Request, context: &SignContext) -> Result<Vec<(String, String)>, SignError> {
        verify::signed_headers(request, context)
    }

    fn sign_body(request: &Request, context: &SignContext) -> Result<Option<Vec<u8>>, SignError> {
        verify::sign_body(request, context).map(Some)
    }
}

hookgate_sdk::export_platform!(Adyen);

#[cfg(test)]
mod tests {
    use super::*;

    /// The key of Adyen's own HMAC tests (Node library, `hmacValidator.spec.ts`).
    pub(crate) const SECRET: &[u8] =
        b"DFB1EB5485895CFA84146406857104ABB4CBCABDC8AAF103A624C8F6A3EAAB00";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Adyen>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }

    #[test]
    fn an_accepted_webhook_is_answered_with_the_body_adyen_checks_for() {
        let answer = Adyen::answer(&Request::post("{}"), &Settings::none()).unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, b"[accepted]");
    }

    #[test]
    fn sign_then_verify_signs_every_item() {
        let body = r#"{"live":"false","notificationItems":[
            {"NotificationRequestItem":{"pspReference":"A1","eventCode":"AUTHORISATION","success":"true",
              "merchantAccountCode":"M","merchantReference":"r1","amount":{"value":500,"currency":"EUR"}}},
            {"NotificationRequestItem":{"pspReference":"A2","originalReference":"A1","eventCode":"REFUND",
              "success":"true","merchantAccountCode":"M","merchantReference":"r1",
              "amount":{"value":500,"currency":"EUR"},"additionalData":{"k":"v"}}}]}"#;
        let (signed, events) =
            hookgate_sdk::testing::sign_round_trip::<Adyen>(Request::post(body), SECRET, NOW)
                .unwrap();
        assert_eq!(events.len(), 2);
        let parsed: serde_json::Value = serde_json::from_slice(&signed.body).unwrap();
        for item in parsed["notificationItems"].as_array().unwrap() {
            let data = &item["NotificationRequestItem"]["additionalData"];
            assert!(
                data["hmacSignature"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty())
            );
        }
        // What was there besides is kept.
        assert_eq!(
            parsed["notificationItems"][1]["NotificationRequestItem"]["additionalData"]["k"],
            "v"
        );
    }

    #[test]
    fn signing_needs_an_adyen_notification_and_a_hex_key() {
        let err =
            hookgate_sdk::testing::sign::<Adyen>(&Request::post("{}"), SECRET, NOW).unwrap_err();
        assert!(
            matches!(&err, SignError::Invalid(m) if m.contains("notificationItems")),
            "{err:?}"
        );
        let body = r#"{"notificationItems":[{"NotificationRequestItem":{"pspReference":"A"}}]}"#;
        let err = hookgate_sdk::testing::sign::<Adyen>(&Request::post(body), b"not-hex", NOW)
            .unwrap_err();
        assert!(
            matches!(&err, SignError::Invalid(m) if m.contains("hex")),
            "{err:?}"
        );
    }
}
