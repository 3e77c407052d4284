//! What actions that call an HTTP API share: the standard classification of an answer (the
//! table below, which `forward` and `http` use as is and the service actions start from), the
//! retry hints services send, the checks of configured headers, and the recognition of
//! template strings in a config being checked.
//!
//! | outcome | result |
//! | --- | --- |
//! | 2xx | delivered |
//! | 3xx | permanent: redirects are not followed |
//! | 408, 5xx | retryable, after `Retry-After` when given |
//! | 429 | rate limited, after `Retry-After` when given |
//! | 410 | gone: the host disables the route |
//! | other 4xx | permanent |
//! | other statuses (1xx, ≥ 600) | retryable: a broken answer is not a refusal |
//! | timeout, connection error | retryable |
//! | refused by the egress policy, invalid request | permanent |
//! | any other transport error | retryable |

use crate::action::{ActionError, Delivered};
use crate::http::{
    HttpError, Response as HttpResponse, Url, is_valid_header_name, is_valid_header_value,
};
use crate::retry_after::retry_after_ms;
use serde_json::{Map, Value};

/// The longest body excerpt put into a failure reason, in characters.
pub const SNIPPET_CHARS: usize = 200;

/// Classifies one attempt's outcome.
pub fn classify(
    outcome: Result<HttpResponse, HttpError>,
    now_unix_ms: u64,
) -> Result<Delivered, ActionError> {
    match outcome {
        Ok(response) => classify_response(&response, now_unix_ms),
        Err(error) => Err(classify_error(error)),
    }
}

/// Classifies a response by its status.
pub fn classify_response(
    response: &HttpResponse,
    now_unix_ms: u64,
) -> Result<Delivered, ActionError> {
    let status = response.status;
    let after_ms = || {
        response
            .header("retry-after")
            .and_then(|v| retry_after_ms(v, now_unix_ms))
    };
    let reason = || match snippet(&response.body) {
        s if s.is_empty() => format!("HTTP {status}"),
        s => format!("HTTP {status}: {s}"),
    };
    let error = match status {
        200..=299 => {
            return Ok(
                Delivered::status(status).with_pause_ms(quota_spent_ms(response, now_unix_ms))
            );
        }
        300..=399 => {
            let target = response
                .header("location")
                .map(|l| snippet(l.as_bytes()))
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| "an unspecified location".into());
            ActionError::permanent(format!("HTTP {status}: redirect to {target} not followed"))
        }
        408 => ActionError::retryable(reason()).with_after_ms(after_ms()),
        429 => ActionError::rate_limited(reason()).with_after_ms(after_ms()),
        410 => ActionError::gone(reason()),
        400..=499 => ActionError::permanent(reason()),
        500..=599 => ActionError::retryable(reason()).with_after_ms(after_ms()),
        _ => ActionError::retryable(format!("unexpected {}", reason())),
    };
    Err(error.with_status(status))
}

/// Classifies a response by the standard table, with the service's own words (`reason`, read
/// from its error body) as the reason of every failure but a redirect, whose standard reason
/// names the target. What a service's table adds to the standard one (its rate-limit wait, its
/// transient 4xx) goes in arms before this.
pub fn classify_in_words(
    response: &HttpResponse,
    now_unix_ms: u64,
    reason: impl FnOnce() -> String,
) -> Result<Delivered, ActionError> {
    classify_response(response, now_unix_ms).map_err(|e| match response.status {
        300..=399 => e,
        _ => e.with_reason(reason()),
    })
}

/// Classifies a request that got no response.
pub fn classify_error(error: HttpError) -> ActionError {
    match error {
        HttpError::Timeout(_) | HttpError::Connect(_) | HttpError::Other(_) => {
            ActionError::retryable(error.to_string())
        }
        // Display already says "refused by egress policy: …" and "invalid request: …".
        HttpError::Refused(_) | HttpError::InvalidRequest(_) => {
            ActionError::permanent(error.to_string())
        }
    }
}

