//! `X-Twilio-Signature` verification, as Twilio's helper libraries do it (twilio-node
//! `validateIncomingRequest`, twilio-python `RequestValidator`): the base64 HMAC-SHA1, under the
//! account's Auth Token, of the full URL Twilio requested followed by the POST parameters
//! (form-decoded, keys sorted, each key's distinct values sorted, `key` + `value` with no
//! separators). A request whose URL carries `bodySHA256` (Twilio's JSON bodies) is signed over
//! the URL alone, and the query's `bodySHA256` must be the hex SHA-256 of the raw body.
//!
//! Twilio's back end is not consistent about the URL it signs (twilio-node's own comment), so
//! like twilio-node the URL is tried in several forms: as configured, WHATWG-serialized
//! without and with the scheme's default port, and each of those with its query string
//! re-encoded the way Node's legacy `querystring` module did. Nothing time-based is signed:
//! replays are caught only by duplicate detection on the event id.
//!
//! A Webhooks Rule (Twilio's SharedKey feature) makes Twilio sign with HMAC-SHA256 instead and
//! say so in `X-Twilio-Webhooks-Signature-Settings: key=…,algorithm=HMAC_SHA256`; the signed
//! string is the same. The SharedKey is then the source's secret.

use hookgate_sdk::prelude::*;

/// The signature header.
pub const SIGNATURE: &str = "x-twilio-signature";
/// Names the algorithm when a Webhooks Rule signs with a SharedKey.
pub const SIGNATURE_SETTINGS: &str = "x-twilio-webhooks-signature-settings";
/// Twilio's delivery id, the same on its retries (not signed).
pub const IDEMPOTENCY_TOKEN: &str = "i-twilio-idempotency-token";
/// The query parameter through which Twilio signs a JSON body.
pub const BODY_HASH_PARAM: &str = "bodySHA256";

/// Verifies a Twilio request against the URL it was addressed to (`request.url`: the source's
/// `public_url` when configured, which it should be behind a proxy).
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let scheme = HmacHeader::base64(SIGNATURE, algorithm(req)?);
    let signatures = scheme.signatures(req)?;
    let body_hash = body_hash_param(&req.url);
    let params = match body_hash {
        Some(_) => Vec::new(),
        None => signed_params(&req.body),
    };
    let urls = url_variants(&req.url);
    ctx.verify_any_secret(|secret| {
        urls.iter().any(|url| {
            signatures
                .iter()
                .any(|sig| hmac_verify(scheme.hash, secret, &[url.as_bytes(), &params], sig))
        })
    })?;
    match body_hash {
        // twilio-node compares the parameter with the lower-case hex digest as strings.
        Some(expected)
            if !constant_time_eq(expected.as_bytes(), body_sha256(&req.body).as_bytes()) =>
        {
            Err(VerifyError::SignatureMismatch)
        }
        _ => Ok(()),
    }
}

/// HMAC-SHA1 unless `X-Twilio-Webhooks-Signature-Settings` names another algorithm. The header
/// is not signed, but it only chooses between HMACs keyed by the configured secrets.
fn algorithm(req: &Request) -> Result<Hash, VerifyError> {
    let Some(settings) = req.header_str(SIGNATURE_SETTINGS)? else {
        return Ok(Hash::Sha1);
    };
    let named = settings
        .split(',')
        .filter_map(|item| item.split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("algorithm"))
        .map(|(_, value)| value.trim());
    match named {
        None | Some("HMAC_SHA1") => Ok(Hash::Sha1),
        Some("HMAC_SHA256") => Ok(Hash::Sha256),
        Some(_) => Err(VerifyError::malformed(format!(
            "{SIGNATURE_SETTINGS} names an algorithm other than HMAC_SHA1 or HMAC_SHA256"
        ))),
    }
}

/// Lower-case hex SHA-256 of the body, as `bodySHA256` carries it.
pub fn body_sha256(body: &[u8]) -> String {
    hex_encode(&sha256(&[body]))
}

/// The `bodySHA256` query parameter of `url`, decoded, if it has one: then the body is JSON
/// and signed through it.
pub fn body_hash_param(url: &str) -> Option<String> {
    query_value(url, BODY_HASH_PARAM)
}

/// The POST parameters as Twilio signs them: form-decoded, keys in byte order, each key
/// followed by each of its distinct values in byte order, with nothing in between.
pub fn signed_params(body: &[u8]) -> Vec<u8> {
    let mut pairs = form_pairs(body);
    pairs.sort();
    pairs.dedup();
    pairs.into_iter().fold(Vec::new(), |mut out, (key, value)| {
        out.extend_from_slice(&key);
        out.extend_from_slice(&value);
        out
    })
}

