//! Signed Event Webhook verification, as SendGrid's SDKs do it (sendgrid-nodejs
//! `EventWebhook.verifySignature`, sendgrid-go `helpers/eventwebhook`): an ECDSA P-256 /
//! SHA-256 signature (base64 of its ASN.1 DER form, `X-Twilio-Email-Event-Webhook-Signature`)
//! of the `X-Twilio-Email-Event-Webhook-Timestamp` value followed by the raw body, under the
//! webhook's verification key (base64 of its DER SubjectPublicKeyInfo, as the Mail Settings
//! page and the API show it; PEM armour is accepted too).
//!
//! The body must be verified byte for byte: SendGrid ends it, and separates its events, with
//! CR LF. SendGrid's SDKs check no time. A timestamp older than the source's tolerance is
//! refused here; one in the future is accepted, as the SDKs accept it.

use hookgate_sdk::prelude::*;

/// The signature header: base64 DER.
pub const SIGNATURE: &str = "x-twilio-email-event-webhook-signature";
/// The signed timestamp header: Unix seconds.
pub const TIMESTAMP: &str = "x-twilio-email-event-webhook-timestamp";

/// Verifies a SendGrid Event Webhook request under any configured verification key.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let signature = req
        .header_str(SIGNATURE)?
        .filter(|s| !s.is_empty())
        .ok_or(VerifyError::MissingSignature)?;
    let signature = base64_decode(signature).map_err(|_| {
        VerifyError::malformed("X-Twilio-Email-Event-Webhook-Signature is not base64")
    })?;
    let timestamp = req
        .header_str(TIMESTAMP)?
        .filter(|t| !t.is_empty())
        .ok_or(VerifyError::MissingTimestamp)?;
    let secs = parse_unix_secs(timestamp).ok_or(VerifyError::MissingTimestamp)?;
    ctx.check_not_stale(secs)?;
    let message = [timestamp.as_bytes(), &req.body].concat();
    ctx.verify_any_secret(|key| {
        public_key(key).is_some_and(|key| ecdsa_p256_verify(&key, &message, &signature))
    })
}

/// The DER bytes of a key given as base64, with or without PEM armour and line breaks.
fn der_from_text(text: &str) -> Option<Vec<u8>> {
    let base64: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("-----"))
        .flat_map(|line| line.chars().filter(|c| !c.is_whitespace()))
        .collect();
    base64_decode(&base64).ok().filter(|der| !der.is_empty())
}

/// A configured verification key as DER; anything unreadable verifies nothing.
fn public_key(secret: &[u8]) -> Option<Vec<u8>> {
    der_from_text(std::str::from_utf8(secret).ok()?)
}

/// The private key `hookgate send --key` signs with: a raw 32-byte P-256 scalar as 64 hex
/// characters or as base64, or a PKCS#8 private key as base64 or PEM.
fn private_key(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text.len() == 64
        && let Ok(raw) = hex_decode(text)
    {
        return Some(raw);
    }
    der_from_text(text)
}

/// The `(timestamp, signature)` header values for `body` at `ts` under `private_key` (raw or
/// PKCS#8); `None` when the key is not a P-256 private key.
pub fn sign(private_key: &[u8], ts: i64, body: &[u8]) -> Option<(String, String)> {
    let ts = ts.to_string();
    let der = ecdsa_p256_sign(private_key, &[ts.as_bytes(), body].concat())?;
    Some((ts, base64_encode(&der)))
}

