//! The scheme most platforms sign with, declared instead of coded: an HMAC of some message
//! (usually the body, sometimes a timestamp or the URL with it) under the shared secret, in one
//! header, hex or base64, maybe behind a prefix such as `sha256=`. A plugin states its
//! [`HmacHeader`] and hands it the message; verification (every signature in the header, every
//! configured secret, constant time) and signing for `hookgate send` are the same code for all.

use crate::crypto::{Hash, hmac, hmac_verify};
use crate::encoding::{base64_decode, base64_encode, hex_decode, hex_encode};
use crate::request::{Request, VerifyContext, VerifyError};

/// How a signature's bytes are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Lower-case hex (either case accepted).
    Hex,
    /// Standard base64 with padding (URL-safe accepted).
    Base64,
}

impl Encoding {
    /// Writes `bytes`.
    pub fn encode(self, bytes: &[u8]) -> String {
        match self {
            Encoding::Hex => hex_encode(bytes),
            Encoding::Base64 => base64_encode(bytes),
        }
    }

    /// Reads `text`; `None` when it is not in this encoding.
    pub fn decode(self, text: &str) -> Option<Vec<u8>> {
        match self {
            Encoding::Hex => hex_decode(text).ok(),
            Encoding::Base64 => base64_decode(text).ok(),
        }
    }
}

/// One signature header: where it is, how it is made and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HmacHeader<'a> {
    /// The header name (any case).
    pub header: &'a str,
    /// The HMAC's hash.
    pub hash: Hash,
    /// How the MAC is written.
    pub encoding: Encoding,
    /// What precedes the MAC in the header (`sha256=`, `v1=`), or empty.
    pub prefix: &'a str,
    /// Whether the header may carry several signatures separated by commas (or spaces), as
    /// during a secret rotation (PagerDuty); otherwise the whole value is one signature.
    pub list: bool,
}

impl<'a> HmacHeader<'a> {
    /// A hex, unprefixed, single-signature header.
    pub const fn hex(header: &'a str, hash: Hash) -> Self {
        HmacHeader {
            header,
            hash,
            encoding: Encoding::Hex,
            prefix: "",
            list: false,
        }
    }

    /// A base64, unprefixed, single-signature header.
    pub const fn base64(header: &'a str, hash: Hash) -> Self {
        HmacHeader {
            header,
            hash,
            encoding: Encoding::Base64,
            prefix: "",
            list: false,
        }
    }

    /// The same header with a prefix before the MAC.
    pub const fn prefixed(self, prefix: &'a str) -> Self {
        HmacHeader { prefix, ..self }
    }

    /// The same header, allowing several signatures.
    pub const fn listing(self) -> Self {
        HmacHeader { list: true, ..self }
    }

    /// The signatures the request carries, decoded. No header is
    /// [`VerifyError::MissingSignature`], and so is a header without any value; a header whose
    /// values are all unreadable (wrong prefix, not in the encoding) is malformed.
    pub fn signatures(&self, request: &Request) -> Result<Vec<Vec<u8>>, VerifyError> {
        let value = request
            .header_str(self.header)?
            .ok_or(VerifyError::MissingSignature)?;
        let items: Vec<&str> = if self.list {
            value
                .split(|c: char| c == ',' || c.is_ascii_whitespace())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        } else {
            vec![value]
        };
        let mut present = false;
        let mut signatures = Vec::new();
        for item in items {
            let Some(mac) = item.strip_prefix(self.prefix) else {
                continue;
            };
            if mac.is_empty() {
                continue;
            }
            present = true;
            if let Some(bytes) = self.encoding.decode(mac) {
                signatures.push(bytes);
            }
        }
        if !present {
            return Err(if value.is_empty() || value == self.prefix {
                VerifyError::MissingSignature
            } else {
                VerifyError::malformed(format!("{} must be {}<mac>", self.header, self.prefix))
            });
        }
        if signatures.is_empty() {
            return Err(VerifyError::malformed(format!(
                "{} is not {}",
                self.header,
                match self.encoding {
                    Encoding::Hex => "hex",
                    Encoding::Base64 => "base64",
                }
            )));
        }
        Ok(signatures)
    }

