//! The inbound request as a plugin sees it, the verification context the host passes in, and
//! the typed reasons a request is refused.

use crate::Settings;
use crate::time::parse_unix_secs;

/// An inbound webhook request, exactly as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// HTTP method in upper case.
    pub method: String,
    /// The full URL the platform addressed.
    pub url: String,
    /// Headers as `(lower-case name, raw value)`, repeats kept in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl Request {
    /// A POST request with `body` and no headers; handy in tests.
    pub fn post(body: impl Into<Vec<u8>>) -> Self {
        Request {
            method: "POST".into(),
            url: "https://hooks.example.com/webhooks/test".into(),
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header (builder style, for tests).
    pub fn with_header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// The first value of header `name` (case-insensitive), raw.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// Every value of header `name` (case-insensitive), in the order received.
    pub fn headers_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The first value of header `name` as trimmed UTF-8. A header that is present but not
    /// UTF-8 is a malformed signature, the usual reason a plugin reads a header.
    pub fn header_str(&self, name: &str) -> Result<Option<&str>, VerifyError> {
        match self.header(name) {
            None => Ok(None),
            Some(v) => std::str::from_utf8(v)
                .map(|s| Some(s.trim()))
                .map_err(|_| VerifyError::malformed(format!("header {name} is not UTF-8"))),
        }
    }

    /// Header `name` as text, treating absence, non-UTF-8 and blank values alike as `None`.
    /// For non-security headers such as an event type.
    pub fn header_text(&self, name: &str) -> Option<&str> {
        self.header(name)
            .and_then(|v| std::str::from_utf8(v).ok())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// Parses the body as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, crate::NormalizeError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| crate::NormalizeError::new(format!("body is not valid JSON: {e}")))
    }
}

/// What the host passes to every verification: the configured secrets, the replay window, the
/// current time and the source's settings. Plugins have no clock of their own.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyContext {
    /// Every configured secret, newest first.
    pub secrets: Vec<Vec<u8>>,
    /// Allowed distance between a signed timestamp and `now`, in seconds.
    pub tolerance_secs: u64,
    /// The host's current time in Unix seconds.
    pub now_unix_secs: i64,
    /// The source's settings (its `config` table), as [`crate::Platform::check_config`]
    /// accepted them.
    pub settings: Settings,
}

impl VerifyContext {
    /// A context with one secret, a 300 s tolerance, the given time and no settings; handy in
    /// tests.
    pub fn new(secret: impl Into<Vec<u8>>, now_unix_secs: i64) -> Self {
        VerifyContext {
            secrets: vec![secret.into()],
            tolerance_secs: 300,
            now_unix_secs,
            settings: Settings::none(),
        }
    }

    /// A context with these secrets (none, or several as during a rotation), otherwise as
    /// [`VerifyContext::new`]; handy in tests.
    pub fn with_secrets(secrets: &[&[u8]], now_unix_secs: i64) -> Self {
        VerifyContext {
            secrets: secrets.iter().map(|s| s.to_vec()).collect(),
            ..Self::new(Vec::new(), now_unix_secs)
        }
    }

    /// The same context with `settings` (builder style, for tests).
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// `Ok` if `check` accepts any configured secret (rotation), else
    /// [`VerifyError::SignatureMismatch`], or [`VerifyError::NoSecretConfigured`] without secrets.
    pub fn verify_any_secret(
        &self,
        mut check: impl FnMut(&[u8]) -> bool,
    ) -> Result<(), VerifyError> {
        if self.secrets.is_empty() {
            return Err(VerifyError::NoSecretConfigured);
        }
        // Every secret is tried even after a match would be known, so timing does not reveal
        // which secret (old or new) signed the request.
        let mut ok = false;
        for secret in &self.secrets {
            ok |= check(secret);
        }
        if ok {
            Ok(())
        } else {
            Err(VerifyError::SignatureMismatch)
        }
    }

    /// `Ok` if the HMAC of `message` under any configured secret equals any of `candidates`
    /// (the request's decoded signatures). Each secret's MAC is computed once, however many
    /// candidates the request carries, and compared with each in constant time; an empty
    /// secret or candidate never matches.
    pub fn verify_any_mac(
        &self,
        hash: crate::crypto::Hash,
        message: &[&[u8]],
        candidates: &[Vec<u8>],
    ) -> Result<(), VerifyError> {
        self.verify_any_secret(|secret| {
            if secret.is_empty() {
                return false;
            }
            let mac = crate::crypto::hmac(hash, secret, message);
            candidates
                .iter()
                .fold(false, |ok, c| ok | crate::crypto::constant_time_eq(c, &mac))
        })
    }

    /// Like [`VerifyContext::verify_any_secret`] for secrets that must be decoded into a key
    /// first (`whsec_<base64>`): `key` decodes one, `check` verifies with it. A secret that does
    /// not decode is skipped; when none does, the answer is
    /// [`VerifyError::NoSecretConfigured`] — the operator's mistake, answered 503 so the sender
    /// retries once it is fixed, not a 401 that tells it the request was forged.
    pub fn verify_any_key<K>(
        &self,
        key: impl Fn(&[u8]) -> Option<K>,
        mut check: impl FnMut(&K) -> bool,
    ) -> Result<(), VerifyError> {
        let keys: Vec<K> = self.secrets.iter().filter_map(|s| key(s)).collect();
        if keys.is_empty() {
            return Err(VerifyError::NoSecretConfigured);
        }
        // Every key is tried, as in `verify_any_secret`.
        let mut ok = false;
        for k in &keys {
            ok |= check(k);
        }
        if ok {
            Ok(())
        } else {
            Err(VerifyError::SignatureMismatch)
        }
    }

