//! An example third-party plugin, as an integrator would write it: the fictional "Acme" signs
//! `X-Acme-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`. This is the README's
//! walkthrough, built and tested with the workspace so the walkthrough cannot rot.

use hookgate_sdk::prelude::*;

/// The Acme platform.
pub struct Acme;

impl Platform for Acme {
    fn metadata() -> Metadata {
        Metadata::new("acme", "Acme Corp webhooks (X-Acme-Signature)")
    }

    fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
        let header = req
            .header_str("x-acme-signature")?
            .ok_or(VerifyError::MissingSignature)?;
        let parsed = SignatureHeader::parse(header)?; // t=…,v1=…
        let ts = parsed.get("t").ok_or(VerifyError::MissingTimestamp)?;
        ctx.check_timestamp(ts)?; // tolerance, host's clock
        let sigs: Vec<Vec<u8>> = parsed
            .all("v1")
            .filter_map(|s| hex_decode(s).ok())
            .collect();
        let message: [&[u8]; 3] = [ts.as_bytes(), b".", &req.body];
        ctx.verify_any_secret(|secret| {
            // every secret: rotation
            sigs.iter()
                .any(|sig| hmac_verify(Hash::Sha256, secret, &message, sig))
        })
    }

    fn normalize(req: &Request) -> Result<Vec<Event>, NormalizeError> {
        let body: serde_json::Value = req.json()?;
        let id = body["id"].as_str().ok_or(NormalizeError::missing("id"))?;
        let kind = body["type"]
            .as_str()
            .ok_or(NormalizeError::missing("type"))?;
        Ok(vec![Event::new(id, format!("acme.{kind}"))])
    }
}

hookgate_sdk::export_platform!(Acme);

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(secret: &str, t: i64, body: &str) -> Request {
        let mac = hmac(
            Hash::Sha256,
            secret.as_bytes(),
            &[t.to_string().as_bytes(), b".", body.as_bytes()],
        );
        Request::post(body)
            .with_header("X-Acme-Signature", format!("t={t},v1={}", hex_encode(&mac)))
    }

    #[test]
    fn verifies_and_normalizes() {
        let req = signed("s3cret", 1_700_000_000, r#"{"id":"a1","type":"ping"}"#);
        assert_eq!(
            Acme::verify(&req, &VerifyContext::new("s3cret", 1_700_000_010)),
            Ok(())
        );
        assert_eq!(
            Acme::verify(&req, &VerifyContext::new("other", 1_700_000_010)),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(Acme::normalize(&req).unwrap()[0].event_type, "acme.ping");
    }

    #[test]
    fn empty_signature_never_verifies() {
        let req = Request::post("{}").with_header("X-Acme-Signature", "t=1700000000,v1=");
        assert!(Acme::verify(&req, &VerifyContext::new("s3cret", 1_700_000_000)).is_err());
    }
}
