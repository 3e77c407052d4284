//! Standard Webhooks signature verification, as the specification describes it: HMAC-SHA256
//! (`v1`) under a `whsec_` secret or Ed25519 (`v1a`) under a `whpk_` public key, over
//! `{id}.{timestamp}.{body}` with the timestamp as sent; other versions are skipped.

use hookgate_sdk::prelude::*;
use hookgate_sdk::standard_webhooks::{Dialect, Entries, KeyFormat, Timestamp};
pub use hookgate_sdk::standard_webhooks::{HeaderNames as Headers, SVIX, WEBHOOK as STANDARD};

/// The rules, under the `webhook-*` names (a request's own names: [`headers_of`]).
pub const DIALECT: Dialect = Dialect {
    names: STANDARD,
    key: KeyFormat::Base64,
    timestamp: Timestamp::AsSent {
        seconds: parse_unix_secs,
    },
    entries: Entries::V1,
    empty_id_allowed: false,
    id_prefix: "msg_",
};

/// Which header set the request uses: the standard names win when both are present.
pub fn headers_of(req: &Request) -> Headers {
    if req.header(STANDARD.id).is_none() && req.header(SVIX.id).is_some() {
        SVIX
    } else {
        STANDARD
    }
}

/// Verifies a Standard Webhooks (or Svix) request.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    DIALECT.with_names(headers_of(req)).verify(req, ctx)
}

/// Builds a `v1,<base64>` signature entry for a `whsec_` secret.
pub fn sign(secret: &str, id: &str, ts: i64, body: &[u8]) -> Result<String, SignError> {
    DIALECT.sign(secret, id, &ts.to_string(), body)
}

/// The headers `hookgate send` adds: `webhook-id` (a fresh one unless the operator gave one),
/// `webhook-timestamp` (now) and a `v1` signature. Only symmetric (`whsec_`) secrets sign; an
/// Ed25519 public key (`whpk_`) can only verify.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    DIALECT.signed_headers(req, ctx)
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
        assert_eq!(sign(SECRET, ID, TS, BODY.as_bytes()).unwrap(), SIG);
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
