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

    fn normalize(req: &Request, _settings: &Settings) -> Result<Vec<Event>, NormalizeError> {
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

    /// Every fixture in `fixtures/` verifies (Acme cannot sign, so each carries its signature,
    /// made with this secret at this time), normalizes to its golden file, and is refused once
    /// forged: signature removed or emptied, body changed, wrong secret.
    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Acme>(
            env!("CARGO_MANIFEST_DIR"),
            b"s3cret",
            1_700_000_010,
        );
    }
}