/// A short, single-line excerpt of a body for a failure reason: lossy UTF-8, control
/// characters and runs of whitespace folded to one space (a reason is one log line, and a
/// hostile body must not forge others), at most [`SNIPPET_CHARS`] characters with `…` when cut.
pub fn snippet(body: &[u8]) -> String {
    // Decoding a little more than the excerpt needs bounds the work on a large body.
    let head = &body[..body.len().min(SNIPPET_CHARS * 4 + 4)];
    let text = String::from_utf8_lossy(head);
    let mut out = String::new();
    let mut chars = 0;
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
            continue;
        }
        let needed = usize::from(pending_space) + 1;
        if chars + needed > SNIPPET_CHARS - 1 {
            out.push('…');
            return out;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
        chars += needed;
    }
    if head.len() < body.len() {
        out.push('…');
    }
    out
}

/// Whether a config string holds template syntax: the host renders it for each delivery, so
/// `check_config` (which sees the config as written) can only check its form once rendered.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// The wait a rate-limit answer names, in milliseconds: `Retry-After`, else a reset time in
/// `X-RateLimit-Reset` / `RateLimit-Reset` (seconds from now when small, else a Unix time in
/// seconds), else a number of seconds at `json_path` of a JSON body (Discord's
/// `retry_after`, Telegram's `parameters.retry_after`).
pub fn retry_hint_ms(response: &HttpResponse, now_unix_ms: u64, json_path: &[&str]) -> Option<u64> {
    if let Some(ms) = response
        .header("retry-after")
        .and_then(|v| retry_after_ms(v, now_unix_ms))
    {
        return Some(ms);
    }
    if let Some(ms) = reset_header_ms(response, now_unix_ms) {
        return Some(ms);
    }
    if json_path.is_empty() {
        return None;
    }
    let body: Value = serde_json::from_slice(&response.body).ok()?;
    let secs = json_path
        .iter()
        .try_fold(&body, |value, key| value.get(key))?
        .as_f64()
        .filter(|s| s.is_finite() && *s >= 0.0)?;
    Some((secs * 1000.0).ceil().min(u64::MAX as f64) as u64)
}

/// The wait until the reset time of an `X-RateLimit-Reset` / `RateLimit-Reset` header.
fn reset_header_ms(response: &HttpResponse, now_unix_ms: u64) -> Option<u64> {
    let value = response
        .header("x-ratelimit-reset")
        .or_else(|| response.header("ratelimit-reset"))?;
    let secs: f64 = value
        .trim()
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s >= 0.0)?;
    // Services send seconds until the reset, the reset's Unix time in seconds, or (a few) in
    // milliseconds: no delay is anywhere near 10^8 seconds (three years), no Unix time since
    // 1973 is below it, and no Unix time in seconds before the year 5138 reaches 10^11.
    let now_secs = now_unix_ms as f64 / 1000.0;
    let wait_secs = if secs > 1e11 {
        secs / 1000.0 - now_secs
    } else if secs > 1e8 {
        secs - now_secs
    } else {
        secs
    };
    Some((wait_secs.max(0.0) * 1000.0).ceil() as u64)
}

/// Whether a successful answer says the quota is spent (`X-RateLimit-Remaining: 0`), and if so
/// how long until it resets: the next request would be refused.
pub fn quota_spent_ms(response: &HttpResponse, now_unix_ms: u64) -> Option<u64> {
    let remaining = response
        .header("x-ratelimit-remaining")
        .or_else(|| response.header("ratelimit-remaining"))?;
    (remaining.trim() == "0")
        .then(|| reset_header_ms(response, now_unix_ms))
        .flatten()
}

/// The check of an action's `config` table: every problem is collected, so an operator fixes
/// the table in one go (`finish` joins them with `; `).
pub struct ConfigCheck<'a> {
    /// The table.
    pub table: &'a serde_json::Map<String, Value>,
    errors: Vec<String>,
}

impl<'a> ConfigCheck<'a> {
    /// Starts checking `config`, which must be a table of `allowed` keys (`example` shows one
    /// in the error when it is not a table).
    pub fn new(config: &'a Value, allowed: &[&str], example: &str) -> Result<Self, String> {
        let table = config
            .as_object()
            .ok_or_else(|| format!("config must be a table such as {example}"))?;
        let mut check = ConfigCheck {
            table,
            errors: Vec::new(),
        };
        for key in table.keys() {
            if !allowed.contains(&key.as_str()) {
                check.error(format!(
                    "unknown key {key:?} (allowed: {})",
                    allowed.join(", ")
                ));
            }
        }
        Ok(check)
    }

