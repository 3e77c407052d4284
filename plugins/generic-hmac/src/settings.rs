//! The source settings that describe a sender's scheme, checked once at load and read on every
//! request:
//!
//! | key | meaning | default |
//! | --- | --- | --- |
//! | `header` | the signature header | required |
//! | `algorithm` | `sha1`, `sha256` or `sha512` | `sha256` |
//! | `encoding` | `hex` or `base64` | `hex` |
//! | `prefix` | text before the MAC in the header (`sha256=`) | none |
//! | `signed` | what is signed: a pattern over `{body}`, `{timestamp}`, `{url}`, `{method}` | `{body}` |
//! | `timestamp_header` | the header holding `{timestamp}` (Unix seconds), checked against the source's `tolerance_secs` | required with `{timestamp}` |
//! | `id_header` | the header naming the delivery (the event id) | none |
//! | `id_field` | the body's JSON field holding the event id (dotted path) | `id` |
//! | `type_field` | the body's JSON field holding the event type (dotted path) | `type` |
//! | `type_prefix` | the normalized type is `<type_prefix>.<type>` | `webhook` |
//!
//! Without `id_header`, an event whose body has no `id_field` is identified by the body's
//! SHA-256, so a redelivery of the same bytes is still a duplicate.

use hookgate_sdk::prelude::*;

/// Every key the settings may hold.
const KEYS: &[&str] = &[
    "header",
    "algorithm",
    "encoding",
    "prefix",
    "signed",
    "timestamp_header",
    "id_header",
    "id_field",
    "type_field",
    "type_prefix",
];

/// One piece of the signed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    /// Text as written in the pattern.
    Literal(&'a str),
    /// The body, byte for byte.
    Body,
    /// The timestamp header's value, as received.
    Timestamp,
    /// The URL the sender addressed (the source's `public_url` when set).
    Url,
    /// The HTTP method.
    Method,
}

/// Where the event id comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdFrom<'a> {
    /// A header (the delivery id).
    Header(&'a str),
    /// A JSON field of the body, else the body's SHA-256.
    Field(&'a str),
}

/// A sender's scheme, borrowed from the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheme<'a> {
    /// The signature header.
    pub signature: HmacHeader<'a>,
    /// The signed message.
    pub signed: Vec<Part<'a>>,
    /// The timestamp header, when `{timestamp}` is signed.
    pub timestamp_header: Option<&'a str>,
    /// The event id.
    pub id: IdFrom<'a>,
    /// The event type's field.
    pub type_field: &'a str,
    /// The normalized type's first segment.
    pub type_prefix: &'a str,
}

impl<'a> Scheme<'a> {
    /// Reads and checks the settings; the error names the key at fault.
    pub fn parse(settings: &'a Settings) -> Result<Scheme<'a>, ConfigError> {
        settings.only(KEYS)?;
        let header = settings.required_str("header")?;
        if !is_header_name(header) {
            return Err(ConfigError::new("header", "is not an HTTP header name"));
        }
        let hash = match settings.str("algorithm")?.unwrap_or("sha256") {
            "sha1" => Hash::Sha1,
            "sha256" => Hash::Sha256,
            "sha512" => Hash::Sha512,
            _ => {
                return Err(ConfigError::new(
                    "algorithm",
                    "must be sha1, sha256 or sha512",
                ));
            }
        };
        let encoding = match settings.str("encoding")?.unwrap_or("hex") {
            "hex" => Encoding::Hex,
            "base64" => Encoding::Base64,
            _ => return Err(ConfigError::new("encoding", "must be hex or base64")),
        };
        let prefix = settings.str("prefix")?.unwrap_or("");
        let signed = pattern(settings.str("signed")?.unwrap_or("{body}"))?;
        let timestamp_header = settings.str("timestamp_header")?;
        match (signed.contains(&Part::Timestamp), timestamp_header) {
            (true, None) => {
                return Err(ConfigError::new(
                    "timestamp_header",
                    "is required when signed uses {timestamp}",
                ));
            }
            (false, Some(_)) => {
                return Err(ConfigError::new(
                    "timestamp_header",
                    "is set but signed does not use {timestamp}: an unsigned timestamp proves nothing",
                ));
            }
            (_, Some(h)) if !is_header_name(h) => {
                return Err(ConfigError::new(
                    "timestamp_header",
                    "is not an HTTP header name",
                ));
            }
            _ => {}
        }
        let id = match (settings.str("id_header")?, settings.str("id_field")?) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::new(
                    "id_field",
                    "cannot be set together with id_header",
                ));
            }
            (Some(h), None) if !is_header_name(h) => {
                return Err(ConfigError::new("id_header", "is not an HTTP header name"));
            }
            (Some(h), None) => IdFrom::Header(h),
            (None, Some("")) => return Err(ConfigError::new("id_field", "must not be empty")),
            (None, field) => IdFrom::Field(field.unwrap_or("id")),
        };
        let type_field = settings.str("type_field")?.unwrap_or("type");
        let type_prefix = settings.str("type_prefix")?.unwrap_or("webhook");
        let valid_prefix = !type_prefix.is_empty()
            && type_prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !valid_prefix {
            return Err(ConfigError::new(
                "type_prefix",
                "must be lower case [a-z0-9_-] (it starts every event type)",
            ));
        }
        Ok(Scheme {
            signature: HmacHeader {
                header,
                hash,
                encoding,
                prefix,
                list: true,
            },
            signed,
            timestamp_header,
            id,
            type_field,
            type_prefix,
        })
    }
}

