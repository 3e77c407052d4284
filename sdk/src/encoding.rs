//! Hex and base64, the encodings platforms put signatures in. Decoders are strict: padding and
//! alphabet errors are errors, so a mangled signature is reported as malformed, not mismatched.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};

/// Error from a strict decoder; the signature or key was not in the expected encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError;

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid encoding")
    }
}

impl std::error::Error for DecodeError {}

/// Lower-case hex of `bytes`.
pub fn hex_encode(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Decodes hex (either case). Odd lengths and non-hex characters are errors.
pub fn hex_decode(text: &str) -> Result<Vec<u8>, DecodeError> {
    hex::decode(text).map_err(|_| DecodeError)
}

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// URL-safe base64 without padding (RFC 4648 section 5), the encoding of JWT segments.
pub fn base64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes standard base64 (with padding), falling back to the URL-safe alphabet with or
/// without padding, which some platforms use for keys.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, DecodeError> {
    STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .or_else(|_| URL_SAFE_NO_PAD.decode(text))
        .map_err(|_| DecodeError)
}

/// The first value of `key` in the query string of `url`, percent-decoded as web frameworks
/// decode query parameters (`+` is a space); `None` when absent. Handshakes carry their
/// parameters here (`?challenge=`, `?validationToken=`, `hub.challenge`).
pub fn query_value(url: &str, key: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    let query = query.split('#').next().unwrap_or(query);
    form_value(query.as_bytes(), key)
}

/// `AppInstance` → `app_instance`, `subscriptionType` → `subscription_type`: a platform's
/// camel-case names as the lower-case segments of normalized types and entity types.
pub fn snake_case(native: &str) -> String {
    let mut out = String::with_capacity(native.len() + 4);
    let mut previous_lower = false;
    for c in native.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The first value of `key` in an `application/x-www-form-urlencoded` body, percent-decoded
/// (`+` is a space). `None` when absent or not valid UTF-8 after decoding.
pub fn form_value(body: &[u8], key: &str) -> Option<String> {
    form_pairs(body)
        .into_iter()
        .find(|(k, _)| k == key.as_bytes())
        .and_then(|(_, v)| String::from_utf8(v).ok())
}

/// Every `key=value` pair of an `application/x-www-form-urlencoded` body (or query string), in
/// order, repeats kept, percent-decoded with `+` as a space. A `%` not followed by two hex
/// digits stays as it is, as form parsers leave it (and as Twilio signs it).
pub fn form_pairs(body: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = match pair.iter().position(|&b| b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// `text` percent-encoded for a URL query component or path segment: every byte but RFC
/// 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`) as `%XX`.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An `application/x-www-form-urlencoded` body of `pairs`, in order, each name and value
/// [`percent_encode`]d (a space as `%20`, which every form decoder reads).
pub fn form_encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&percent_encode(name));
        out.push('=');
        out.push_str(&percent_encode(value));
    }
    out
}

fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        let hex = input
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn form_encode_and_base64url() {
        assert_eq!(
            form_encode([("grant_type", "urn:ietf:params"), ("a b", "c&d=e")]),
            "grant_type=urn%3Aietf%3Aparams&a%20b=c%26d%3De"
        );
        assert_eq!(
            form_value(form_encode([("k", "a b+c")]).as_bytes(), "k").as_deref(),
            Some("a b+c")
        );
        assert_eq!(base64url_encode(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn query_values_and_snake_case() {
        let url = "https://h.example/w?challenge=a%20b+c&x=1#frag";
        assert_eq!(query_value(url, "challenge").as_deref(), Some("a b c"));
        assert_eq!(query_value(url, "x").as_deref(), Some("1"));
        assert_eq!(query_value(url, "y"), None);
        assert_eq!(query_value("https://h.example/w", "x"), None);
        assert_eq!(snake_case("AppInstance"), "app_instance");
        assert_eq!(
            snake_case("contact.propertyChange"),
            "contact.property_change"
        );
        assert_eq!(snake_case("already_snake"), "already_snake");
    }

    #[test]
    fn form_values_are_percent_decoded() {
        let body = b"token=abc&payload=%7B%22a%22%3A+1%7D&empty=&flag";
        assert_eq!(form_value(body, "payload").as_deref(), Some("{\"a\": 1}"));
        assert_eq!(form_value(body, "token").as_deref(), Some("abc"));
        assert_eq!(form_value(body, "empty").as_deref(), Some(""));
        assert_eq!(form_value(body, "missing"), None);
        assert_eq!(percent_encode("a b&c=ü~"), "a%20b%26c%3D%C3%BC~");
        let round_trip = format!("k={}", percent_encode("x y+z&="));
        assert_eq!(
            form_value(round_trip.as_bytes(), "k").as_deref(),
            Some("x y+z&=")
        );
        // A stray `%` stays as sent; bytes that are not UTF-8 are no text value.
        assert_eq!(form_value(b"a=%zz%4", "a").as_deref(), Some("%zz%4"));
        assert_eq!(form_value(b"a=%ff", "a"), None);
        assert_eq!(form_value(b"flag", "flag").as_deref(), Some(""));
        assert_eq!(
            form_pairs(b"b=2&a=1&b=%32&&c"),
            vec![
                (b"b".to_vec(), b"2".to_vec()),
                (b"a".to_vec(), b"1".to_vec()),
                (b"b".to_vec(), b"2".to_vec()),
                (b"c".to_vec(), Vec::new()),
            ]
        );
    }

    use super::*;

    #[test]
    fn hex_round_trip_and_strictness() {
        assert_eq!(hex_encode(&[0xde, 0xad]), "dead");
        assert_eq!(hex_decode("DEad").unwrap(), vec![0xde, 0xad]);
        assert!(hex_decode("abc").is_err());
        assert!(hex_decode("zz").is_err());
    }

    #[test]
    fn base64_accepts_standard_and_url_safe() {
        assert_eq!(base64_decode("+/8=").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(base64_decode("-_8").unwrap(), vec![0xfb, 0xff]);
        assert!(base64_decode("***").is_err());
        assert_eq!(base64_encode(b"hi"), "aGk=");
    }
}