/// The forms of `url` a signature may have been made over, without repeats: the URL as given,
/// then twilio-node's four (without the port, with the default port, and both with the legacy
/// query string).
pub fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    if let Some(parsed) = Url::parse(url) {
        let without_port = parsed.serialize(false);
        let with_port = parsed.serialize(true);
        let legacy_without = parsed.legacy_query(false);
        let legacy_with = parsed.legacy_query(true);
        for variant in [without_port, with_port, legacy_without, legacy_with] {
            if !variants.contains(&variant) {
                variants.push(variant);
            }
        }
    }
    variants
}

/// The parts of an absolute URL, as far as Twilio's URL variants need them.
#[derive(Debug, PartialEq, Eq)]
struct Url<'a> {
    scheme: String,
    userinfo: Option<&'a str>,
    host: String,
    /// An explicit port other than the scheme's default.
    port: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

impl<'a> Url<'a> {
    /// Splits `scheme://[userinfo@]host[:port][/path][?query][#fragment]`; `None` for anything
    /// else, which is then only tried as given.
    fn parse(url: &'a str) -> Option<Url<'a>> {
        let (scheme, rest) = url.split_once("://")?;
        let (rest, fragment) = match rest.split_once('#') {
            Some((r, f)) => (r, Some(f)),
            None => (rest, None),
        };
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = rest
            .find('/')
            .and_then(|at| rest.split_at_checked(at))
            .unwrap_or((rest, ""));
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(':') && p.bytes().all(|b| b.is_ascii_digit()) => {
                (h, Some(p).filter(|p| !p.is_empty()))
            }
            _ => (hostport, None),
        };
        if host.is_empty() {
            return None;
        }
        let scheme = scheme.to_ascii_lowercase();
        let port = port.filter(|p| Some(*p) != default_port(&scheme));
        Some(Url {
            host: host.to_ascii_lowercase(),
            scheme,
            userinfo,
            port,
            path,
            query,
            fragment,
        })
    }

    /// `scheme://[userinfo@]host`, then the explicit port, or with `default_port` the scheme's
    /// default one when there is none (twilio-node's `addPort`: `:443` for https, else `:80`).
    fn origin(&self, default_port: bool) -> String {
        let mut out = format!("{}://", self.scheme);
        if let Some(userinfo) = self.userinfo.filter(|u| !u.is_empty()) {
            out.push_str(userinfo);
            out.push('@');
        }
        out.push_str(&self.host);
        match (self.port, default_port) {
            (Some(port), true) => {
                out.push(':');
                out.push_str(port);
            }
            (None, true) => out.push_str(if self.scheme == "https" {
                ":443"
            } else {
                ":80"
            }),
            (_, false) => {}
        }
        out
    }

    /// The URL as a WHATWG `URL` serializes it (lower-case host, percent-encoded path and
    /// query), with or without the port.
    fn serialize(&self, with_port: bool) -> String {
        let mut out = self.origin(with_port);
        out.push_str(&self.encoded_path());
        if let Some(query) = self.query {
            out.push('?');
            out.push_str(&encode_set(query, b" \"#<>'"));
        }
        self.push_fragment(&mut out);
        out
    }

    /// twilio-node's `withLegacyQuerystring`: the URL without its query (fragment kept), then
    /// `?` and the query as Node's `querystring.stringify(querystring.parse(query))` writes it.
    fn legacy_query(&self, with_port: bool) -> String {
        let Some(query) = self.query.filter(|q| !q.is_empty()) else {
            return self.serialize(with_port);
        };
        let mut out = self.origin(with_port);
        out.push_str(&self.encoded_path());
        self.push_fragment(&mut out);
        out.push('?');
        out.push_str(&legacy_querystring(query));
        out
    }

    fn encoded_path(&self) -> String {
        if self.path.is_empty() {
            "/".into()
        } else {
            encode_set(self.path, b" \"<>`{}")
        }
    }

    fn push_fragment(&self, out: &mut String) {
        if let Some(fragment) = self.fragment {
            out.push('#');
            out.push_str(&encode_set(fragment, b" \"<>`"));
        }
    }
}

fn default_port(scheme: &str) -> Option<&'static str> {
    match scheme {
        "https" => Some("443"),
        "http" => Some("80"),
        _ => None,
    }
}

