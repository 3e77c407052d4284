//! Signing outgoing webhooks the Standard Webhooks way (<https://www.standardwebhooks.com>),
//! so receivers can verify what hookgate forwards with any Standard Webhooks or Svix library —
//! or with hookgate's own `standard-webhooks` platform plugin.
//!
//! The signature is `v1,` + base64 HMAC-SHA256 over `{msg_id}.{timestamp}.{body}`, sent with
//! the message id and timestamp in [`HEADER_ID`] and [`HEADER_TIMESTAMP`].

use crate::crypto::{Hash, constant_time_eq, ed25519_verify, hmac};
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

/// How one sender's flavour of the scheme reads and signs a message. The senders built on
/// Standard Webhooks agree on the shape (`{id}.{timestamp}.{body}`, HMAC-SHA256, a list of
/// `version,base64` entries) and differ in the details an official SDK fixes: how the secret
/// becomes a key, which timestamp text is signed, which entries count. One verifier reads all
/// of them from this description, so each platform plugin states its differences as data.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// The header names.
    pub names: HeaderNames,
    /// How a configured secret becomes a key.
    pub key: KeyFormat,
    /// How the timestamp is read and which text of it is signed.
    pub timestamp: Timestamp,
    /// Which signature entries count, and how they are compared.
    pub entries: Entries,
    /// Whether an empty (but present) id header is allowed; the signed bytes are then
    /// `{timestamp}.{body}` (OpenAI's SDK).
    pub empty_id_allowed: bool,
    /// The prefix of the fresh ids `hookgate send` makes (`msg_`, `wh_`).
    pub id_prefix: &'static str,
}

/// How a configured secret becomes a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    /// The base64 text after an optional `whsec_`; with `whpk_`, a base64 Ed25519 public key
    /// that verifies `v1a` entries (the specification; every Standard Webhooks library).
    Base64,
    /// The base64 after `whsec_`; any other secret is its UTF-8 bytes, never decoded (OpenAI).
    Base64OrRaw,
    /// The base64 after the secret's last `_` (Replicate's SDKs).
    Base64AfterLastUnderscore,
}

/// A decoded secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// An HMAC-SHA256 key (never empty).
    Hmac(Vec<u8>),
    /// An Ed25519 public key.
    Ed25519(Vec<u8>),
}

impl KeyFormat {
    /// The key of a configured secret, surrounding whitespace (a secret file's newline) not
    /// part of it. `None` when it does not decode or decodes to nothing: a `whsec_` with no
    /// key after it must not become an empty HMAC key anyone can sign with.
    pub fn key(self, secret: &[u8]) -> Option<Key> {
        let text = std::str::from_utf8(secret).ok()?.trim();
        let key = match self {
            Self::Base64 => {
                if let Some(public) = text.strip_prefix("whpk_") {
                    return base64_decode(public)
                        .ok()
                        .filter(|key| !key.is_empty())
                        .map(Key::Ed25519);
                }
                base64_decode(text.strip_prefix("whsec_").unwrap_or(text)).ok()?
            }
            Self::Base64OrRaw => match text.strip_prefix("whsec_") {
                Some(encoded) => base64_decode(encoded).ok()?,
                None => text.as_bytes().to_vec(),
            },
            Self::Base64AfterLastUnderscore => {
                base64_decode(text.rsplit('_').next().unwrap_or(text)).ok()?
            }
        };
        (!key.is_empty()).then_some(Key::Hmac(key))
    }
}

/// How the timestamp header is read, and which text of it is signed.
#[derive(Debug, Clone, Copy)]
pub enum Timestamp {
    /// The header text is signed as received; `seconds` reads the value checked against the
    /// tolerance (`None`: unreadable).
    AsSent {
        /// Reads Unix seconds from the header text.
        seconds: fn(&str) -> Option<i64>,
    },
    /// `parseInt` reads a numeric prefix and that integer, written back in decimal, is what
    /// is signed (the `standardwebhooks` libraries: `1614265330.75` signs `1614265330`).
    Reparsed,
}

