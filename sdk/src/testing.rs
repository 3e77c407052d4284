//! Test support for plugins: fixtures, golden files, the sign round trip and the refusals every
//! platform plugin must make. Compiled for the host target only; plugins use it from their
//! `#[cfg(test)]` code.
//!
//! # Why
//!
//! Every platform plugin needs the same tests: its sample payloads normalize to output someone
//! reviewed, what its `sign` produces passes its `verify`, and a request whose signature is
//! missing or empty, whose body was changed by one byte, or that was signed with another secret
//! is refused. Written once here, a new platform is a `verify.rs`, a `normalize.rs` and a
//! `fixtures/` directory, plus one test:
//!
//! ```ignore
//! #[test]
//! fn fixtures() {
//!     hookgate_sdk::testing::check_fixtures::<Acme>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
//! }
//! ```
//!
//! Adding a case is adding files; only what is particular to a platform (its published example
//! signature, its timestamp rules, its handshake) needs a test of its own.
//!
//! # Fixtures
//!
//! [`fixtures`] reads every fixture in the plugin's `fixtures/` directory. A fixture `NAME` is
//! three files:
//!
//! | file | what it holds |
//! | --- | --- |
//! | `NAME.json` | the request body, byte for byte (any extension but `.headers` and `.md`: `NAME.form` for a form post) |
//! | `NAME.headers` | its request headers, one `Name: value` a line; blank lines and `#` comments are skipped; may be empty |
//! | `NAME.golden.json` | the normalized events, as [`Event::to_json`] values; `HOOKGATE_BLESS=1` (re)writes it |
//!
//! A headers file without its signature makes the kit sign the request with the plugin's
//! [`Platform::sign`]. A headers file that carries a signature (a recorded request, or an
//! example a platform publishes) must verify as it is, with the secret and time the test
//! passes: that is how a plugin without `sign` is tested, and how a published signature stays
//! checked. Which of the two a fixture is, is decided by `verify` itself: only
//! [`VerifyError::MissingSignature`] means "not signed yet"; any other refusal fails the test.
//!
//! # What fails
//!
//! Every check can fail, and [`check_fixtures`] lists every failure of every fixture in one
//! panic: a golden file that differs, a fixture that does not verify, a `sign` whose output
//! does not verify or normalize, and each forgery of [`refusals`] that `verify` accepts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::http::Request as HttpRequest;
use crate::{
    Event, NormalizeError, Platform, Request, Settings, SignContext, SignError, VerifyContext,
    VerifyError,
};

/// The environment variable that makes golden comparisons rewrite the golden files from the
/// actual output instead of comparing (set to anything, e.g. `HOOKGATE_BLESS=1`).
pub const BLESS_VAR: &str = "HOOKGATE_BLESS";

/// The nonce the kit passes to [`Platform::sign`] (the host passes a fresh random one).
pub const NONCE: &str = "0123456789abcdef0123456789abcdef";

/// The replay window the kit verifies with, in seconds: the host's default `tolerance_secs`.
pub const TOLERANCE_SECS: u64 = 300;

/// The shortest run of hex or base64 characters [`refusals`] takes for a signature value.
const SIGNATURE_MIN_CHARS: usize = 16;

/// One fixture: a request as a platform sends it, and where its expected output lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixture {
    /// `NAME`, the file names without their extensions.
    pub name: String,
    /// A POST of the payload file with the headers of `NAME.headers`.
    pub request: Request,
    /// `NAME.golden.json`.
    pub golden: PathBuf,
}

/// A request that verifies, and the headers its signature lives in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genuine {
    /// The request, signature included.
    pub request: Request,
    /// The lower-case names of the headers whose removal alone makes `verify` refuse the
    /// request: the signature, and what it signs besides the body (a timestamp, a message id).
    /// Empty for a platform that signs inside the body.
    pub signature_headers: Vec<String>,
    /// Whether the kit added the signature with [`Platform::sign`] (else the fixture carried
    /// its own).
    pub signed_by_kit: bool,
}

/// Every fixture in `manifest_dir/fixtures` (pass `env!("CARGO_MANIFEST_DIR")`), sorted by name.
///
/// Panics when the directory holds no fixture, a payload has no `.headers` file, a `.headers`
/// or `.golden.json` file has no payload, two payloads share a name, or a header line has no
/// `:`. A missing golden file is reported by the comparison, which also tells how to create it.
pub fn fixtures(manifest_dir: impl AsRef<Path>) -> Vec<Fixture> {
    let dir = manifest_dir.as_ref().join("fixtures");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut payloads: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut companions = Vec::new();
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .path();
        if !path.is_file() {
            continue;
        }
        let file = path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_else(|| panic!("{}: file name is not UTF-8", path.display()))
            .to_owned();
        if file.starts_with('.') || file.ends_with(".md") {
            continue;
        }
        if let Some(name) = file
            .strip_suffix(".golden.json")
            .or_else(|| file.strip_suffix(".headers"))
        {
            companions.push((name.to_owned(), path));
            continue;
        }
        let name = file
            .rsplit_once('.')
            .map_or(file.as_str(), |(stem, _)| stem);
        if let Some(other) = payloads.insert(name.to_owned(), path.clone()) {
            panic!(
                "fixture {name} has two payloads: {} and {}",
                other.display(),
                path.display()
            );
        }
    }
    for (name, path) in companions {
        assert!(
            payloads.contains_key(&name),
            "{}: there is no payload {name}.<ext> beside it",
            path.display()
        );
    }
    assert!(
        !payloads.is_empty(),
        "{}: no fixtures (NAME.json + NAME.headers + NAME.golden.json)",
        dir.display()
    );
    payloads
        .into_iter()
        .map(|(name, payload)| {
            let body = std::fs::read(&payload)
                .unwrap_or_else(|e| panic!("{}: {e}", payload.display()));
            let headers_path = dir.join(format!("{name}.headers"));
            let text = std::fs::read_to_string(&headers_path).unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (every fixture has its request headers beside it; the file may be empty)",
                    headers_path.display()
                )
            });
            let mut request = Request::post(body);
            for (header, value) in parse_headers(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", headers_path.display()))
            {
                request = request.with_header(&header, value);
            }
            Fixture {
                golden: dir.join(format!("{name}.golden.json")),
                name,
                request,
            }
        })
        .collect()
}