/// The headers `hookgate send --key` adds. SendGrid never hands out its private key, so this
/// signs for a source configured with a test key pair's public key.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    let invalid = || {
        SignError::invalid(
            "sign with --key <P-256 private key: 32 bytes as 64 hex characters or base64, or \
             PKCS#8 base64/PEM>; the source's secret is the public verification key",
        )
    };
    let key = private_key(ctx.secret_str()?).ok_or_else(invalid)?;
    let (ts, signature) = sign(&key, ctx.now_unix_secs, &req.body).ok_or_else(invalid)?;
    Ok(vec![(TIMESTAMP.into(), ts), (SIGNATURE.into(), signature)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(key: &str, body: &str, signature: &str, ts: i64) -> Result<(), VerifyError> {
        let request = Request::post(body)
            .with_header("X-Twilio-Email-Event-Webhook-Signature", signature)
            .with_header("X-Twilio-Email-Event-Webhook-Timestamp", ts.to_string());
        verify(&request, &VerifyContext::new(key, ts))
    }

    // sendgrid-nodejs `packages/eventwebhook/src/eventwebhook.spec.js` (release 8.1.6): the
    // payloads as `JSON.stringify` writes them, with SendGrid's CR LF.
    const KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==";
    const SIG: &str = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=";
    const TS: i64 = 1_600_112_502;
    const BODY: &str = "[{\"email\":\"hello@world.com\",\"event\":\"dropped\",\"reason\":\"Bounced Address\",\"sg_event_id\":\"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA\",\"sg_message_id\":\"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0\",\"smtp-id\":\"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>\",\"timestamp\":1600112492}]\r\n";

    #[test]
    fn published_single_event_vector() {
        assert_eq!(check(KEY, BODY, SIG, TS), Ok(()));
        // Without the trailing CR LF the bytes differ, and so does the signature.
        assert_eq!(
            check(KEY, BODY.trim_end(), SIG, TS),
            Err(VerifyError::SignatureMismatch)
        );
        // The SDK's refusals: another key, another payload, another signature.
        let other = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA==";
        assert_eq!(
            check(other, BODY, SIG, TS),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            check(KEY, "payload", SIG, TS),
            Err(VerifyError::SignatureMismatch)
        );
        let bad = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH3j/0=";
        assert_eq!(
            check(KEY, BODY, bad, TS),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn published_multi_event_vector() {
        let key = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQ4LIFtWztlsF7skFqOncjD1lun4H5w8XOhyOArHW9RcIx/FfEzx6cikC/yPfUvwaX/JScE7Fc9CJD2afQ9Ok3Q==";
        let sig = "MEYCIQC/I4o6vCgqRYrTljjoVWB/GRWNtxeePlLMHr3x9ETeRQIhAIpV+03nREPTTHWSW0wIOA0EoMPdcNgXa70yCaqDJlu5";
        let body = include_str!("../fixtures/processed_bounce.json");
        assert_eq!(check(key, body, sig, 1_619_651_159), Ok(()));
        // The same events without SendGrid's CR LF between them.
        let joined = body.replace("},\r\n{", "},{");
        assert_eq!(
            check(key, &joined, sig, 1_619_651_159),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn published_object_vector_of_an_older_release() {
        // sendgrid-nodejs before the array vectors (commit 31bf6a02).
        let key = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==";
        let sig = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=";
        let body =
            r#"{"category":"example_payload","event":"test_event","message_id":"message_id"}"#;
        assert_eq!(check(key, body, sig, 1_588_788_367), Ok(()));
    }

    #[test]
    fn pem_keys_are_read_too() {
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n{}\n-----END PUBLIC KEY-----\n",
            &KEY[..64],
            &KEY[64..]
        );
        assert_eq!(check(&pem, BODY, SIG, TS), Ok(()));
        assert_eq!(
            check("not a key", BODY, SIG, TS),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn stale_is_refused_future_is_accepted_and_the_timestamp_is_signed() {
        let at = |ts: &str, now| {
            let request = Request::post(BODY)
                .with_header(SIGNATURE, SIG)
                .with_header(TIMESTAMP, ts);
            verify(&request, &VerifyContext::new(KEY, now))
        };
        assert_eq!(at("1600112502", TS + 300), Ok(()));
        assert_eq!(
            at("1600112502", TS + 301),
            Err(VerifyError::TimestampOutsideTolerance(TS))
        );
        assert_eq!(at("1600112502", TS - 3600), Ok(()));
        assert_eq!(at("1600112503", TS), Err(VerifyError::SignatureMismatch));
        assert_eq!(at("timestamp", TS), Err(VerifyError::MissingTimestamp));
        let unsigned = Request::post(BODY).with_header(TIMESTAMP, "1600112502");
        assert_eq!(
            verify(&unsigned, &VerifyContext::new(KEY, TS)),
            Err(VerifyError::MissingSignature)
        );
    }

    #[test]
    fn private_keys_in_hex_base64_and_pkcs8() {
        let hex = "1f2e3d4c5b6a79880123456789abcdeffedcba98765432100f1e2d3c4b5a6978";
        let raw = hex_decode(hex).unwrap();
        assert_eq!(private_key(hex), Some(raw.clone()));
        assert_eq!(private_key(&base64_encode(&raw)), Some(raw.clone()));
        // The source's own (public) key is no private key.
        assert!(sign(&private_key(KEY).unwrap(), TS, b"{}").is_none());
        let (ts, signature) = sign(&raw, TS, BODY.as_bytes()).unwrap();
        let public = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEXiR2E7qO0Bykf/4DYEbt+lllF9tn0E54ieK9Ozl4fdqQh9Ymr38HE1On+3IZaI07JZsBaT8yLoff5YDe6D8AJw==";
        assert_eq!(ts, TS.to_string());
        assert_eq!(check(public, BODY, &signature, TS), Ok(()));
        // The same key as PKCS#8 PEM (Python `cryptography`) signs what the public key accepts.
        let pem = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHy49TFtqeYgBI0Vn
iavN7/7cuph2VDIQDx4tPEtaaXihRANCAAReJHYTuo7QHKR//gNgRu36WWUX22fQ
TniJ4r07OXh92pCH1iavfwcTU6f7chlojTslmwFpPzIuh9/lgN7oPwAn
-----END PRIVATE KEY-----
";
        let (_, signature) = sign(&private_key(pem).unwrap(), TS, BODY.as_bytes()).unwrap();
        assert_eq!(check(public, BODY, &signature, TS), Ok(()));
    }
}