    /// Checks a signed Unix timestamp (as text) against `now` and the tolerance.
    pub fn check_timestamp(&self, timestamp: &str) -> Result<i64, VerifyError> {
        let ts = parse_unix_secs(timestamp).ok_or(VerifyError::MissingTimestamp)?;
        self.check_unix_secs(ts)
    }

    /// Refuses a signed Unix timestamp older than the tolerance and lets a future one pass: the
    /// check of the platforms whose own SDKs refuse only stale requests (Paddle, Calendly,
    /// Discord, SendGrid, Mailgun, Zoom), so a receiver whose clock runs behind the sender's
    /// refuses nothing genuine.
    pub fn check_not_stale(&self, ts: i64) -> Result<i64, VerifyError> {
        let tolerance = i64::try_from(self.tolerance_secs).unwrap_or(i64::MAX);
        if self.now_unix_secs.saturating_sub(ts) > tolerance {
            Err(VerifyError::TimestampOutsideTolerance(ts))
        } else {
            Ok(ts)
        }
    }

    /// Checks a signed Unix timestamp against `now` and the tolerance.
    pub fn check_unix_secs(&self, ts: i64) -> Result<i64, VerifyError> {
        let skew = self.now_unix_secs.abs_diff(ts);
        if skew > self.tolerance_secs {
            Err(VerifyError::TimestampOutsideTolerance(ts))
        } else {
            Ok(ts)
        }
    }
}

/// Why a request is not genuine. Every variant becomes a 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// No signature at all.
    MissingSignature,
    /// A signature is present but cannot be parsed.
    MalformedSignature(String),
    /// Signed, but by none of the configured secrets.
    SignatureMismatch,
    /// A signed timestamp is missing or unparsable.
    MissingTimestamp,
    /// The signed timestamp (Unix seconds) is outside the tolerance.
    TimestampOutsideTolerance(i64),
    /// A secret is required and none is configured.
    NoSecretConfigured,
}

impl VerifyError {
    /// A [`VerifyError::MalformedSignature`] with a reason.
    pub fn malformed(reason: impl Into<String>) -> Self {
        VerifyError::MalformedSignature(reason.into())
    }
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyError::MissingSignature => f.write_str("missing signature"),
            VerifyError::MalformedSignature(r) => write!(f, "malformed signature: {r}"),
            VerifyError::SignatureMismatch => f.write_str("signature mismatch"),
            VerifyError::MissingTimestamp => f.write_str("missing or invalid timestamp"),
            VerifyError::TimestampOutsideTolerance(ts) => {
                write!(f, "timestamp {ts} outside tolerance")
            }
            VerifyError::NoSecretConfigured => f.write_str("no secret configured"),
        }
    }
}

impl std::error::Error for VerifyError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lookup_is_case_insensitive_and_keeps_repeats() {
        let req = Request::post("{}")
            .with_header("X-Sig", "a")
            .with_header("x-sig", "b")
            .with_header("Other", "c");
        assert_eq!(req.header("X-SIG"), Some(&b"a"[..]));
        assert_eq!(
            req.headers_all("x-sig").collect::<Vec<_>>(),
            vec![&b"a"[..], &b"b"[..]]
        );
        assert_eq!(req.header("missing"), None);
    }

    #[test]
    fn non_utf8_signature_header_is_malformed() {
        let req = Request::post("{}").with_header("x-sig", vec![0xff, 0xfe]);
        assert!(matches!(
            req.header_str("x-sig"),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert_eq!(req.header_text("x-sig"), None);
    }

    #[test]
    fn tolerance_is_symmetric() {
        let ctx = VerifyContext::new("s", 1_000_000);
        assert!(ctx.check_unix_secs(1_000_300).is_ok());
        assert!(ctx.check_unix_secs(999_700).is_ok());
        assert_eq!(
            ctx.check_unix_secs(999_699),
            Err(VerifyError::TimestampOutsideTolerance(999_699))
        );
        assert!(ctx.check_unix_secs(1_000_301).is_err());
        assert_eq!(
            ctx.check_timestamp("abc"),
            Err(VerifyError::MissingTimestamp)
        );
    }

    #[test]
    fn any_secret_of_a_rotation_verifies() {
        let ctx = VerifyContext {
            secrets: vec![b"new".to_vec(), b"old".to_vec()],
            ..VerifyContext::new("", 0)
        };
        assert!(ctx.verify_any_secret(|s| s == b"old").is_ok());
        assert_eq!(
            ctx.verify_any_secret(|_| false),
            Err(VerifyError::SignatureMismatch)
        );
        let none = VerifyContext {
            secrets: vec![],
            ..ctx
        };
        assert_eq!(
            none.verify_any_secret(|_| true),
            Err(VerifyError::NoSecretConfigured)
        );
    }
}
