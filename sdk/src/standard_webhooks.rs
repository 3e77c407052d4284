//! Signing outgoing webhooks the Standard Webhooks way (<https://www.standardwebhooks.com>),
//! so receivers can verify what hookgate forwards with any Standard Webhooks or Svix library —
//! or with hookgate's own `standard-webhooks` platform plugin.
//!
//! The signature is `v1,` + base64 HMAC-SHA256 over `{msg_id}.{timestamp}.{body}`, sent with
//! the message id and timestamp in [`HEADER_ID`] and [`HEADER_TIMESTAMP`].

use crate::crypto::{Hash, hmac};
use crate::encoding::{DecodeError, base64_decode, base64_encode};

/// The message id header: receivers use it to de-duplicate.
pub const HEADER_ID: &str = "webhook-id";
/// The signed timestamp header, Unix seconds: receivers use it to refuse replays.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// The signature header.
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// The HMAC key of a signing secret: the base64 text after the optional `whsec_` prefix, as
/// every Standard Webhooks library (and hookgate's own `standard-webhooks` plugin) reads it.
/// A secret that is not base64 is an error rather than a silent fallback to its raw bytes, so a
/// mangled secret cannot produce signatures nobody can verify.
pub fn signing_key(secret: &str) -> Result<Vec<u8>, DecodeError> {
    let secret = secret.trim();
    base64_decode(secret.strip_prefix("whsec_").unwrap_or(secret))
}

/// The `webhook-signature` value for one message: `v1,<base64 HMAC-SHA256>`.
pub fn sign(
    secret: &str,
    msg_id: &str,
    timestamp_secs: i64,
    body: &[u8],
) -> Result<String, DecodeError> {
    let key = signing_key(secret)?;
    // The short prefix and the body are passed apart, so the body is never copied into a
    // concatenated buffer (inside wasm the host hashes the two as one message).
    let prefix = format!("{msg_id}.{timestamp_secs}.");
    let mac = hmac(Hash::Sha256, &key, &[prefix.as_bytes(), body]);
    Ok(format!("v1,{}", base64_encode(&mac)))
}

/// The three Standard Webhooks headers for one message, ready to add to a request.
pub fn headers(
    secret: &str,
    msg_id: &str,
    timestamp_secs: i64,
    body: &[u8],
) -> Result<[(&'static str, String); 3], DecodeError> {
    Ok([
        (HEADER_ID, msg_id.to_owned()),
        (HEADER_TIMESTAMP, timestamp_secs.to_string()),
        (
            HEADER_SIGNATURE,
            sign(secret, msg_id, timestamp_secs, body)?,
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of the Standard Webhooks specification.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;

    #[test]
    fn matches_the_specification_example() {
        assert_eq!(
            sign(SECRET, MSG_ID, TIMESTAMP, BODY).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn headers_carry_id_timestamp_and_signature() {
        let [id, ts, sig] = headers(SECRET, MSG_ID, TIMESTAMP, BODY).unwrap();
        assert_eq!(id, ("webhook-id", MSG_ID.to_owned()));
        assert_eq!(ts, ("webhook-timestamp", "1614265330".to_owned()));
        assert_eq!(sig.0, "webhook-signature");
        assert!(sig.1.starts_with("v1,"));
    }

    #[test]
    fn the_prefix_is_optional_as_in_every_standard_webhooks_library() {
        let bare = SECRET.trim_start_matches("whsec_");
        assert_eq!(
            sign(bare, MSG_ID, TIMESTAMP, BODY).unwrap(),
            sign(SECRET, MSG_ID, TIMESTAMP, BODY).unwrap()
        );
    }

    #[test]
    fn a_secret_that_is_not_base64_is_an_error() {
        assert_eq!(sign("whsec_***", MSG_ID, TIMESTAMP, BODY), Err(DecodeError));
        assert_eq!(
            sign("plain secret!", MSG_ID, TIMESTAMP, BODY),
            Err(DecodeError)
        );
    }
}
