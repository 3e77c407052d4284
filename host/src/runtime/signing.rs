//! The host side of the `signing` import of 1.4.0 action plugins: RS256 (RSASSA-PKCS1-v1_5 with
//! SHA-256) with ring, the constant-time RSA implementation already in the build for TLS. A
//! plugin hands the PEM key from its config; the host parses it per call (a signature is made
//! once per access-token lifetime, not per delivery) and never quotes it in an error.

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

/// Longest PEM accepted, in bytes: a 4096-bit PKCS#8 key is about 3.3 KB.
pub const MAX_PEM_BYTES: usize = 16 * 1024;
/// Longest message accepted, in bytes: a JWT's signing input is a few hundred.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// The RS256 signature of `message` under `pem` (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE
/// KEY`).
pub fn rs256_sign(pem: &str, message: &[u8]) -> Result<Vec<u8>, String> {
    if pem.len() > MAX_PEM_BYTES {
        return Err(format!(
            "the private key is larger than {MAX_PEM_BYTES} bytes"
        ));
    }
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(format!(
            "the message is larger than {MAX_MESSAGE_BYTES} bytes"
        ));
    }
    let key = if let Some(der) = pem_body(pem, "PRIVATE KEY")? {
        RsaKeyPair::from_pkcs8(&der)
    } else if let Some(der) = pem_body(pem, "RSA PRIVATE KEY")? {
        RsaKeyPair::from_der(&der)
    } else {
        return Err(
            "the private key is not PEM (expected -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)"
                .into(),
        );
    }
    .map_err(|e| format!("the private key is not a usable RSA key ({e})"))?;
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message,
        &mut signature,
    )
    .map_err(|_| "RS256 signing failed".to_owned())?;
    Ok(signature)
}

/// The DER inside the PEM block labelled `label`, if there is one.
fn pem_body(pem: &str, label: &str) -> Result<Option<Vec<u8>>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let Some(start) = pem.find(&begin) else {
        return Ok(None);
    };
    let body = &pem[start + begin.len()..];
    let Some(stop) = body.find(&end) else {
        return Err(format!("the private key's PEM has no {end} line"));
    };
    let text: String = body[..stop]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map(Some)
        .map_err(|_| "the private key's PEM body is not base64".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    /// A 2048-bit test key, made for this test with `openssl genpkey -algorithm RSA`.
    pub(crate) const TEST_KEY: &str = include_str!("testdata/rsa-2048.pem");

    #[test]
    fn signs_verifiably_and_deterministically() {
        let first = rs256_sign(TEST_KEY, b"header.claims").unwrap();
        assert_eq!(first.len(), 256);
        // PKCS#1 v1.5 signatures are deterministic.
        assert_eq!(first, rs256_sign(TEST_KEY, b"header.claims").unwrap());
        let der = pem_body(TEST_KEY, "PRIVATE KEY").unwrap().unwrap();
        let pair = RsaKeyPair::from_pkcs8(&der).unwrap();
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public().as_ref());
        public.verify(b"header.claims", &first).unwrap();
        assert!(public.verify(b"header.claimz", &first).is_err());
    }

    #[test]
    fn bad_keys_are_described_never_quoted() {
        for (pem, says) in [
            ("not a key", "not PEM"),
            (
                "-----BEGIN PRIVATE KEY-----\nAAAA",
                "no -----END PRIVATE KEY-----",
            ),
            (
                "-----BEGIN PRIVATE KEY-----\n!!secret!!\n-----END PRIVATE KEY-----",
                "not base64",
            ),
            (
                "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----",
                "not a usable RSA key",
            ),
        ] {
            let error = rs256_sign(pem, b"m").unwrap_err();
            assert!(error.contains(says), "{pem:?}: {error}");
            assert!(
                !error.contains("secret") && !error.contains("c2VjcmV0"),
                "{error}"
            );
        }
        assert!(rs256_sign(&"A".repeat(MAX_PEM_BYTES + 1), b"m").is_err());
    }
}