/// `Name: value` lines; blank lines and `#` comments skipped.
fn parse_headers(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut headers = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() => {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
            _ => return Err(format!("line {}: expected `Name: value`", number + 1)),
        }
    }
    Ok(headers)
}

/// Checks every fixture of the plugin in `manifest_dir` (pass `env!("CARGO_MANIFEST_DIR")`),
/// verifying at `now_unix_secs` with `secret`, and panics listing every failure. For each
/// fixture:
///
/// 1. it is made genuine ([`genuine`]): signed by [`Platform::sign`], or verified with the
///    signature its headers carry;
/// 2. [`Platform::normalize`] of that request matches `NAME.golden.json` ([`assert_golden`];
///    `HOOKGATE_BLESS=1` rewrites it);
/// 3. for a fixture that carried its own signature, the sign round trip runs too, on the
///    fixture without its signature headers ([`sign_round_trip`]; skipped when the plugin
///    does not sign);
/// 4. every forgery of [`refusals`] is refused.
pub fn check_fixtures<P: Platform>(
    manifest_dir: impl AsRef<Path>,
    secret: &[u8],
    now_unix_secs: i64,
) {
    check_fixtures_with::<P>(manifest_dir, secret, now_unix_secs, &Settings::none());
}

/// [`check_fixtures`] for a source with `settings` (its `config` table), for plugins that
/// take some: every check runs with them, and [`Platform::check_config`] must accept them.
pub fn check_fixtures_with<P: Platform>(
    manifest_dir: impl AsRef<Path>,
    secret: &[u8],
    now_unix_secs: i64,
    settings: &Settings,
) {
    if let Err(e) = P::check_config(settings) {
        panic!("check_config refuses the test settings: {e}");
    }
    let fixtures = fixtures(&manifest_dir);
    let failures = fixture_failures::<P>(
        &fixtures,
        Keys::same(secret),
        now_unix_secs,
        settings,
        blessing(),
    );
    assert!(
        failures.is_empty(),
        "{} check(s) failed for the fixtures in {}:\n{}",
        failures.len(),
        manifest_dir.as_ref().join("fixtures").display(),
        bullets(&failures)
    );
}

/// [`check_fixtures`] for a platform that verifies with a public key (Discord, SendGrid): the
/// source is configured with `public` and the kit signs with `private`, as `hookgate send --key`
/// does. The wrong-secret forgery changes the public key.
pub fn check_fixtures_keyed<P: Platform>(
    manifest_dir: impl AsRef<Path>,
    public: &[u8],
    private: &[u8],
    now_unix_secs: i64,
) {
    let fixtures = fixtures(&manifest_dir);
    let keys = Keys {
        verify: public,
        sign: private,
    };
    let failures = fixture_failures::<P>(
        &fixtures,
        keys,
        now_unix_secs,
        &Settings::none(),
        blessing(),
    );
    assert!(
        failures.is_empty(),
        "{} check(s) failed for the fixtures in {}:\n{}",
        failures.len(),
        manifest_dir.as_ref().join("fixtures").display(),
        bullets(&failures)
    );
}

/// What the kit verifies with and what it signs with: the same shared secret, or a public key
/// and its private key.
#[derive(Debug, Clone, Copy)]
struct Keys<'a> {
    verify: &'a [u8],
    sign: &'a [u8],
}