/// `{body}`-style placeholders and the literal text between them. The body must be signed: a
/// signature that does not cover it lets anyone change it.
fn pattern(text: &str) -> Result<Vec<Part<'_>>, ConfigError> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(Part::Literal(&rest[..open]));
        }
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| ConfigError::new("signed", "has a '{' without its '}'"))?;
        parts.push(match &rest[open + 1..open + close] {
            "body" => Part::Body,
            "timestamp" => Part::Timestamp,
            "url" => Part::Url,
            "method" => Part::Method,
            other => {
                return Err(ConfigError::new(
                    "signed",
                    format!("has an unknown placeholder {{{other}}} (known: {{body}}, {{timestamp}}, {{url}}, {{method}})"),
                ));
            }
        });
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest));
    }
    if !parts.contains(&Part::Body) {
        return Err(ConfigError::new(
            "signed",
            "must include {body}: a signature that does not cover the body lets anyone change it",
        ));
    }
    Ok(parts)
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error(settings: serde_json::Value) -> String {
        Scheme::parse(&Settings::from_json(settings))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn the_contract_example_parses() {
        let settings = crate::tests::acme();
        let scheme = Scheme::parse(&settings).unwrap();
        assert_eq!(
            scheme.signed,
            [Part::Timestamp, Part::Literal("."), Part::Body]
        );
        assert_eq!(scheme.signature.prefix, "sha256=");
        assert_eq!(scheme.id, IdFrom::Header("X-Acme-Delivery"));
        assert_eq!(scheme.type_prefix, "acme");
    }

    #[test]
    fn defaults_sign_the_body_with_sha256_hex() {
        let settings = Settings::from_json(json!({ "header": "X-Signature" }));
        let scheme = Scheme::parse(&settings).unwrap();
        assert_eq!(scheme.signed, [Part::Body]);
        assert_eq!(scheme.signature.hash, Hash::Sha256);
        assert_eq!(scheme.signature.encoding, Encoding::Hex);
        assert_eq!(scheme.id, IdFrom::Field("id"));
        assert_eq!((scheme.type_field, scheme.type_prefix), ("type", "webhook"));
    }

    #[test]
    fn every_mistake_names_its_key() {
        for (settings, expected) in [
            (json!({}), "config.header is required"),
            (
                json!({ "header": "X Sig" }),
                "config.header is not an HTTP header name",
            ),
            (
                json!({ "header": "x", "algorithm": "md5" }),
                "config.algorithm must be sha1",
            ),
            (
                json!({ "header": "x", "encoding": "hexa" }),
                "config.encoding must be hex",
            ),
            (
                json!({ "header": "x", "signed": "{timestamp}" }),
                "config.signed must include {body}",
            ),
            (
                json!({ "header": "x", "signed": "{body}{nonce}" }),
                "unknown placeholder {nonce}",
            ),
            (
                json!({ "header": "x", "signed": "{body" }),
                "config.signed has a '{' without",
            ),
            (
                json!({ "header": "x", "signed": "{timestamp}.{body}" }),
                "config.timestamp_header is required",
            ),
            (
                json!({ "header": "x", "timestamp_header": "x-ts" }),
                "an unsigned timestamp proves nothing",
            ),
            (
                json!({ "header": "x", "id_header": "x-id", "id_field": "id" }),
                "config.id_field cannot be set together",
            ),
            (
                json!({ "header": "x", "type_prefix": "Acme" }),
                "config.type_prefix must be lower case",
            ),
            (
                json!({ "header": "x", "secret": "s" }),
                "config.secret is not a setting",
            ),
            (json!({ "header": 5 }), "config.header must be a string"),
        ] {
            let got = error(settings);
            assert!(
                got.contains(expected),
                "{got:?} should contain {expected:?}"
            );
        }
    }
}