/// Which entries of the space-separated signature list count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entries {
    /// `v1,<base64>` entries, each compared as base64 text with the expected one in constant
    /// time (the libraries: a non-canonical encoding of the right bytes does not match);
    /// other versions are skipped.
    V1Text,
    /// `v1,<base64>` (HMAC) and `v1a,<base64>` (Ed25519) entries, decoded and compared as
    /// bytes; other versions are skipped; an entry without a version is malformed.
    V1,
    /// Any `<version>,<base64>` entry, the version not checked (Replicate's SDKs).
    AnyVersion,
    /// `v1,<base64>` or bare base64 (OpenAI's SDK).
    V1OrBare,
}

/// The `standardwebhooks` libraries (which Clerk's `verifyWebhook` and Resend's
/// `webhooks.verify` wrap), under the `webhook-*` names.
pub const LIBRARY: Dialect = Dialect {
    names: WEBHOOK,
    key: KeyFormat::Base64,
    timestamp: Timestamp::Reparsed,
    entries: Entries::V1Text,
    empty_id_allowed: false,
    id_prefix: "msg_",
};

impl Dialect {
    /// The same rules under other header names.
    pub const fn with_names(self, names: HeaderNames) -> Self {
        Self { names, ..self }
    }

    /// The signed bytes before the body: `{id}.{timestamp}.`, or `{timestamp}.` for an
    /// allowed empty id.
    fn signed_prefix(&self, id: &str, timestamp: &str) -> String {
        if id.is_empty() {
            format!("{timestamp}.")
        } else {
            format!("{id}.{timestamp}.")
        }
    }