    /// Records a problem.
    pub fn error(&mut self, message: impl Into<String>) {
        self.errors.push(message.into());
    }

    /// The value at `key`.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.table.get(key)
    }

    /// The non-empty string at `key`, if present; anything else there is a problem.
    pub fn text(&mut self, key: &str) -> Option<String> {
        match self.table.get(key) {
            None => None,
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(_) => {
                self.error(format!("{key} must be a non-empty string"));
                None
            }
        }
    }

    /// The non-empty string at `key`; when it is missing, a problem saying so with `hint`
    /// (`"{key} is required ({hint})"`) and an empty string.
    pub fn required(&mut self, key: &str, hint: &str) -> String {
        match self.text(key) {
            Some(text) => text,
            None => {
                // `text` already named a value of the wrong type.
                if !self.table.contains_key(key) {
                    self.error(format!("{key} is required ({hint})"));
                }
                String::new()
            }
        }
    }

    /// A required credential sent in a header (a token, an API key): a non-empty string
    /// without line breaks or control characters, which errors never quote. Before rendering
    /// a template is accepted as written.
    pub fn credential(&mut self, key: &str, rendered: bool) -> String {
        let value = self.required(key, "a string, usually { env = \"…\" }");
        if !value.is_empty() && (rendered || !is_template(&value)) && !is_valid_header_value(&value)
        {
            self.error(format!("{key} contains a line break or control character"));
        }
        value
    }

    /// The table at `key`, required (`what` names its entries in the error); before rendering
    /// a template string that will render to one is accepted, as an empty table.
    pub fn table(&mut self, key: &str, rendered: bool, what: &str) -> Map<String, Value> {
        match self.table.get(key) {
            Some(Value::Object(map)) => map.clone(),
            Some(Value::String(s)) if !rendered && is_template(s) => Map::new(),
            Some(_) => {
                self.error(format!("{key} must be a table of {what}"));
                Map::new()
            }
            None => {
                self.error(format!("{key} is required (a table of {what})"));
                Map::new()
            }
        }
    }

    /// The http(s) URL at `key`, if present (before rendering, a template string is accepted
    /// as written); anything else there is a problem. The error never quotes the value: webhook
    /// URLs are credentials.
    pub fn url(&mut self, key: &str, rendered: bool) -> Option<String> {
        let url = self.text(key)?;
        if (!rendered && is_template(&url)) || Url::parse(&url).is_ok() {
            Some(url)
        } else {
            self.error(format!("{key} is not an http(s) URL"));
            None
        }
    }

    /// The API's base URL: `base_url` when given (checked as [`ConfigCheck::url`]), else
    /// `default`, without a trailing slash so paths can be appended as `{base}/v1/...`.
    pub fn base_url(&mut self, rendered: bool, default: &str) -> String {
        self.url("base_url", rendered)
            .as_deref()
            .unwrap_or(default)
            .trim_end_matches('/')
            .to_owned()
    }

    /// The non-empty list at `key` (`what` names its items in the error), or before rendering
    /// a template string that will render to one (`"{{ event.payload.blocks }}"`).
    pub fn list(&mut self, key: &str, rendered: bool, what: &str) -> Option<Value> {
        match self.table.get(key) {
            None => None,
            Some(Value::Array(items)) if !items.is_empty() => Some(Value::Array(items.clone())),
            Some(Value::String(s)) if !rendered && is_template(s) => Some(Value::String(s.clone())),
            Some(_) => {
                self.error(format!("{key} must be a non-empty list of {what}"));
                None
            }
        }
    }

    /// The `headers` table at `key`, each checked by [`header`] against the action's `own`
    /// headers. Before rendering (`rendered` false) a templated value is accepted as written.
    pub fn headers(&mut self, key: &str, own: &[&str], rendered: bool) -> Vec<(String, String)> {
        let mut headers = Vec::new();
        match self.table.get(key) {
            None => {}
            Some(Value::Object(map)) => {
                for (name, value) in map {
                    match header(name, value, own) {
                        Ok(h) => headers.push(h),
                        Err(_) if !rendered && value.as_str().is_some_and(is_template) => {}
                        Err(e) => self.error(format!("{key}.{name}: {e}")),
                    }
                }
            }
            Some(_) => self.error(format!("{key} must be a table of header names to strings")),
        }
        headers
    }

    /// `value` when no problem was found, else every problem.
    pub fn finish<T>(self, value: T) -> Result<T, String> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors.join("; "))
        }
    }
}