    /// Whether the request carries, in this header, the HMAC of `message` (the concatenated
    /// parts) under any configured secret.
    pub fn verify(
        &self,
        request: &Request,
        context: &VerifyContext,
        message: &[&[u8]],
    ) -> Result<(), VerifyError> {
        let signatures = self.signatures(request)?;
        context.verify_any_secret(|secret| {
            signatures
                .iter()
                .any(|sig| hmac_verify(self.hash, secret, message, sig))
        })
    }

    /// The header's value signing `message` under `secret`.
    pub fn sign(&self, secret: &[u8], message: &[&[u8]]) -> String {
        format!(
            "{}{}",
            self.prefix,
            self.encoding.encode(&hmac(self.hash, secret, message))
        )
    }

    /// `(header, value)` for [`crate::Platform::sign`].
    pub fn signed(&self, secret: &[u8], message: &[&[u8]]) -> (String, String) {
        (self.header.to_ascii_lowercase(), self.sign(secret, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"id":"e1"}"#;

    fn ctx() -> VerifyContext {
        VerifyContext::new("s3cret", 0)
    }

    #[test]
    fn a_signed_request_verifies_and_a_tampered_one_does_not() {
        let scheme = HmacHeader::hex("X-Sig", Hash::Sha256).prefixed("sha256=");
        let (name, value) = scheme.signed(b"s3cret", &[BODY]);
        assert_eq!(name, "x-sig");
        assert!(value.starts_with("sha256=") && value.len() == 7 + 64);
        let req = Request::post(BODY).with_header("X-Sig", value.clone());
        assert_eq!(scheme.verify(&req, &ctx(), &[BODY]), Ok(()));
        assert_eq!(
            scheme.verify(&req, &ctx(), &[b"{}"]),
            Err(VerifyError::SignatureMismatch)
        );
        let wrong = VerifyContext::new("other", 0);
        assert_eq!(
            scheme.verify(&req, &wrong, &[BODY]),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn missing_empty_and_malformed_headers_are_told_apart() {
        let scheme = HmacHeader::base64("x-sig", Hash::Sha1).prefixed("v1=");
        let verify = |value: Option<&str>| {
            let mut req = Request::post(BODY);
            if let Some(v) = value {
                req = req.with_header("x-sig", v);
            }
            scheme.verify(&req, &ctx(), &[BODY])
        };
        assert_eq!(verify(None), Err(VerifyError::MissingSignature));
        assert_eq!(verify(Some("")), Err(VerifyError::MissingSignature));
        assert_eq!(verify(Some("v1=")), Err(VerifyError::MissingSignature));
        assert!(matches!(
            verify(Some("v2=abcd")),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert!(matches!(
            verify(Some("v1=***")),
            Err(VerifyError::MalformedSignature(_))
        ));
    }

    #[test]
    fn a_listing_header_accepts_any_of_its_signatures() {
        let scheme = HmacHeader::hex("x-sig", Hash::Sha256)
            .prefixed("v1=")
            .listing();
        let good = scheme.sign(b"s3cret", &[BODY]);
        let old = scheme.sign(b"old", &[BODY]);
        let req = Request::post(BODY).with_header("x-sig", format!("{old}, {good}"));
        assert_eq!(scheme.verify(&req, &ctx(), &[BODY]), Ok(()));
        // Not listing: the whole value is one (unreadable) signature.
        let single = HmacHeader::hex("x-sig", Hash::Sha256).prefixed("v1=");
        assert!(single.verify(&req, &ctx(), &[BODY]).is_err());
    }

    #[test]
    fn published_vector_rfc4231_case_2() {
        // HMAC-SHA256("Jefe", "what do ya want for nothing?").
        let scheme = HmacHeader::hex("x-sig", Hash::Sha256);
        assert_eq!(
            scheme.sign(b"Jefe", &[b"what do ya want ", b"for nothing?"]),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