    /// The signatures of the list this dialect counts, and whether any entry was unreadable.
    fn entries<'a>(&self, header: &'a str) -> (Vec<Entry<'a>>, bool) {
        let mut out = Vec::new();
        let mut unreadable = false;
        for entry in header.split_ascii_whitespace() {
            let (version, text) = match (self.entries, entry.split_once(',')) {
                (Entries::V1OrBare, None) => ("v1", entry),
                (_, Some(pair)) => pair,
                (Entries::V1 | Entries::AnyVersion, None) => {
                    unreadable = true;
                    continue;
                }
                (Entries::V1Text, None) => continue,
            };
            let entry = match (self.entries, version) {
                (Entries::V1Text, "v1") if !text.is_empty() => Entry::Text(text),
                (Entries::V1Text, _) => continue,
                (Entries::V1 | Entries::V1OrBare, "v1") | (Entries::AnyVersion, _) => {
                    match base64_decode(text) {
                        Ok(bytes) if !bytes.is_empty() => Entry::Hmac(bytes),
                        _ => {
                            unreadable = true;
                            continue;
                        }
                    }
                }
                (Entries::V1, "v1a") => match base64_decode(text) {
                    Ok(bytes) if !bytes.is_empty() => Entry::Ed25519(bytes),
                    _ => {
                        unreadable = true;
                        continue;
                    }
                },
                _ => continue,
            };
            out.push(entry);
        }
        (out, unreadable)
    }

    /// Verifies a request under these rules: every entry against every configured secret
    /// (rotation), the timestamp within the source's tolerance either way.
    pub fn verify(
        &self,
        request: &crate::Request,
        context: &crate::VerifyContext,
    ) -> Result<(), crate::VerifyError> {
        use crate::VerifyError;
        let names = self.names;
        let header = request
            .header_str(names.signature)?
            .filter(|s| !s.is_empty())
            .ok_or(VerifyError::MissingSignature)?;
        let id = request
            .header_str(names.id)?
            .filter(|s| self.empty_id_allowed || !s.is_empty())
            .ok_or_else(|| VerifyError::malformed(format!("missing {}", names.id)))?;
        let text = request
            .header_str(names.timestamp)?
            .filter(|s| !s.is_empty())
            .ok_or(VerifyError::MissingTimestamp)?;
        let reparsed;
        let (seconds, signed_timestamp) = match self.timestamp {
            Timestamp::AsSent { seconds } => (seconds(text), text),
            Timestamp::Reparsed => {
                let seconds = crate::time::parse_int_prefix(text);
                reparsed = seconds.map(|s| s.to_string()).unwrap_or_default();
                (seconds, reparsed.as_str())
            }
        };
        context.check_unix_secs(seconds.ok_or(VerifyError::MissingTimestamp)?)?;
        // Bounded before anything is decoded or verified (see MAX_SIGNATURE_ENTRIES).
        crate::signature::split_signature_list(header)?;
        let (entries, unreadable) = self.entries(header);
        if entries.is_empty() {
            return Err(if unreadable {
                VerifyError::malformed(format!("no {} entry is readable", names.signature))
            } else {
                VerifyError::MissingSignature
            });
        }
        let prefix = self.signed_prefix(id, signed_timestamp);
        let message: [&[u8]; 2] = [prefix.as_bytes(), &request.body];
        context.verify_any_key(
            |secret| self.key.key(secret),
            |key| match key {
                Key::Hmac(key) => {
                    // Computed once per secret, whatever the number of entries.
                    let expected = hmac(Hash::Sha256, key, &message);
                    let expected_text =
                        matches!(self.entries, Entries::V1Text).then(|| base64_encode(&expected));
                    entries.iter().fold(false, |ok, entry| {
                        ok | match (entry, &expected_text) {
                            (Entry::Text(text), Some(expected)) => {
                                constant_time_eq(text.as_bytes(), expected.as_bytes())
                            }
                            (Entry::Hmac(sig), _) => constant_time_eq(sig, &expected),
                            _ => false,
                        }
                    })
                }
                Key::Ed25519(key) => {
                    let signed = message.concat();
                    entries.iter().fold(false, |ok, entry| {
                    ok | matches!(entry, Entry::Ed25519(sig) if ed25519_verify(key, &signed, sig))
                })
                }
            },
        )
    }

    /// The signature entry (`v1,<base64>`) for one message; `timestamp` is the header text.
    pub fn sign(
        &self,
        secret: &str,
        id: &str,
        timestamp: &str,
        body: &[u8],
    ) -> Result<String, crate::SignError> {
        let Some(Key::Hmac(key)) = self.key.key(secret.as_bytes()) else {
            return Err(crate::SignError::invalid(match self.key {
                KeyFormat::Base64 => {
                    "the secret is not whsec_<base64> (a whpk_ public key only verifies)"
                }
                KeyFormat::Base64OrRaw => "the secret is empty, or whsec_ followed by no base64",
                KeyFormat::Base64AfterLastUnderscore => "the secret is not whsec_<base64>",
            }));
        };
        let prefix = self.signed_prefix(id, timestamp);
        let mac = hmac(Hash::Sha256, &key, &[prefix.as_bytes(), body]);
        Ok(format!("v1,{}", base64_encode(&mac)))
    }

    /// The headers `hookgate send` adds: the id (a fresh one unless the operator gave one),
    /// the timestamp (now) and the signature.
    pub fn signed_headers(
        &self,
        request: &crate::Request,
        context: &crate::SignContext,
    ) -> Result<Vec<(String, String)>, crate::SignError> {
        let names = self.names;
        let given = request.header_text(names.id);
        let id = given.map_or_else(
            || format!("{}{}", self.id_prefix, context.nonce),
            str::to_owned,
        );
        let timestamp = context.now_unix_secs.to_string();
        let signature = self.sign(context.secret_str()?, &id, &timestamp, &request.body)?;
        let mut headers = Vec::with_capacity(3);
        if given.is_none() {
            headers.push((names.id.to_owned(), id));
        }
        headers.push((names.timestamp.to_owned(), timestamp));
        headers.push((names.signature.to_owned(), signature));
        Ok(headers)
    }
}