impl<'a> Keys<'a> {
    fn same(secret: &'a [u8]) -> Keys<'a> {
        Keys {
            verify: secret,
            sign: secret,
        }
    }
}

fn fixture_failures<P: Platform>(
    fixtures: &[Fixture],
    keys: Keys<'_>,
    now_unix_secs: i64,
    settings: &Settings,
    bless: bool,
) -> Vec<String> {
    let mut failures = Vec::new();
    for fixture in fixtures {
        let mut fail = |message: String| failures.push(format!("{}: {message}", fixture.name));
        let genuine = match genuine_with::<P>(&fixture.request, keys, now_unix_secs, settings) {
            Ok(genuine) => genuine,
            Err(message) => {
                fail(message);
                continue;
            }
        };
        match P::normalize(&genuine.request, settings) {
            Ok(events) => {
                if let Err(message) = compare_golden(&events, &fixture.golden, bless) {
                    fail(message);
                }
            }
            Err(e) => fail(format!("normalize refused the verified request: {e}")),
        }
        if !genuine.signed_by_kit {
            // Signed afresh, without the signature it came with.
            let names: Vec<&str> = genuine
                .signature_headers
                .iter()
                .map(String::as_str)
                .collect();
            let unsigned = without(&fixture.request, &names);
            match round_trip::<P>(&unsigned, keys, now_unix_secs, settings) {
                Ok(_) | Err(Step::Sign(SignError::Unsupported)) => {}
                Err(step) => fail(format!("sign round trip: {step}")),
            }
        }
        for message in refusal_failures::<P>(&genuine, keys.verify, now_unix_secs, settings) {
            fail(message);
        }
    }
    failures
}

/// `request` as a genuine request at `now_unix_secs` under `secret`. A request that `verify`
/// refuses with [`VerifyError::MissingSignature`] is signed with [`Platform::sign`] (headers
/// appended, as `hookgate send` does) and must then verify; any other request must verify as
/// it is. Its [`Genuine::signature_headers`] are found by removing, one at a time, the headers
/// `sign` added (or, for a request that came signed, every header): those whose absence makes
/// `verify` refuse. Errors say what went wrong.
pub fn genuine<P: Platform>(
    request: &Request,
    secret: &[u8],
    now_unix_secs: i64,
) -> Result<Genuine, String> {
    genuine_with::<P>(
        request,
        Keys::same(secret),
        now_unix_secs,
        &Settings::none(),
    )
}

fn genuine_with<P: Platform>(
    request: &Request,
    keys: Keys<'_>,
    now_unix_secs: i64,
    settings: &Settings,
) -> Result<Genuine, String> {
    let context = verify_context(vec![keys.verify.to_vec()], now_unix_secs, settings);
    let (request, candidates, signed_by_kit) = match P::verify(request, &context) {
        Ok(()) => {
            let mut names: Vec<String> = Vec::new();
            for (name, _) in &request.headers {
                if !names.contains(name) {
                    names.push(name.clone());
                }
            }
            (request.clone(), names, false)
        }
        Err(VerifyError::MissingSignature) => {
            match add_signature::<P>(request, keys.sign, now_unix_secs, settings) {
                Ok((signed, added)) => {
                    P::verify(&signed, &context)
                        .map_err(|e| format!("verify refused what sign produced: {e}"))?;
                    (signed, added, true)
                }
                Err(SignError::Unsupported) => {
                    return Err(
                        "its headers carry no signature and the plugin cannot sign: \
                            put a genuine request's signature headers in its .headers file"
                            .into(),
                    );
                }
                Err(SignError::Invalid(message)) => {
                    return Err(format!("sign refused it: {message}"));
                }
            }
        }
        Err(e) => {
            return Err(format!(
                "the signature its headers carry does not verify: {e}"
            ));
        }
    };
    let signature_headers: Vec<String> = candidates
        .iter()
        .filter(|name| P::verify(&without(&request, &[name.as_str()]), &context).is_err())
        .cloned()
        .collect();
    // No header whose absence matters: the signature is in the body (Mailgun, Adyen), which
    // the body forgeries of `refusals` then cover.
    Ok(Genuine {
        request,
        signature_headers,
        signed_by_kit,
    })
}

/// Checks that `verify` refuses each forgery of a genuine request, and panics listing every one
/// it accepted. The forgeries, each checked at `now_unix_secs`:
///
/// - the request without all of its [`Genuine::signature_headers`];
/// - each signature header present but empty;
/// - each signature header with its signature value emptied (`v1=` for `v1=<hex>`): every run
///   of 16 or more hex or base64 characters removed; at least one header must hold one;
/// - the body with one byte changed, at its start, middle and end;
/// - checked with a wrong secret (`secret` with one character changed), and with none.
///
/// As controls, the genuine request must verify under `secret`, and under the wrong secret
/// followed by `secret` (a rotation), so a refusal cannot come from the context alone.
pub fn refusals<P: Platform>(genuine: &Genuine, secret: &[u8], now_unix_secs: i64) {
    let failures = refusal_failures::<P>(genuine, secret, now_unix_secs, &Settings::none());
    assert!(
        failures.is_empty(),
        "{} refusal check(s) failed:\n{}",
        failures.len(),
        bullets(&failures)
    );
}

fn refusal_failures<P: Platform>(
    genuine: &Genuine,
    secret: &[u8],
    now_unix_secs: i64,
    settings: &Settings,
) -> Vec<String> {
    let request = &genuine.request;
    let right = verify_context(vec![secret.to_vec()], now_unix_secs, settings);
    if let Err(e) = P::verify(request, &right) {
        return vec![format!(
            "the genuine request itself is refused ({e}): no refusal would mean anything"
        )];
    }
    let wrong_secret = near_miss(secret);
    let mut failures = Vec::new();
    let rotation = verify_context(
        vec![wrong_secret.clone(), secret.to_vec()],
        now_unix_secs,
        settings,
    );
    if let Err(e) = P::verify(request, &rotation) {
        failures.push(format!(
            "refused when its secret is the second of two configured (a rotation): {e}"
        ));
    }

    let names: Vec<&str> = genuine
        .signature_headers
        .iter()
        .map(String::as_str)
        .collect();
    let mut forgeries = Vec::new();
    if !names.is_empty() {
        forgeries.push((
            format!("without {}", names.join(", ")),
            without(request, &names),
            right.clone(),
        ));
    }
    for name in &names {
        forgeries.push((
            format!("with {name} empty"),
            map_header(request, name, |_| Some(String::new())),
            right.clone(),
        ));
    }
    let mut emptied_any = false;
    for name in &names {
        let emptied = map_header(request, name, empty_signature_values);
        if emptied != *request {
            emptied_any = true;
            forgeries.push((
                format!("with the signature value in {name} emptied"),
                emptied,
                right.clone(),
            ));
        }
    }
    if !emptied_any && !names.is_empty() {
        failures.push(format!(
            "found no signature value ({SIGNATURE_MIN_CHARS} or more hex/base64 characters) to empty in {}",
            names.join(", ")
        ));
    }
    for (what, body) in tampered_bodies(&request.body) {
        let mut tampered = request.clone();
        tampered.body = body;
        forgeries.push((what, tampered, right.clone()));
    }
    forgeries.push((
        "checked with a wrong secret".into(),
        request.clone(),
        verify_context(vec![wrong_secret], now_unix_secs, settings),
    ));
    forgeries.push((
        "checked with no secret configured".into(),
        request.clone(),
        verify_context(Vec::new(), now_unix_secs, settings),
    ));

    for (what, forged, context) in forgeries {
        if P::verify(&forged, &context).is_ok() {
            failures.push(format!("verify accepted the request {what}"));
        }
    }
    failures
}

/// What `hookgate send` does with a plugin, natively: signs `request` with [`Platform::sign`]
/// (secret `secret`, time `now_unix_secs`, nonce [`NONCE`]), appends the headers, then runs
/// [`Platform::verify`] (same secret, [`TOLERANCE_SECS`], same time) and
/// [`Platform::normalize`]. Returns the signed request and its events, or which step failed and
/// why (`sign: …`, `verify: …`, `normalize: …`).
pub fn sign_round_trip<P: Platform>(
    request: Request,
    secret: &[u8],
    now_unix_secs: i64,
) -> Result<(Request, Vec<Event>), String> {
    round_trip::<P>(
        &request,
        Keys::same(secret),
        now_unix_secs,
        &Settings::none(),
    )
    .map_err(|step| step.to_string())
}

/// Where a sign round trip stopped.
enum Step {
    Sign(SignError),
    Verify(VerifyError),
    Normalize(NormalizeError),
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Sign(e) => write!(f, "sign: {e:?}"),
            Step::Verify(e) => write!(f, "verify: {e:?}"),
            Step::Normalize(e) => write!(f, "normalize: {e}"),
        }
    }
}