/// `text` with the bytes of `set`, controls and non-ASCII bytes percent-encoded (upper-case
/// hex), as a WHATWG serializer writes a URL component; `%XX` already there stays.
fn encode_set(text: &str, set: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b <= 0x20 || b >= 0x7f || set.contains(&b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

/// Node's legacy `querystring`: pairs decoded (`+` a space), grouped by key in the order keys
/// first appear, written back with `querystring.escape` (everything but `A-Za-z0-9-_.!~*'()`
/// percent-encoded).
fn legacy_querystring(query: &str) -> String {
    let mut groups: Vec<(Vec<u8>, Vec<Vec<u8>>)> = Vec::new();
    for (key, value) in form_pairs(query.as_bytes()) {
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => groups.push((key, vec![value])),
        }
    }
    let mut out = Vec::new();
    for (key, values) in &groups {
        for value in values {
            out.push(format!("{}={}", legacy_escape(key), legacy_escape(value)));
        }
    }
    out.join("&")
}

fn legacy_escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `X-Twilio-Signature` value for `request` under `secret` and `hash`, over the URL as
/// given.
pub fn sign(secret: &[u8], hash: Hash, request: &Request) -> String {
    let params = match body_hash_param(&request.url) {
        Some(_) => Vec::new(),
        None => signed_params(&request.body),
    };
    HmacHeader::base64(SIGNATURE, hash).sign(secret, &[request.url.as_bytes(), &params])
}

/// The headers `hookgate send` adds: the signature over the URL the gateway will verify, and a
/// fresh `I-Twilio-Idempotency-Token` (the event id) unless the operator gave one. A JSON body
/// can only be signed through a `bodySHA256` query parameter, which must then match it.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    let hash = algorithm(req).map_err(|e| SignError::invalid(e.to_string()))?;
    match body_hash_param(&req.url) {
        Some(expected) if expected != body_sha256(&req.body) => {
            return Err(SignError::invalid(format!(
                "the URL's {BODY_HASH_PARAM} is not the body's SHA-256 ({})",
                body_sha256(&req.body)
            )));
        }
        None if req.body.first() == Some(&b'{') || req.body.first() == Some(&b'[') => {
            return Err(SignError::invalid(format!(
                "Twilio signs a JSON body through the URL: the source's URL needs ?{BODY_HASH_PARAM}={}",
                body_sha256(&req.body)
            )));
        }
        _ => {}
    }
    let mut headers = vec![(SIGNATURE.to_owned(), sign(&ctx.secret, hash, req))];
    if req.header_text(IDEMPOTENCY_TOKEN).is_none() {
        headers.push((IDEMPOTENCY_TOKEN.to_owned(), ctx.nonce.clone()));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    // twilio-node `spec/validation.spec.js` (commit 45d3d65a): Auth Token, URL and parameters.
    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const PARAMS: &str = "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212";
    const SIGNATURE_DEFAULT: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

    fn request(url: &str, body: &str, signature: &str) -> Request {
        Request {
            url: url.into(),
            ..Request::post(body).with_header("X-Twilio-Signature", signature)
        }
    }

    fn check(url: &str, body: &str, signature: &str) -> Result<(), VerifyError> {
        verify(
            &request(url, body, signature),
            &VerifyContext::new(TOKEN, 0),
        )
    }

    #[test]
    fn published_form_vectors() {
        assert_eq!(check(URL, PARAMS, SIGNATURE_DEFAULT), Ok(()));
        // Port stripped; default port added (https and http); explicit port kept (http).
        let with_port = URL.replace(".com", ".com:1234");
        assert_eq!(check(&with_port, PARAMS, SIGNATURE_DEFAULT), Ok(()));
        assert_eq!(check(URL, PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w="), Ok(()));
        let http = URL.replace("https", "http");
        assert_eq!(check(&http, PARAMS, "0ZXoZLH/DfblKGATFgpif+LLRf4="), Ok(()));
        let http_port = with_port.replace("https", "http");
        assert_eq!(
            check(&http_port, PARAMS, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
            Ok(())
        );
        // Credentials in the URL, with and without the default port; a user name alone.
        let creds = "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(check(creds, PARAMS, "CukzLTc1tT5dXEDIHm/tKBanW10="), Ok(()));
        assert_eq!(check(creds, PARAMS, "ZQFR1PTIZXF2MXB8ZnKCvnnA+rI="), Ok(()));
        let user = "https://user@mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(check(user, PARAMS, "2YRLlVAflCqxaNicjMpJcSTgzSs="), Ok(()));
        // `'` in the query, signed WHATWG-encoded (`%27`).
        let special = format!("{URL}&Body=It's+amazing");
        assert_eq!(
            check(&special, PARAMS, "TfZzewPq8wqrGlMfyAud8+/IvJ0="),
            Ok(())
        );
    }

    #[test]
    fn published_repeated_parameter_vectors() {
        let sig = "83O6e2vORAoJHUNzJjDWN1jz+BA=";
        let a = "MessagingBinding.Address=%2B1325xxxxxxx&MessagingBinding.Address=%2B1415xxxxxxx";
        let b = "MessagingBinding.Address=%2B1415xxxxxxx&MessagingBinding.Address=%2B1325xxxxxxx";
        assert_eq!(check(URL, a, sig), Ok(()));
        assert_eq!(check(URL, b, sig), Ok(()));
        // Repeated values are signed once: Digits1234Digits5678.
        let digits = "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234";
        assert_eq!(check(URL, digits, "IK+Dwps556ElfBT0I3Rgjkr1wJU="), Ok(()));
    }

    #[test]
    fn published_body_hash_vectors() {
        let body = r#"{"property": "value", "boolean": true}"#;
        let hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        assert_eq!(body_sha256(body.as_bytes()), hash);
        let url = format!("{URL}&bodySHA256={hash}");
        assert_eq!(check(&url, body, "a9nBmqA0ju/hNViExpshrM61xv4="), Ok(()));
        let only = format!("https://mycompany.com/myapp.php?bodySHA256={hash}");
        assert_eq!(check(&only, body, "y77kIzt2vzLz71DgmJGsen2scGs="), Ok(()));
        let empty = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
        let url = format!("{URL}&bodySHA256={empty}");
        assert_eq!(check(&url, "{}", "Ldidvp12m26NI7eqEvxnEpkd9Hc="), Ok(()));
        // The signature is over the URL, so only the hash catches another body.
        let url = format!("{URL}&bodySHA256={hash}");
        assert_eq!(
            check(
                &url,
                r#"{"property": "other"}"#,
                "a9nBmqA0ju/hNViExpshrM61xv4="
            ),
            Err(VerifyError::SignatureMismatch)
        );
        // Without bodySHA256 the body is read as parameters, and the signature fails.
        assert_eq!(
            check(URL, body, SIGNATURE_DEFAULT),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn another_url_or_parameter_fails() {
        let elsewhere = URL.replace("myapp", "other");
        assert_eq!(
            check(&elsewhere, PARAMS, SIGNATURE_DEFAULT),
            Err(VerifyError::SignatureMismatch)
        );
        let more = format!("{PARAMS}&Extra=1");
        assert_eq!(
            check(URL, &more, SIGNATURE_DEFAULT),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn shared_key_rules_sign_with_sha256() {
        let signed = |hash| {
            let req = Request {
                url: URL.into(),
                ..Request::post(PARAMS)
            };
            request(URL, PARAMS, &sign(b"shared-key", hash, &req))
        };
        let ctx = VerifyContext::new("shared-key", 0);
        let sha256 =
            signed(Hash::Sha256).with_header(SIGNATURE_SETTINGS, "key=KS123,algorithm=HMAC_SHA256");
        assert_eq!(verify(&sha256, &ctx), Ok(()));
        // The same signature without the settings header is read as SHA-1, and fails.
        assert_eq!(
            verify(&signed(Hash::Sha256), &ctx),
            Err(VerifyError::SignatureMismatch)
        );
        let unknown = signed(Hash::Sha1).with_header(SIGNATURE_SETTINGS, "algorithm=MD5");
        assert!(matches!(
            verify(&unknown, &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
    }

    #[test]
    fn url_variants_follow_twilio_node() {
        assert_eq!(
            url_variants("HTTPS://Example.com:443/a b?x='1'&y=a+b#rc=5"),
            [
                "HTTPS://Example.com:443/a b?x='1'&y=a+b#rc=5",
                "https://example.com/a%20b?x=%271%27&y=a+b#rc=5",
                "https://example.com:443/a%20b?x=%271%27&y=a+b#rc=5",
                "https://example.com/a%20b#rc=5?x='1'&y=a%20b",
                "https://example.com:443/a%20b#rc=5?x='1'&y=a%20b",
            ]
        );
        assert_eq!(
            url_variants("http://[::1]:8080/hook"),
            ["http://[::1]:8080/hook", "http://[::1]/hook"]
        );
        assert_eq!(url_variants("not a url"), ["not a url"]);
    }

    #[test]
    fn signing_needs_a_body_hash_for_json_bodies() {
        let ctx = SignContext {
            secret: TOKEN.into(),
            now_unix_secs: 0,
            nonce: "n1".into(),
            settings: Settings::none(),
        };
        let json = Request {
            url: URL.into(),
            ..Request::post("{}")
        };
        let Err(SignError::Invalid(message)) = signed_headers(&json, &ctx) else {
            panic!("a JSON body without bodySHA256 cannot be signed");
        };
        assert!(message.contains("bodySHA256=44136fa3"), "{message}");
        let hashed = Request {
            url: format!("{URL}&bodySHA256={}", body_sha256(b"{}")),
            ..json
        };
        let headers = signed_headers(&hashed, &ctx).unwrap();
        assert_eq!(headers[1], (IDEMPOTENCY_TOKEN.into(), "n1".into()));
        let signed = hashed.with_header(SIGNATURE, headers[0].1.clone());
        assert_eq!(verify(&signed, &VerifyContext::new(TOKEN, 0)), Ok(()));
    }
}
