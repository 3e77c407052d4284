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

/// The three header names of one naming scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderNames {
    /// The message id (the event id of the platforms that use it).
    pub id: &'static str,
    /// The signed timestamp, Unix seconds.
    pub timestamp: &'static str,
    /// The signature list.
    pub signature: &'static str,
}

/// The Standard Webhooks names.
pub const WEBHOOK: HeaderNames = HeaderNames {
    id: HEADER_ID,
    timestamp: HEADER_TIMESTAMP,
    signature: HEADER_SIGNATURE,
};

/// The names Svix (and so Clerk and Resend) sends.
pub const SVIX: HeaderNames = HeaderNames {
    id: "svix-id",
    timestamp: "svix-timestamp",
    signature: "svix-signature",
};

/// Verifies a request under `names` as the `standardwebhooks` libraries do (which Clerk's
/// `verifyWebhook` and Resend's `webhooks.verify` wrap): the timestamp is the integer
/// `parseInt` reads from its header, and that integer, not the header text, is what is signed;
/// it must be within the tolerance either way; the key is the base64 after an optional
/// `whsec_`; only `v1,` entries of the space-separated list count, any may match, each compared
/// as base64 text with the expected one in constant time (a non-canonical encoding of the
/// right bytes does not match).
pub fn verify_as_library(
    request: &crate::Request,
    context: &crate::VerifyContext,
    names: HeaderNames,
) -> Result<(), crate::VerifyError> {
    use crate::VerifyError;
    let header = request
        .header_str(names.signature)?
        .filter(|s| !s.is_empty())
        .ok_or(VerifyError::MissingSignature)?;
    let id = request
        .header_str(names.id)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| VerifyError::malformed(format!("missing {}", names.id)))?;
    let timestamp = request
        .header_str(names.timestamp)?
        .filter(|s| !s.is_empty())
        .and_then(crate::time::parse_int_prefix)
        .ok_or(VerifyError::MissingTimestamp)?;
    context.check_unix_secs(timestamp)?;
    let signatures: Vec<&str> = header
        .split(' ')
        .filter_map(|entry| match entry.split_once(',') {
            Some(("v1", sig)) if !sig.is_empty() => Some(sig),
            _ => None,
        })
        .collect();
    if signatures.is_empty() {
        return Err(VerifyError::MissingSignature);
    }
    let prefix = format!("{id}.{timestamp}.");
    context.verify_any_secret(|secret| {
        // A secret that is not base64, or decodes to nothing, verifies nothing.
        let Some(key) = std::str::from_utf8(secret)
            .ok()
            .and_then(|s| signing_key(s).ok())
            .filter(|key| !key.is_empty())
        else {
            return false;
        };
        let expected = base64_encode(&hmac(
            Hash::Sha256,
            &key,
            &[prefix.as_bytes(), &request.body],
        ));
        signatures.iter().fold(false, |ok, sig| {
            ok | crate::crypto::constant_time_eq(sig.as_bytes(), expected.as_bytes())
        })
    })
}

/// The headers `hookgate send` adds under `names`: a fresh `msg_…` id unless the operator gave
/// one, the timestamp (now) and the `v1,` signature.
pub fn signed_headers_as_library(
    request: &crate::Request,
    context: &crate::SignContext,
    names: HeaderNames,
) -> Result<Vec<(String, String)>, crate::SignError> {
    let given = request.header_text(names.id);
    let id = given.map_or_else(|| format!("msg_{}", context.nonce), str::to_owned);
    let signature = sign(
        context.secret_str()?,
        &id,
        context.now_unix_secs,
        &request.body,
    )
    .map_err(|_| crate::SignError::invalid("the secret is not base64 (expected whsec_<base64>)"))?;
    let mut headers = Vec::new();
    if given.is_none() {
        headers.push((names.id.to_owned(), id));
    }
    headers.push((
        names.timestamp.to_owned(),
        context.now_unix_secs.to_string(),
    ));
    headers.push((names.signature.to_owned(), signature));
    Ok(headers)
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
    fn the_library_rules_verify_the_specification_example_under_either_names() {
        let request = |names: HeaderNames, ts: &str, sig: &str| {
            crate::Request::post(BODY)
                .with_header(names.id, MSG_ID)
                .with_header(names.timestamp, ts)
                .with_header(names.signature, sig)
        };
        let sig = "v2,abc v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        let ctx = crate::VerifyContext::new(SECRET, TIMESTAMP);
        for names in [WEBHOOK, SVIX] {
            assert_eq!(
                verify_as_library(&request(names, "1614265330", sig), &ctx, names),
                Ok(())
            );
            // parseInt reads the integer that was signed.
            assert_eq!(
                verify_as_library(&request(names, "1614265330.75", sig), &ctx, names),
                Ok(())
            );
        }
        assert_eq!(
            verify_as_library(&request(SVIX, "1614265330", sig), &ctx, WEBHOOK),
            Err(crate::VerifyError::MissingSignature),
            "the other names are not read"
        );
        let empty_key = crate::VerifyContext::new("whsec_", TIMESTAMP);
        assert_eq!(
            verify_as_library(&request(WEBHOOK, "1614265330", sig), &empty_key, WEBHOOK),
            Err(crate::VerifyError::SignatureMismatch)
        );
        let late = crate::VerifyContext::new(SECRET, TIMESTAMP + 301);
        assert!(verify_as_library(&request(WEBHOOK, "1614265330", sig), &late, WEBHOOK).is_err());
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