fn round_trip<P: Platform>(
    request: &Request,
    keys: Keys<'_>,
    now_unix_secs: i64,
    settings: &Settings,
) -> Result<(Request, Vec<Event>), Step> {
    let (signed, _) =
        add_signature::<P>(request, keys.sign, now_unix_secs, settings).map_err(Step::Sign)?;
    let context = verify_context(vec![keys.verify.to_vec()], now_unix_secs, settings);
    P::verify(&signed, &context).map_err(Step::Verify)?;
    let events = P::normalize(&signed, settings).map_err(Step::Normalize)?;
    Ok((signed, events))
}

/// `request` signed by [`Platform::sign`] (secret `secret`, time `now_unix_secs`, nonce
/// [`NONCE`]), its headers appended as `hookgate send` does: for plugin-specific tests of signed
/// requests (a handshake, a timestamp rule).
pub fn sign<P: Platform>(
    request: &Request,
    secret: &[u8],
    now_unix_secs: i64,
) -> Result<Request, SignError> {
    sign_with::<P>(request, secret, now_unix_secs, &Settings::none())
}

/// [`sign`] for a source with `settings`.
pub fn sign_with<P: Platform>(
    request: &Request,
    secret: &[u8],
    now_unix_secs: i64,
    settings: &Settings,
) -> Result<Request, SignError> {
    add_signature::<P>(request, secret, now_unix_secs, settings).map(|(signed, _)| signed)
}

/// `request` with the headers `sign` returns appended (names lower-cased), and those names.
fn add_signature<P: Platform>(
    request: &Request,
    secret: &[u8],
    now_unix_secs: i64,
    settings: &Settings,
) -> Result<(Request, Vec<String>), SignError> {
    let context = SignContext {
        secret: secret.to_vec(),
        now_unix_secs,
        nonce: NONCE.into(),
        settings: settings.clone(),
    };
    let signature = crate::platform::sign_request::<P>(request.clone(), &context)?;
    let mut signed = request.clone();
    if let Some(body) = signature.body {
        signed.body = body;
    }
    let mut names = Vec::new();
    for (name, value) in signature.headers {
        if !names.contains(&name) {
            names.push(name.clone());
        }
        signed.headers.push((name, value.into_bytes()));
    }
    Ok((signed, names))
}

/// Compares normalized events with a golden JSON file (an array of [`Event::to_json`] values),
/// and panics showing both when they differ. With [`BLESS_VAR`] set (`HOOKGATE_BLESS=1`) it
/// (re)writes the golden file from the actual output instead.
pub fn assert_golden(events: &[Event], golden_path: &Path) {
    if let Err(message) = compare_golden(events, golden_path, blessing()) {
        panic!("{message}");
    }
}

fn blessing() -> bool {
    std::env::var_os(BLESS_VAR).is_some()
}