/// Hop-by-hop headers (RFC 9110 section 7.6.1, plus the ones the host forbids): they describe
/// one connection, not the message, and the host manages the connection.
pub const HOP_BY_HOP: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "http2-settings",
];

/// A configured header, checked: a valid name (returned in lower case), not one the action
/// sets itself (`own`, lower case) nor a hop-by-hop one, and a string value without line breaks
/// or control characters. Errors never quote the value: headers often hold credentials.
pub fn header(name: &str, value: &Value, own: &[&str]) -> Result<(String, String), &'static str> {
    let lower = name.to_ascii_lowercase();
    if !is_valid_header_name(name) {
        return Err("not a valid header name");
    }
    if own.contains(&lower.as_str()) {
        return Err("set by the action itself");
    }
    if HOP_BY_HOP.contains(&lower.as_str()) {
        return Err("a hop-by-hop header, which cannot be forwarded");
    }
    let Value::String(value) = value else {
        return Err("the value must be a string");
    };
    if !is_valid_header_value(value) {
        return Err("the value contains a line break or control character");
    }
    Ok((lower, value.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_in_the_services_words() {
        let words = || "Service: HTTP 4xx, CODE: message".to_owned();
        let in_words = |status: u16| classify_in_words(&HttpResponse::new(status), NOW_MS, words);
        assert_eq!(in_words(200), Ok(Delivered::status(200)));
        for status in [400, 408, 410, 429, 503] {
            let e = in_words(status).unwrap_err();
            assert_eq!(e.reason(), words(), "{status}");
            assert_eq!(e.http_status(), Some(status));
        }
        assert!(matches!(in_words(422), Err(ActionError::Permanent { .. })));
        assert!(matches!(in_words(408), Err(ActionError::Retryable { .. })));
        assert!(matches!(in_words(410), Err(ActionError::Gone { .. })));
        let redirect = in_words(301).unwrap_err();
        assert!(redirect.reason().contains("not followed"), "{redirect}");
    }

    #[test]
    fn config_checks_collect_every_problem() {
        let config = serde_json::json!({
            "token": "a\nb", "base_url": "ftp://x", "fields": 3, "name": 7, "odd": 1,
        });
        let mut check = ConfigCheck::new(
            &config,
            &["token", "base_url", "fields", "name", "table", "url"],
            "{}",
        )
        .unwrap();
        assert_eq!(check.credential("token", true), "a\nb");
        assert_eq!(
            check.base_url(true, "https://api.example.com/"),
            "https://api.example.com"
        );
        assert!(
            check
                .table("fields", true, "field names to values")
                .is_empty()
        );
        assert_eq!(check.required("name", "a name"), "");
        assert_eq!(check.required("table", "the table's name"), "");
        let errors = check.finish(()).unwrap_err();
        for part in [
            "unknown key \"odd\"",
            "token contains a line break",
            "base_url is not an http(s) URL",
            "fields must be a table of field names to values",
            "name must be a non-empty string",
            "table is required (the table's name)",
        ] {
            assert!(errors.contains(part), "{part}: {errors}");
        }
        assert!(
            !errors.contains("name is required"),
            "one problem per key: {errors}"
        );

        let templated = serde_json::json!({"token": "{{ x }}", "fields": "{{ event.payload }}", "base_url": "http://127.0.0.1:9/"});
        let mut check =
            ConfigCheck::new(&templated, &["token", "fields", "base_url"], "{}").unwrap();
        assert_eq!(check.credential("token", false), "{{ x }}");
        assert!(check.table("fields", false, "values").is_empty());
        assert_eq!(check.base_url(false, "https://x"), "http://127.0.0.1:9");
        assert!(check.finish(()).is_ok());
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT` in Unix milliseconds.
    const NOW_MS: u64 = 784_111_777_000;

    fn of(response: HttpResponse) -> Result<Delivered, ActionError> {
        classify(Ok(response), NOW_MS)
    }

    #[test]
    fn every_2xx_is_delivered_with_its_status() {
        for status in [200, 201, 202, 204, 299] {
            assert_eq!(of(HttpResponse::new(status)), Ok(Delivered::status(status)));
        }
        // A body cut short does not undo the destination's answer.
        let mut partial = HttpResponse::new(200);
        partial.body_truncated = true;
        assert!(of(partial).is_ok());
    }

    #[test]
    fn redirects_are_permanent_and_name_the_target() {
        let r = HttpResponse::new(301).with_header("Location", "https://new.example.com/hooks");
        assert_eq!(
            of(r),
            Err(ActionError::Permanent {
                reason: "HTTP 301: redirect to https://new.example.com/hooks not followed".into(),
                http_status: Some(301),
            })
        );
        match of(HttpResponse::new(307)) {
            Err(ActionError::Permanent {
                reason,
                http_status: Some(307),
            }) => {
                assert!(reason.contains("not followed"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn timeouts_and_server_errors_are_retryable_with_retry_after() {
        assert_eq!(
            of(HttpResponse::new(408)),
            Err(ActionError::Retryable {
                reason: "HTTP 408".into(),
                http_status: Some(408),
                after_ms: None,
            })
        );
        let r = HttpResponse::new(503)
            .with_header("Retry-After", "30")
            .with_body("upstream\r\n  down");
        assert_eq!(
            of(r),
            Err(ActionError::Retryable {
                reason: "HTTP 503: upstream down".into(),
                http_status: Some(503),
                after_ms: Some(30_000),
            })
        );
        let r = HttpResponse::new(500).with_header("retry-after", "Sun, 06 Nov 1994 08:49:47 GMT");
        assert_eq!(of(r).unwrap_err().after_ms(), Some(10_000));
        let r = HttpResponse::new(502).with_header("retry-after", "garbage");
        assert_eq!(of(r).unwrap_err().after_ms(), None);
    }

    #[test]
    fn too_many_requests_is_rate_limited() {
        let r = HttpResponse::new(429).with_header("Retry-After", "2");
        assert_eq!(
            of(r),
            Err(ActionError::RateLimited {
                reason: "HTTP 429".into(),
                http_status: Some(429),
                after_ms: Some(2_000),
            })
        );
        assert!(matches!(
            of(HttpResponse::new(429)),
            Err(ActionError::RateLimited { after_ms: None, .. })
        ));
    }

    #[test]
    fn gone_disables_the_route() {
        assert_eq!(
            of(HttpResponse::new(410).with_body("endpoint deleted")),
            Err(ActionError::Gone {
                reason: "HTTP 410: endpoint deleted".into(),
                http_status: Some(410),
            })
        );
    }

    #[test]
    fn other_client_errors_are_permanent() {
        for status in [400, 401, 403, 404, 405, 409, 413, 422, 499] {
            let got = of(HttpResponse::new(status).with_header("retry-after", "5"));
            assert_eq!(
                got,
                Err(ActionError::Permanent {
                    reason: format!("HTTP {status}"),
                    http_status: Some(status),
                }),
            );
        }
    }

    #[test]
    fn nonsense_statuses_are_retried() {
        for status in [100, 101, 600, 999] {
            match of(HttpResponse::new(status)) {
                Err(ActionError::Retryable {
                    reason,
                    http_status,
                    ..
                }) => {
                    assert_eq!(http_status, Some(status));
                    assert!(reason.starts_with("unexpected HTTP"), "{reason}");
                }
                other => panic!("{status}: {other:?}"),
            }
        }
    }

    #[test]
    fn transport_errors() {
        let err = |e| classify(Err(e), NOW_MS).unwrap_err();
        assert_eq!(
            err(HttpError::Timeout("connecting".into())),
            ActionError::retryable("timed out: connecting")
        );
        assert_eq!(
            err(HttpError::Connect("connection refused".into())),
            ActionError::retryable("connection failed: connection refused")
        );
        assert_eq!(
            err(HttpError::Other("host internal error".into())),
            ActionError::retryable("host internal error")
        );
        assert_eq!(
            err(HttpError::Refused("destination IP prohibited".into())),
            ActionError::permanent("refused by egress policy: destination IP prohibited")
        );
        assert_eq!(
            err(HttpError::InvalidRequest("URL has no host".into())),
            ActionError::permanent("invalid request: URL has no host")
        );
    }

    #[test]
    fn snippets_are_single_line_and_bounded() {
        assert_eq!(snippet(b""), "");
        assert_eq!(snippet(b"  a\n\tb\x1b[31mc  "), "a b [31mc");
        assert_eq!(snippet(&[0xff, b'o', b'k']), "\u{fffd}ok");
        let long = "x".repeat(1_000);
        let s = snippet(long.as_bytes());
        assert_eq!(s.chars().count(), SNIPPET_CHARS);
        assert!(s.ends_with('…'));
        let exact = "y".repeat(SNIPPET_CHARS - 1);
        assert_eq!(snippet(exact.as_bytes()), exact);
        // Whitespace padding beyond the decoded head still marks the cut.
        let mut padded = b"short".to_vec();
        padded.extend(std::iter::repeat_n(b' ', 5_000));
        padded.push(b'z');
        assert_eq!(snippet(&padded), "short…");
    }

    #[test]
    fn retry_hints_come_from_headers_then_the_body() {
        let at = |r: HttpResponse, path: &[&str]| retry_hint_ms(&r, NOW_MS, path);
        assert_eq!(
            at(HttpResponse::new(429).with_header("Retry-After", "3"), &[]),
            Some(3_000)
        );
        assert_eq!(
            at(
                HttpResponse::new(429).with_header("X-RateLimit-Reset", "1.5"),
                &[]
            ),
            Some(1_500)
        );
        let reset_at = (NOW_MS / 1000 + 20).to_string();
        assert_eq!(
            at(
                HttpResponse::new(429).with_header("x-ratelimit-reset", &reset_at),
                &[]
            ),
            Some(20_000)
        );
        let discord = HttpResponse::new(429).with_body(
            r#"{"message":"You are being rate limited.","retry_after":0.25,"global":false}"#,
        );
        assert_eq!(at(discord, &["retry_after"]), Some(250));
        let telegram = HttpResponse::new(429)
            .with_body(r#"{"ok":false,"error_code":429,"parameters":{"retry_after":7}}"#);
        assert_eq!(
            at(telegram.clone(), &["parameters", "retry_after"]),
            Some(7_000)
        );
        assert_eq!(at(telegram, &["retry_after"]), None);
        assert_eq!(
            at(
                HttpResponse::new(429).with_body("not json"),
                &["retry_after"]
            ),
            None
        );
        assert_eq!(
            at(
                HttpResponse::new(429).with_body(r#"{"retry_after":-1}"#),
                &["retry_after"]
            ),
            None
        );
    }

    #[test]
    fn a_spent_quota_is_seen_before_the_429() {
        let spent = HttpResponse::new(200)
            .with_header("X-RateLimit-Remaining", "0")
            .with_header("X-RateLimit-Reset", "12");
        assert_eq!(quota_spent_ms(&spent, NOW_MS), Some(12_000));
        // The reset's Unix time, in seconds or in milliseconds, is the same wait.
        for reset in [NOW_MS / 1000 + 30, NOW_MS + 30_000] {
            let at = HttpResponse::new(200)
                .with_header("X-RateLimit-Remaining", "0")
                .with_header("X-RateLimit-Reset", &reset.to_string());
            assert_eq!(quota_spent_ms(&at, NOW_MS), Some(30_000), "{reset}");
        }
        let left = HttpResponse::new(200)
            .with_header("X-RateLimit-Remaining", "4")
            .with_header("X-RateLimit-Reset", "12");
        assert_eq!(quota_spent_ms(&left, NOW_MS), None);
        assert_eq!(quota_spent_ms(&HttpResponse::new(200), NOW_MS), None);
    }

    #[test]
    fn configured_headers_are_checked_without_quoting_values() {
        let own = ["idempotency-key"];
        assert_eq!(
            header("X-Tenant", &Value::from("acme"), &own),
            Ok(("x-tenant".into(), "acme".into()))
        );
        assert!(header("Idempotency-Key", &Value::from("x"), &own).is_err());
        assert!(header("Connection", &Value::from("close"), &own).is_err());
        assert!(header("bad name", &Value::from("x"), &own).is_err());
        assert!(header("x-n", &Value::from(1), &own).is_err());
        assert!(header("x-b", &Value::from("a\r\nb"), &own).is_err());
        assert!(is_template("Bearer {{ event.id }}"));
        assert!(is_template("{% if x %}"));
        assert!(!is_template("{not one}"));
    }
}
