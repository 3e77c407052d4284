//! Standard Webhooks signature verification.

use hookgate_sdk::crypto::ed25519_verify;
use hookgate_sdk::prelude::*;

/// The three headers of one naming scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Headers {
    /// Message id header.
    pub id: &'static str,
    /// Timestamp header.
    pub timestamp: &'static str,
    /// Signature header.
    pub signature: &'static str,
}

/// Standard Webhooks names.
pub const STANDARD: Headers = Headers {
    id: "webhook-id",
    timestamp: "webhook-timestamp",
    signature: "webhook-signature",
};
/// Svix names for the same scheme.
pub const SVIX: Headers = Headers {
    id: "svix-id",
    timestamp: "svix-timestamp",
    signature: "svix-signature",
};

/// Which header set the request uses: the standard names win when both are present.
pub fn headers_of(req: &Request) -> Headers {
    if req.header(STANDARD.id).is_none() && req.header(SVIX.id).is_some() {
        SVIX
    } else {
        STANDARD
    }
}

/// A configured secret, decoded.
enum Key {
    Symmetric(Vec<u8>),
    Public(Vec<u8>),
}

fn decode_secret(secret: &[u8]) -> Option<Key> {
    let text = std::str::from_utf8(secret).ok()?.trim();
    if let Some(pk) = text.strip_prefix("whpk_") {
        return base64_decode(pk).ok().map(Key::Public);
    }
    base64_decode(text.strip_prefix("whsec_").unwrap_or(text))
        .ok()
        .map(Key::Symmetric)
}

/// Verifies a Standard Webhooks (or Svix) request.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let names = headers_of(req);
    let header = req
        .header_str(names.signature)?
        .ok_or(VerifyError::MissingSignature)?;
    let id = req
        .header_str(names.id)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| VerifyError::malformed("missing message id"))?;
    let ts = req
        .header_str(names.timestamp)?
        .ok_or(VerifyError::MissingTimestamp)?;
    let mut hmacs = Vec::new();
    let mut ed25519 = Vec::new();
    let mut undecodable = 0;
    for entry in split_signature_list(header) {
        let (version, sig) = entry
            .split_once(',')
            .ok_or_else(|| VerifyError::malformed("entry without version"))?;
        let target = match version {
            "v1" => &mut hmacs,
            "v1a" => &mut ed25519,
            _ => continue, // unknown versions are skipped, as the spec requires
        };
        // Entries that do not decode simply do not match (as in the Svix libraries).
        match base64_decode(sig) {
            Ok(bytes) if !bytes.is_empty() => target.push(bytes),
            Ok(_) => {}
            Err(_) => undecodable += 1,
        }
    }
    if hmacs.is_empty() && ed25519.is_empty() {
        return Err(if undecodable > 0 {
            VerifyError::malformed("no signature is base64")
        } else {
            VerifyError::MissingSignature
        });
    }
    ctx.check_timestamp(ts)?;
    let message: [&[u8]; 5] = [id.as_bytes(), b".", ts.as_bytes(), b".", &req.body];
    ctx.verify_any_secret(|secret| match decode_secret(secret) {
        Some(Key::Symmetric(key)) => hmacs
            .iter()
            .any(|sig| hmac_verify(Hash::Sha256, &key, &message, sig)),
        Some(Key::Public(key)) => {
            let signed = message.concat();
            ed25519.iter().any(|sig| ed25519_verify(&key, &signed, sig))
        }
        None => false,
    })
}

/// Builds a `v1,<base64>` signature entry for `whsec_` secret.
pub fn sign(secret: &str, id: &str, ts: i64, body: &[u8]) -> String {
    let key = base64_decode(secret.strip_prefix("whsec_").unwrap_or(secret)).unwrap_or_default();
    let ts = ts.to_string();
    let mac = hmac(
        Hash::Sha256,
        &key,
        &[id.as_bytes(), b".", ts.as_bytes(), b".", body],
    );
    format!("v1,{}", base64_encode(&mac))
}

/// The headers `hookgate send` adds: `webhook-id` (a fresh one unless the operator gave one),
/// `webhook-timestamp` (now) and a `v1` signature. Only symmetric (`whsec_`) secrets sign; an
/// Ed25519 public key (`whpk_`) can only verify.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    let secret = ctx.secret_str()?;
    if secret.starts_with("whpk_") {
        return Err(SignError::invalid(
            "the source's first secret is a public key (whpk_...): only a whsec_ secret can sign",
        ));
    }
    let id = req
        .header_text(STANDARD.id)
        .map_or_else(|| format!("msg_{}", ctx.nonce), str::to_owned);
    let headers =
        hookgate_sdk::standard_webhooks::headers(secret, &id, ctx.now_unix_secs, &req.body)
            .map_err(|_| {
                SignError::invalid("the secret is not base64 (expected whsec_<base64>)")
            })?;
    Ok(headers
        .into_iter()
        .filter(|(name, _)| *name != STANDARD.id || req.header(STANDARD.id).is_none())
        .map(|(name, value)| (name.to_owned(), value))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Standard Webhooks specification's example.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const BODY: &str = r#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn req(h: Headers, sig: &str) -> Request {
        Request::post(BODY)
            .with_header(h.id, ID)
            .with_header(h.timestamp, TS.to_string())
            .with_header(h.signature, sig)
    }

    #[test]
    fn specification_example_verifies_under_both_header_names() {
        assert_eq!(sign(SECRET, ID, TS, BODY.as_bytes()), SIG);
        let ctx = VerifyContext::new(SECRET, TS);
        assert_eq!(verify(&req(STANDARD, SIG), &ctx), Ok(()));
        assert_eq!(verify(&req(SVIX, SIG), &ctx), Ok(()));
    }

    #[test]
    fn several_signatures_and_versions() {
        let ctx = VerifyContext::new(SECRET, TS);
        let many = format!("v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v2,xyz {SIG}");
        assert_eq!(verify(&req(STANDARD, &many), &ctx), Ok(()));
    }

    #[test]
    fn ed25519_v1a() {
        use ed25519_dalek::{Signer, SigningKey};
        let sk = SigningKey::from_bytes(&[7u8; 32]);
        let pk = format!("whpk_{}", base64_encode(sk.verifying_key().as_bytes()));
        let signed = format!("{ID}.{TS}.{BODY}");
        let sig = format!(
            "v1a,{}",
            base64_encode(&sk.sign(signed.as_bytes()).to_bytes())
        );
        assert_eq!(
            verify(&req(STANDARD, &sig), &VerifyContext::new(pk.clone(), TS)),
            Ok(())
        );
        let tampered = Request {
            body: b"{}".to_vec(),
            ..req(STANDARD, &sig)
        };
        assert_eq!(
            verify(&tampered, &VerifyContext::new(pk, TS)),
            Err(VerifyError::SignatureMismatch)
        );
    }

    // Missing, empty, tampered and wrong-secret signatures: the SDK's testing kit, from lib.rs.
    #[test]
    fn malformed_and_stale_signatures() {
        let ctx = VerifyContext::new(SECRET, TS);
        assert!(matches!(
            verify(&req(STANDARD, "garbage"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert!(matches!(
            verify(&req(STANDARD, "v1,***"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        let stale = VerifyContext::new(SECRET, TS + 301);
        assert_eq!(
            verify(&req(STANDARD, SIG), &stale),
            Err(VerifyError::TimestampOutsideTolerance(TS))
        );
    }
}