fn compare_golden(events: &[Event], golden_path: &Path, bless: bool) -> Result<(), String> {
    let actual = serde_json::Value::Array(events.iter().map(Event::to_json).collect());
    let pretty = |value: &serde_json::Value| {
        serde_json::to_string_pretty(value).expect("JSON values serialize")
    };
    if bless {
        std::fs::write(golden_path, pretty(&actual) + "\n")
            .map_err(|e| format!("{}: {e}", golden_path.display()))?;
        return Ok(());
    }
    let text = std::fs::read_to_string(golden_path).map_err(|e| {
        format!(
            "{}: {e} (run with {BLESS_VAR}=1 to create it)",
            golden_path.display()
        )
    })?;
    let expected: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not JSON: {e}", golden_path.display()))?;
    if actual == expected {
        Ok(())
    } else {
        Err(format!(
            "normalized output differs from {} (run with {BLESS_VAR}=1 to accept it)\nexpected: {}\nactual: {}",
            golden_path.display(),
            pretty(&expected),
            pretty(&actual)
        ))
    }
}

/// The request a receiver gets from what an action sends: for checking an action's output with
/// a platform plugin's `verify` (header names lower-cased, as the gateway hands them over).
pub fn received(request: &HttpRequest) -> Request {
    Request {
        method: format!("{:?}", request.method()).to_ascii_uppercase(),
        url: request.url().to_owned(),
        headers: request
            .headers()
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.clone().into_bytes()))
            .collect(),
        body: request.body_bytes().to_vec(),
    }
}

fn verify_context(secrets: Vec<Vec<u8>>, now_unix_secs: i64, settings: &Settings) -> VerifyContext {
    VerifyContext {
        secrets,
        tolerance_secs: TOLERANCE_SECS,
        now_unix_secs,
        settings: settings.clone(),
    }
}

/// `request` without the headers `names` (lower case).
fn without(request: &Request, names: &[&str]) -> Request {
    let mut out = request.clone();
    out.headers
        .retain(|(name, _)| !names.iter().any(|n| n.eq_ignore_ascii_case(name)));
    out
}

/// `request` with every value of header `name` replaced by `f(value)`; values that are not
/// UTF-8, or for which `f` answers `None`, are kept.
fn map_header(request: &Request, name: &str, f: impl Fn(&str) -> Option<String>) -> Request {
    let mut out = request.clone();
    for (n, value) in &mut out.headers {
        if n.eq_ignore_ascii_case(name)
            && let Some(new) = std::str::from_utf8(value).ok().and_then(&f)
        {
            *value = new.into_bytes();
        }
    }
    out
}

