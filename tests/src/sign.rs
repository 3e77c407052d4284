//! Request signing as each platform documents it, written independently of the plugins so a
//! test catches a plugin that verifies the wrong thing.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// `Stripe-Signature: t=…,v1=…` for each secret given (Stripe sends several during a roll).
pub fn stripe(secrets: &[&str], t: i64, body: &[u8]) -> String {
    let mut payload = format!("{t}.").into_bytes();
    payload.extend_from_slice(body);
    let mut header = format!("t={t}");
    for secret in secrets {
        header.push_str(&format!(
            ",v1={}",
            hex::encode(hmac_sha256(secret.as_bytes(), &payload))
        ));
    }
    header
}

/// `X-Hub-Signature-256: sha256=…`.
pub fn github(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), body))
    )
}

/// `X-Shopify-Hmac-Sha256` (base64).
pub fn shopify(secret: &str, body: &[u8]) -> String {
    STANDARD.encode(hmac_sha256(secret.as_bytes(), body))
}

/// `X-Slack-Signature: v0=…` over `v0:{ts}:{body}`.
pub fn slack(secret: &str, ts: i64, body: &[u8]) -> String {
    let mut base = format!("v0:{ts}:").into_bytes();
    base.extend_from_slice(body);
    format!("v0={}", hex::encode(hmac_sha256(secret.as_bytes(), &base)))
}

/// `webhook-signature: v1,…` over `{id}.{ts}.{body}` with a `whsec_` base64 secret.
pub fn standard_webhooks(secret: &str, id: &str, ts: i64, body: &[u8]) -> String {
    // A secret that is not base64 (tests of wrong secrets) signs with its raw bytes.
    let key = STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap_or_else(|_| secret.as_bytes().to_vec());
    let mut content = format!("{id}.{ts}.").into_bytes();
    content.extend_from_slice(body);
    format!("v1,{}", STANDARD.encode(hmac_sha256(&key, &content)))
}