/// One counted entry of a signature list.
enum Entry<'a> {
    Text(&'a str),
    Hmac(Vec<u8>),
    Ed25519(Vec<u8>),
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
                LIBRARY
                    .with_names(names)
                    .verify(&request(names, "1614265330", sig), &ctx),
                Ok(())
            );
            // parseInt reads the integer that was signed.
            assert_eq!(
                LIBRARY
                    .with_names(names)
                    .verify(&request(names, "1614265330.75", sig), &ctx),
                Ok(())
            );
        }
        assert_eq!(
            LIBRARY
                .with_names(WEBHOOK)
                .verify(&request(SVIX, "1614265330", sig), &ctx),
            Err(crate::VerifyError::MissingSignature),
            "the other names are not read"
        );
        // A secret that decodes to no key is the operator's mistake, not a forged request: no
        // usable secret (503, the sender retries), never a signature anyone could match.
        let empty_key = crate::VerifyContext::new("whsec_", TIMESTAMP);
        assert_eq!(
            LIBRARY
                .with_names(WEBHOOK)
                .verify(&request(WEBHOOK, "1614265330", sig), &empty_key),
            Err(crate::VerifyError::NoSecretConfigured)
        );
        // With another, usable secret beside it, the request is judged by that one.
        let rotated =
            crate::VerifyContext::with_secrets(&[b"whsec_", SECRET.as_bytes()], TIMESTAMP);
        assert_eq!(
            LIBRARY
                .with_names(WEBHOOK)
                .verify(&request(WEBHOOK, "1614265330", sig), &rotated),
            Ok(())
        );
        let late = crate::VerifyContext::new(SECRET, TIMESTAMP + 301);
        assert!(
            LIBRARY
                .with_names(WEBHOOK)
                .verify(&request(WEBHOOK, "1614265330", sig), &late)
                .is_err()
        );
    }

    #[test]
    fn key_formats_decode_as_their_sdks_do() {
        let hmac = |bytes: &[u8]| Some(Key::Hmac(bytes.to_vec()));
        assert_eq!(KeyFormat::Base64.key(b"whsec_eA=="), hmac(b"x"));
        assert_eq!(KeyFormat::Base64.key(b"eA==\n"), hmac(b"x"));
        assert_eq!(
            KeyFormat::Base64.key(b"whpk_eA=="),
            Some(Key::Ed25519(b"x".to_vec()))
        );
        assert_eq!(
            KeyFormat::Base64OrRaw.key(b"raw secret"),
            hmac(b"raw secret")
        );
        assert_eq!(KeyFormat::Base64OrRaw.key(b"whsec_eA=="), hmac(b"x"));
        assert_eq!(
            KeyFormat::Base64AfterLastUnderscore.key(b"whsec_a_eA=="),
            hmac(b"x")
        );
        // Nothing decodes to an empty key, and undecodable text is no key at all.
        for format in [
            KeyFormat::Base64,
            KeyFormat::Base64OrRaw,
            KeyFormat::Base64AfterLastUnderscore,
        ] {
            for secret in [&b"whsec_"[..], b"whsec_=", b"  ", b"whsec_***"] {
                assert_eq!(format.key(secret), None, "{format:?} {secret:?}");
            }
        }
    }

    #[test]
    fn entry_rules_and_timestamps_of_the_dialects() {
        let strict = Dialect {
            timestamp: Timestamp::AsSent {
                seconds: crate::time::parse_unix_secs,
            },
            entries: Entries::V1,
            ..LIBRARY
        };
        let bare = Dialect {
            entries: Entries::V1OrBare,
            empty_id_allowed: true,
            ..strict
        };
        let any = Dialect {
            entries: Entries::AnyVersion,
            ..strict
        };
        let ctx = crate::VerifyContext::new(SECRET, TIMESTAMP);
        let request = |id: &str, ts: &str, sig: &str| {
            crate::Request::post(BODY)
                .with_header(HEADER_ID, id)
                .with_header(HEADER_TIMESTAMP, ts)
                .with_header(HEADER_SIGNATURE, sig)
        };
        let good = strict.sign(SECRET, MSG_ID, "1614265330", BODY).unwrap();
        assert_eq!(good, sign(SECRET, MSG_ID, TIMESTAMP, BODY).unwrap());
        let unprefixed = good.trim_start_matches("v1,");
        let relabelled = good.replacen("v1,", "v9,", 1);
        for (dialect, sig, ok) in [
            (strict, good.as_str(), true),
            (strict, unprefixed, false),
            (strict, relabelled.as_str(), false),
            (bare, unprefixed, true),
            (any, relabelled.as_str(), true),
            (LIBRARY, relabelled.as_str(), false),
        ] {
            let result = dialect.verify(&request(MSG_ID, "1614265330", sig), &ctx);
            assert_eq!(
                result.is_ok(),
                ok,
                "{:?} {sig}: {result:?}",
                dialect.entries
            );
        }
        // Signed as sent: the fraction is part of the signed text, unlike the libraries'.
        let fractional = strict.sign(SECRET, MSG_ID, "1614265330.5", BODY).unwrap();
        assert_eq!(
            strict.verify(&request(MSG_ID, "1614265330.5", &fractional), &ctx),
            Ok(())
        );
        assert!(
            LIBRARY
                .verify(&request(MSG_ID, "1614265330.5", &fractional), &ctx)
                .is_err()
        );
        // An empty id is signed without it where allowed, and malformed elsewhere.
        let no_id = bare.sign(SECRET, "", "1614265330", BODY).unwrap();
        assert_eq!(
            bare.verify(&request("", "1614265330", &no_id), &ctx),
            Ok(())
        );
        assert!(matches!(
            strict.verify(&request("", "1614265330", &no_id), &ctx),
            Err(crate::VerifyError::MalformedSignature(_))
        ));
        // Entries nobody can read are malformed; a list of other versions only is missing.
        assert!(matches!(
            strict.verify(&request(MSG_ID, "1614265330", "garbage v1,***"), &ctx),
            Err(crate::VerifyError::MalformedSignature(_))
        ));
        assert_eq!(
            strict.verify(&request(MSG_ID, "1614265330", "v2,abc"), &ctx),
            Err(crate::VerifyError::MissingSignature)
        );
    }

    #[test]
    fn send_adds_a_fresh_id_unless_one_is_given() {
        let context = crate::SignContext {
            secret: SECRET.as_bytes().to_vec(),
            now_unix_secs: TIMESTAMP,
            nonce: "n0nce".into(),
            settings: Default::default(),
        };
        let openai = Dialect {
            id_prefix: "wh_",
            ..LIBRARY
        };
        let headers = openai
            .signed_headers(&crate::Request::post(BODY), &context)
            .unwrap();
        assert_eq!(headers[0], (HEADER_ID.to_owned(), "wh_n0nce".to_owned()));
        assert_eq!(headers.len(), 3);
        let given = crate::Request::post(BODY).with_header(HEADER_ID, MSG_ID);
        let headers = LIBRARY.signed_headers(&given, &context).unwrap();
        assert_eq!(
            headers,
            vec![
                (HEADER_TIMESTAMP.to_owned(), "1614265330".to_owned()),
                (
                    HEADER_SIGNATURE.to_owned(),
                    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".to_owned()
                ),
            ]
        );
        let public = crate::SignContext {
            secret: b"whpk_eA==".to_vec(),
            ..context
        };
        assert!(LIBRARY.signed_headers(&given, &public).is_err());
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