/// `text` with every signature-looking run removed: 16 or more characters of hex or (standard
/// or URL-safe) base64, with its `=` padding. `None` when there is none.
fn empty_signature_values(text: &str) -> Option<String> {
    let is_signature_char =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(c) = rest.chars().next() {
        if !is_signature_char(c) {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let run = rest.find(|c| !is_signature_char(c)).unwrap_or(rest.len());
        if run >= SIGNATURE_MIN_CHARS {
            changed = true;
            let padded = run + rest[run..].len() - rest[run..].trim_start_matches('=').len();
            rest = &rest[padded..];
        } else {
            out.push_str(&rest[..run]);
            rest = &rest[run..];
        }
    }
    changed.then_some(out)
}

/// The body with one byte changed at its start, middle and end (one byte added to an empty
/// body), each with a description.
fn tampered_bodies(body: &[u8]) -> Vec<(String, Vec<u8>)> {
    if body.is_empty() {
        return vec![("with a byte added to its empty body".into(), b"x".to_vec())];
    }
    let mut positions = vec![0, body.len() / 2, body.len() - 1];
    positions.dedup();
    positions
        .into_iter()
        .map(|at| {
            let mut tampered = body.to_vec();
            tampered[at] ^= 0x01;
            (
                format!("with body byte {at} of {} changed", body.len()),
                tampered,
            )
        })
        .collect()
}

/// `secret` with its last letter or digit changed to the next one (wrapping within its class),
/// so it keeps its format (`whsec_` + base64 stays base64); `x` appended when it has none.
fn near_miss(secret: &[u8]) -> Vec<u8> {
    let mut other = secret.to_vec();
    match other.iter().rposition(u8::is_ascii_alphanumeric) {
        Some(at) => {
            other[at] = match other[at] {
                b'z' => b'a',
                b'Z' => b'A',
                b'9' => b'0',
                c => c + 1,
            }
        }
        None => other.push(b'x'),
    }
    other
}

fn bullets(lines: &[String]) -> String {
    lines
        .iter()
        .map(|line| format!("  - {}", line.replace('\n', "\n    ")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Hash, hmac, hmac_verify};
    use crate::encoding::{hex_decode, hex_encode};
    use crate::signature::SignatureHeader;
    use crate::{Metadata, NormalizeError};

    const SECRET: &[u8] = b"kit-secret";
    const NOW: i64 = 1_700_000_000;

    /// What a test platform gets wrong, if anything.
    #[derive(PartialEq, Eq)]
    enum Flaw {
        None,
        AcceptsAnything,
        IgnoresBody,
        AcceptsEmptySignature,
        IgnoresSecret,
        CannotSign,
        SignsBadly,
    }

    /// `x-kit-signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`, built to fail one way.
    struct Kit<const FLAW: u8>;

    impl<const FLAW: u8> Kit<FLAW> {
        fn flaw() -> Flaw {
            match FLAW {
                0 => Flaw::None,
                1 => Flaw::AcceptsAnything,
                2 => Flaw::IgnoresBody,
                3 => Flaw::AcceptsEmptySignature,
                4 => Flaw::IgnoresSecret,
                5 => Flaw::CannotSign,
                _ => Flaw::SignsBadly,
            }
        }

        fn mac(secret: &[u8], t: &str, body: &[u8]) -> Vec<u8> {
            let body: &[u8] = if Self::flaw() == Flaw::IgnoresBody {
                b""
            } else {
                body
            };
            let secret: &[u8] = if Self::flaw() == Flaw::IgnoresSecret {
                b""
            } else {
                secret
            };
            hmac(Hash::Sha256, secret, &[t.as_bytes(), b".", body])
        }
    }

    impl<const FLAW: u8> Platform for Kit<FLAW> {
        fn metadata() -> Metadata {
            Metadata::new("kit", "test platform")
        }

        fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
            if Self::flaw() == Flaw::AcceptsAnything {
                return Ok(());
            }
            let header = req
                .header_str("x-kit-signature")?
                .ok_or(VerifyError::MissingSignature)?;
            let parsed = SignatureHeader::parse(header)?;
            let t = parsed.get("t").ok_or(VerifyError::MissingTimestamp)?;
            ctx.check_timestamp(t)?;
            let sigs: Vec<Vec<u8>> = parsed
                .all("v1")
                .filter_map(|s| hex_decode(s).ok())
                .collect();
            if sigs.is_empty() && Self::flaw() == Flaw::AcceptsEmptySignature {
                return Ok(());
            }
            ctx.verify_any_secret(|secret| {
                let message: [&[u8]; 3] = [t.as_bytes(), b".", &req.body];
                if Self::flaw() == Flaw::None {
                    sigs.iter()
                        .any(|sig| hmac_verify(Hash::Sha256, secret, &message, sig))
                } else {
                    let mac = Self::mac(secret, t, &req.body);
                    sigs.contains(&mac)
                }
            })
        }

        fn normalize(req: &Request, _: &Settings) -> Result<Vec<Event>, NormalizeError> {
            let body: serde_json::Value = req.json()?;
            let id = body["id"].as_str().ok_or(NormalizeError::missing("id"))?;
            Ok(vec![
                Event::new(id, "kit.ping").meta("via", req.header_text("x-via").unwrap_or("-")),
            ])
        }

        fn sign(req: &Request, ctx: &SignContext) -> Result<Vec<(String, String)>, SignError> {
            match Self::flaw() {
                Flaw::CannotSign => return Err(SignError::Unsupported),
                Flaw::SignsBadly => {
                    return Ok(vec![("X-Kit-Signature".into(), "t=1,v1=00".into())]);
                }
                _ => {}
            }
            let t = ctx.now_unix_secs.to_string();
            let mac = Self::mac(&ctx.secret, &t, &req.body);
            Ok(vec![(
                "X-Kit-Signature".into(),
                format!("t={t},v1={}", hex_encode(&mac)),
            )])
        }
    }

    type Good = Kit<0>;

    fn signed(body: &str) -> Genuine {
        genuine::<Good>(&Request::post(body), SECRET, NOW).unwrap()
    }

    /// A fresh fixtures directory under the system's temp dir, removed on drop.
    struct Dir(PathBuf);

    impl Dir {
        fn new(files: &[(&str, &str)]) -> Dir {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let root = std::env::temp_dir().join(format!(
                "hookgate-sdk-testing-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(root.join("fixtures")).unwrap();
            for (name, text) in files {
                std::fs::write(root.join("fixtures").join(name), text).unwrap();
            }
            Dir(root)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const GOLDEN: &str = r#"[{"platform_event_id":"e1","type":"kit.ping","occurred_at":null,
        "entity_id":null,"entity_type":null,"user_id":null,"amount":null,"currency":null,
        "metadata":{"via":"fixture"},"payload":"<whole body>"}]"#;

    fn ping_fixture(golden: &str) -> Dir {
        Dir::new(&[
            ("ping.json", r#"{"id":"e1"}"#),
            ("ping.headers", "# a comment\n\nX-Via: fixture\n"),
            ("ping.golden.json", golden),
        ])
    }

    #[test]
    fn fixtures_are_found_by_their_files() {
        let dir = Dir::new(&[
            ("b.form", "a=1"),
            (
                "b.headers",
                "Content-Type: application/x-www-form-urlencoded\r\nX-Two:  a: b \n",
            ),
            ("a.json", "{}"),
            ("a.headers", ""),
            ("README.md", "notes"),
        ]);
        let found = fixtures(&dir.0);
        assert_eq!(
            found.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(found[1].request.body, b"a=1");
        assert_eq!(
            found[1].request.headers,
            [
                (
                    "content-type".to_owned(),
                    b"application/x-www-form-urlencoded".to_vec()
                ),
                ("x-two".to_owned(), b"a: b".to_vec()),
            ]
        );
        assert_eq!(found[0].golden, dir.0.join("fixtures/a.golden.json"));
    }

    #[test]
    #[should_panic(expected = "every fixture has its request headers beside it")]
    fn a_payload_without_headers_is_an_error() {
        fixtures(&Dir::new(&[("a.json", "{}")]).0);
    }

    #[test]
    #[should_panic(expected = "there is no payload")]
    fn a_golden_without_payload_is_an_error() {
        fixtures(&Dir::new(&[("a.json", "{}"), ("a.headers", ""), ("b.golden.json", "[]")]).0);
    }

    #[test]
    #[should_panic(expected = "no fixtures")]
    fn an_empty_fixtures_directory_is_an_error() {
        fixtures(&Dir::new(&[]).0);
    }

    #[test]
    fn header_lines_need_a_colon() {
        assert_eq!(
            parse_headers("A: 1\nno colon\n"),
            Err("line 2: expected `Name: value`".into())
        );
    }

    #[test]
    fn a_sound_plugin_passes_every_check() {
        let dir = ping_fixture(GOLDEN);
        check_fixtures::<Good>(&dir.0, SECRET, NOW);
        refusals::<Good>(&signed(r#"{"id":"e1"}"#), SECRET, NOW);
    }

    #[test]
    fn a_golden_mismatch_fails_and_blessing_rewrites_it() {
        let dir = ping_fixture(&GOLDEN.replace("kit.ping", "kit.pong"));
        let found = fixtures(&dir.0);
        let failures =
            fixture_failures::<Good>(&found, Keys::same(SECRET), NOW, &Settings::none(), false);
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(
            failures[0].starts_with("ping: normalized output differs"),
            "{failures:?}"
        );
        assert!(
            fixture_failures::<Good>(&found, Keys::same(SECRET), NOW, &Settings::none(), true)
                .is_empty()
        );
        assert!(
            fixture_failures::<Good>(&found, Keys::same(SECRET), NOW, &Settings::none(), false)
                .is_empty()
        );
        check_fixtures::<Good>(&dir.0, SECRET, NOW);
    }

    #[test]
    fn a_missing_golden_says_how_to_create_it() {
        let dir = Dir::new(&[("ping.json", r#"{"id":"e1"}"#), ("ping.headers", "")]);
        let failures = fixture_failures::<Good>(
            &fixtures(&dir.0),
            Keys::same(SECRET),
            NOW,
            &Settings::none(),
            false,
        );
        assert!(
            failures[0].contains("HOOKGATE_BLESS=1 to create it"),
            "{failures:?}"
        );
    }

    #[test]
    #[should_panic(expected = "check(s) failed for the fixtures")]
    fn check_fixtures_panics_on_failure() {
        let dir = ping_fixture("[]");
        check_fixtures::<Good>(&dir.0, SECRET, NOW);
    }

    #[test]
    fn a_fixture_that_carries_its_signature_must_verify_as_it_is() {
        let mac = hmac(Hash::Sha256, SECRET, &[b"1700000000.", br#"{"id":"e1"}"#]);
        let header = format!(
            "X-Kit-Signature: t=1700000000,v1={}\nX-Via: fixture\n",
            hex_encode(&mac)
        );
        let dir = Dir::new(&[
            ("ping.json", r#"{"id":"e1"}"#),
            ("ping.headers", &header),
            ("ping.golden.json", GOLDEN),
        ]);
        // Verified as recorded, also by a plugin that cannot sign.
        check_fixtures::<Kit<5>>(&dir.0, SECRET, NOW);
        let found = fixtures(&dir.0);
        let genuine = genuine::<Good>(&found[0].request, SECRET, NOW).unwrap();
        assert!(!genuine.signed_by_kit);
        assert_eq!(genuine.signature_headers, ["x-kit-signature"]);
        // Out of tolerance, it fails instead of being signed afresh.
        let failures = fixture_failures::<Good>(
            &found,
            Keys::same(SECRET),
            NOW + 301,
            &Settings::none(),
            false,
        );
        assert_eq!(
            failures,
            [
                "ping: the signature its headers carry does not verify: timestamp 1700000000 outside tolerance"
            ]
        );
        // And a round trip still runs for it: a broken sign fails.
        let failures =
            fixture_failures::<Kit<6>>(&found, Keys::same(SECRET), NOW, &Settings::none(), false);
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(
            failures[0].starts_with("ping: sign round trip: verify:"),
            "{failures:?}"
        );
    }

    #[test]
    fn an_unsigned_fixture_needs_a_plugin_that_signs() {
        let dir = ping_fixture(GOLDEN);
        let failures = fixture_failures::<Kit<5>>(
            &fixtures(&dir.0),
            Keys::same(SECRET),
            NOW,
            &Settings::none(),
            false,
        );
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(
            failures[0].contains("the plugin cannot sign"),
            "{failures:?}"
        );
        let failures = fixture_failures::<Kit<6>>(
            &fixtures(&dir.0),
            Keys::same(SECRET),
            NOW,
            &Settings::none(),
            false,
        );
        assert!(
            failures[0].contains("verify refused what sign produced"),
            "{failures:?}"
        );
    }

    #[test]
    fn a_plugin_that_accepts_anything_fails() {
        let failures = fixture_failures::<Kit<1>>(
            &fixtures(&ping_fixture(GOLDEN).0),
            Keys::same(SECRET),
            NOW,
            &Settings::none(),
            false,
        );
        // No header matters to it, so it is taken for a body-signed platform: every body
        // forgery and the wrong and missing secrets are then reported.
        assert!(failures.len() >= 5, "{failures:?}");
        for expected in [
            "body",
            "checked with a wrong secret",
            "checked with no secret",
        ] {
            assert!(
                failures.iter().any(|f| f.contains(expected)),
                "{expected}: {failures:?}"
            );
        }
        // Handed a genuine request directly, every forgery is reported.
        let genuine = Genuine {
            signature_headers: vec!["x-kit-signature".into()],
            ..signed(r#"{"id":"e1"}"#)
        };
        let failures = refusal_failures::<Kit<1>>(&genuine, SECRET, NOW, &Settings::none());
        assert_eq!(
            failures,
            [
                "verify accepted the request without x-kit-signature",
                "verify accepted the request with x-kit-signature empty",
                "verify accepted the request with the signature value in x-kit-signature emptied",
                "verify accepted the request with body byte 0 of 11 changed",
                "verify accepted the request with body byte 5 of 11 changed",
                "verify accepted the request with body byte 10 of 11 changed",
                "verify accepted the request checked with a wrong secret",
                "verify accepted the request checked with no secret configured",
            ]
        );
    }

    #[test]
    fn each_kind_of_forgery_is_caught() {
        let genuine = |body: &str| genuine::<Kit<0>>(&Request::post(body), SECRET, NOW).unwrap();
        let body = r#"{"id":"e1"}"#;
        // A signature over a constant: tampering goes unnoticed.
        let g = Genuine {
            request: add_signature::<Kit<2>>(&Request::post(body), SECRET, NOW, &Settings::none())
                .unwrap()
                .0,
            ..genuine(body)
        };
        let failures = refusal_failures::<Kit<2>>(&g, SECRET, NOW, &Settings::none());
        assert_eq!(failures.len(), 3, "{failures:?}");
        assert!(
            failures.iter().all(|f| f.contains("body byte")),
            "{failures:?}"
        );
        // `v1=` accepted.
        let failures = refusal_failures::<Kit<3>>(&genuine(body), SECRET, NOW, &Settings::none());
        assert_eq!(
            failures,
            ["verify accepted the request with the signature value in x-kit-signature emptied"]
        );
        // Any secret accepted.
        let g = Genuine {
            request: add_signature::<Kit<4>>(&Request::post(body), SECRET, NOW, &Settings::none())
                .unwrap()
                .0,
            ..genuine(body)
        };
        let failures = refusal_failures::<Kit<4>>(&g, SECRET, NOW, &Settings::none());
        assert_eq!(
            failures,
            ["verify accepted the request checked with a wrong secret"]
        );
    }

    #[test]
    fn a_refusal_check_needs_a_request_that_verifies() {
        let mut g = signed("{}");
        g.request.body.push(b' ');
        let failures = refusal_failures::<Good>(&g, SECRET, NOW, &Settings::none());
        assert_eq!(failures.len(), 1);
        assert!(failures[0].starts_with("the genuine request itself is refused"));
    }

    #[test]
    #[should_panic(expected = "refusal check(s) failed")]
    fn refusals_panics_on_failure() {
        refusals::<Kit<3>>(&signed("{}"), SECRET, NOW);
    }

    #[test]
    fn sign_round_trip_names_the_failing_step() {
        let (signed, events) =
            sign_round_trip::<Good>(Request::post(r#"{"id":"e1"}"#), SECRET, NOW).unwrap();
        assert!(signed.header("x-kit-signature").is_some());
        assert_eq!(events[0].event_type, "kit.ping");
        let err = |r: Result<(Request, Vec<Event>), String>| r.unwrap_err();
        assert_eq!(
            err(sign_round_trip::<Kit<5>>(Request::post("{}"), SECRET, NOW)),
            "sign: Unsupported"
        );
        assert!(
            err(sign_round_trip::<Kit<6>>(Request::post("{}"), SECRET, NOW))
                .starts_with("verify: ")
        );
        assert!(
            err(sign_round_trip::<Good>(Request::post("{}"), SECRET, NOW))
                .starts_with("normalize: ")
        );
    }

    #[test]
    fn signature_values_are_emptied_and_nothing_else() {
        let hex = "a".repeat(64);
        assert_eq!(
            empty_signature_values(&format!("t=1700000000,v1={hex},v0=ab")).as_deref(),
            Some("t=1700000000,v1=,v0=ab")
        );
        assert_eq!(
            empty_signature_values("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v2,x")
                .as_deref(),
            Some("v1, v2,x")
        );
        assert_eq!(empty_signature_values("1700000000"), None);
        assert_eq!(empty_signature_values("é short"), None);
    }

    #[test]
    fn near_misses_keep_the_format() {
        assert_eq!(near_miss(b"whsec_abcz"), b"whsec_abca");
        assert_eq!(near_miss(b"s3cret\n"), b"s3creu\n");
        assert_eq!(near_miss(b"9"), b"0");
        assert_eq!(near_miss(b""), b"x");
    }

    #[test]
    fn tampering_changes_one_byte_at_a_time() {
        let bodies = tampered_bodies(b"abc");
        assert_eq!(
            bodies.iter().map(|(_, b)| b.as_slice()).collect::<Vec<_>>(),
            [&b"`bc"[..], b"acc", b"abb"]
        );
        assert_eq!(tampered_bodies(b"a").len(), 1);
        assert_eq!(tampered_bodies(b"")[0].1, b"x");
    }

    #[test]
    fn received_is_what_the_receiver_sees() {
        let sent = HttpRequest::new(crate::http::Method::Post, "https://example.com/h")
            .header("X-Sig", "v")
            .body("{}");
        let got = received(&sent);
        assert_eq!(got.method, "POST");
        assert_eq!(got.url, "https://example.com/h");
        assert_eq!(got.header_text("x-sig"), Some("v"));
        assert_eq!(got.body, b"{}");
    }
}
