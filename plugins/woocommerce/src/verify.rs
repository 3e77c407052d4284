//! `X-WC-Webhook-Signature` verification: `base64(HMAC-SHA256(secret, body))`, no prefix, no
//! timestamp. WooCommerce keys the HMAC with `wp_specialchars_decode($secret, ENT_QUOTES)`, so
//! a secret copied from the database or the REST API with HTML entities in it (`&amp;`) works
//! as well as the text the admin screen shows: both forms are tried.

use hookgate_sdk::prelude::*;

/// The header WooCommerce signs with.
pub const SIGNATURE: HmacHeader<'static> =
    HmacHeader::base64("x-wc-webhook-signature", Hash::Sha256);

/// The header naming the topic (`order.created`), which normalization needs.
pub const TOPIC: &str = "x-wc-webhook-topic";

/// The header WooCommerce calls the delivery id (not unique; see the crate docs).
pub const DELIVERY_ID: &str = "x-wc-webhook-delivery-id";

/// Verifies a WooCommerce delivery.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let signatures = SIGNATURE.signatures(req)?;
    let message: [&[u8]; 1] = [&req.body];
    ctx.verify_any_secret(|secret| {
        keys(secret).iter().any(|key| {
            signatures
                .iter()
                .any(|sig| hmac_verify(Hash::Sha256, key, &message, sig))
        })
    })
}

/// The HMAC keys a configured secret stands for: itself, and its entity-decoded form when
/// that differs.
fn keys(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut keys = vec![secret.to_vec()];
    if let Ok(text) = std::str::from_utf8(secret) {
        let decoded = specialchars_decode(text);
        if decoded.as_bytes() != secret {
            keys.push(decoded.into_bytes());
        }
    }
    keys
}

/// WordPress's `wp_specialchars_decode(…, ENT_QUOTES)`: `&amp; &lt; &gt; &quot;` and the
/// numeric forms of `& < > " '` (decimal with leading zeros, or hex), decoded in one pass (an
/// entity produced by decoding is not decoded again). Anything else stays as it is.
pub fn specialchars_decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match entity(rest) {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character an entity at the start of `text` stands for, and the entity's length.
fn entity(text: &str) -> Option<(char, usize)> {
    let end = text.find(';')?;
    let name = &text[1..end];
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        _ => {
            let numeric = name.strip_prefix('#')?;
            let code = match numeric.strip_prefix(['x', 'X']) {
                Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    u32::from_str_radix(hex.trim_start_matches('0'), 16).ok()?
                }
                Some(_) => return None,
                None if !numeric.is_empty() && numeric.bytes().all(|b| b.is_ascii_digit()) => {
                    numeric.trim_start_matches('0').parse().ok()?
                }
                None => return None,
            };
            match code {
                38 => '&',
                60 => '<',
                62 => '>',
                34 => '"',
                39 => '\'',
                _ => return None,
            }
        }
    };
    Some((c, end + 1))
}

/// Whether the request is WooCommerce's creation ping: a POST of exactly `webhook_id=<N>`
/// that carries neither a signature nor a topic (a real delivery always has both).
pub fn is_ping(req: &Request) -> bool {
    if req.method != "POST" || req.header(SIGNATURE.header).is_some() || req.header(TOPIC).is_some()
    {
        return false;
    }
    std::str::from_utf8(&req.body)
        .ok()
        .and_then(|body| body.trim().strip_prefix("webhook_id="))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// The headers `hookgate send` adds: the signature, and a delivery id unless the operator gave
/// one. WooCommerce names the topic only in a header, so the operator must pass it.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    if req.header_text(TOPIC).is_none() {
        return Err(SignError::invalid(
            "WooCommerce names the topic in a header: pass --header 'X-WC-Webhook-Topic: order.created' (or the topic you are testing)",
        ));
    }
    let secret = specialchars_decode(ctx.secret_str()?);
    let mut headers = vec![SIGNATURE.signed(secret.as_bytes(), &[&req.body])];
    if req.header_text(DELIVERY_ID).is_none() {
        headers.push((DELIVERY_ID.into(), ctx.nonce.clone()));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"id":727,"status":"processing","total":"29.35"}"#;

    fn req(sig: &str) -> Request {
        Request::post(BODY).with_header("X-WC-Webhook-Signature", sig)
    }

    /// `base64_encode(hash_hmac('sha256', $body, $secret, true))`, computed independently with
    /// Python's hmac module.
    #[test]
    fn known_signature() {
        let expected = "a5nLuBXazHrjo3UMLxCtZtFZvuZmJU+VR+eS9CkWDuA=";
        assert_eq!(
            SIGNATURE.sign(b"wc-webhook-s3cret", &[BODY.as_bytes()]),
            expected
        );
        let ctx = VerifyContext::new("wc-webhook-s3cret", 0);
        assert_eq!(verify(&req(expected), &ctx), Ok(()));
        // Hex, or a prefix, is not what WooCommerce sends.
        let hex = hex_encode(&base64_decode(expected).unwrap());
        assert!(verify(&req(&hex), &ctx).is_err());
        assert!(verify(&req(&format!("sha256={expected}")), &ctx).is_err());
    }

    #[test]
    fn the_secret_is_entity_decoded_as_wordpress_does() {
        assert_eq!(specialchars_decode("a&amp;b&lt;c&gt;d"), "a&b<c>d");
        assert_eq!(
            specialchars_decode("&quot;&#039;&#39;&#0039;&#x27;&#X22;&#38;"),
            "\"''''\"&"
        );
        // One pass, and unknown entities or lone ampersands stay.
        assert_eq!(specialchars_decode("&amp;amp;"), "&amp;");
        assert_eq!(
            specialchars_decode("&nbsp; & &#65; &#x; &"),
            "&nbsp; & &#65; &#x; &"
        );
        // The key WooCommerce uses for a stored `p&amp;ss` is `p&ss`: either form verifies.
        let sig = SIGNATURE.sign(b"p&ss", &[BODY.as_bytes()]);
        for configured in ["p&ss", "p&amp;ss"] {
            assert_eq!(
                verify(&req(&sig), &VerifyContext::new(configured, 0)),
                Ok(()),
                "{configured}"
            );
        }
    }

    #[test]
    fn rotated_secrets_and_malformed_signatures() {
        let sig = SIGNATURE.sign(b"old", &[BODY.as_bytes()]);
        let rotating = VerifyContext {
            secrets: vec![b"new".to_vec(), b"old".to_vec()],
            ..VerifyContext::new("", 0)
        };
        assert_eq!(verify(&req(&sig), &rotating), Ok(()));
        assert!(matches!(
            verify(&req("***"), &rotating),
            Err(VerifyError::MalformedSignature(_))
        ));
    }
}
