//! `X-HubSpot-Signature-v3` verification over `method + URI + body + timestamp`.

use hookgate_sdk::prelude::*;

/// The v3 signature header: bare base64, no prefix.
pub const SIGNATURE: HmacHeader<'static> =
    HmacHeader::base64("x-hubspot-signature-v3", Hash::Sha256);
/// The signed request time, Unix milliseconds.
pub const TIMESTAMP: &str = "x-hubspot-request-timestamp";

/// Verifies a HubSpot v3 request under any configured client secret.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let signatures = SIGNATURE.signatures(req)?;
    let timestamp = req
        .header_str(TIMESTAMP)?
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .ok_or(VerifyError::MissingTimestamp)?;
    let millis: i64 = timestamp
        .parse()
        .map_err(|_| VerifyError::MissingTimestamp)?;
    check_age(millis, ctx)?;
    let decoded = decode_reserved(&req.url);
    let uris: Vec<&str> = std::iter::once(req.url.as_str())
        .chain(decoded.as_deref())
        .collect();
    ctx.verify_any_secret(|secret| {
        uris.iter().any(|uri| {
            let message: [&[u8]; 4] = [
                req.method.as_bytes(),
                uri.as_bytes(),
                &req.body,
                timestamp.as_bytes(),
            ];
            signatures
                .iter()
                .any(|sig| hmac_verify(Hash::Sha256, secret, &message, sig))
        })
    })
}

/// Refuses a request older than the tolerance. HubSpot's SDKs refuse only old timestamps
/// (Node: `now - ts > 300000` ms), never future ones, and neither does this.
fn check_age(millis: i64, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let now_millis = ctx.now_unix_secs.saturating_mul(1000);
    let tolerance_millis = i64::try_from(ctx.tolerance_secs)
        .unwrap_or(i64::MAX)
        .saturating_mul(1000);
    if now_millis.saturating_sub(millis) > tolerance_millis {
        return Err(VerifyError::TimestampOutsideTolerance(
            millis.div_euclid(1000),
        ));
    }
    Ok(())
}

/// The escapes HubSpot's docs decode before signing, and what they stand for.
const RESERVED: [(&str, char); 12] = [
    ("%3A", ':'),
    ("%2F", '/'),
    ("%3F", '?'),
    ("%40", '@'),
    ("%21", '!'),
    ("%24", '$'),
    ("%27", '\''),
    ("%28", '('),
    ("%29", ')'),
    ("%2A", '*'),
    ("%2C", ','),
    ("%3B", ';'),
];

/// `url` with those escapes (either hex case) decoded and every other escape kept, or `None`
/// when it has none of them.
fn decode_reserved(url: &str) -> Option<String> {
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    let mut changed = false;
    while let Some(at) = rest.find('%') {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let decoded = from.get(..3).and_then(|escape| {
            RESERVED
                .iter()
                .find(|(code, _)| code.eq_ignore_ascii_case(escape))
                .map(|(_, c)| *c)
        });
        match decoded {
            Some(c) => {
                out.push(c);
                changed = true;
                rest = from.get(3..).unwrap_or_default();
            }
            None => {
                out.push('%');
                rest = from.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// The v3 signature value for a request (method, URL as given, body) at `millis`.
pub fn sign(secret: &[u8], req: &Request, millis: i64) -> String {
    let millis = millis.to_string();
    SIGNATURE.sign(
        secret,
        &[
            req.method.as_bytes(),
            req.url.as_bytes(),
            &req.body,
            millis.as_bytes(),
        ],
    )
}

/// The headers `hookgate send` adds: the request timestamp (now, in milliseconds) and the v3
/// signature over the request's method, URL (the source's `public_url` when set) and body.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    let millis = ctx.now_unix_secs.saturating_mul(1000);
    Ok(vec![
        (TIMESTAMP.to_owned(), millis.to_string()),
        (SIGNATURE.header.to_owned(), sign(&ctx.secret, req, millis)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::SECRET;

    const URL: &str = "https://www.example.com/webhook_uri";
    // The request body of HubSpot's SDK tests, single quotes and all.
    const BODY: &str = "{'example_field':'example_value'}";

    fn req(url: &str, ts: &str, sig: &str) -> Request {
        Request {
            url: url.into(),
            ..Request::post(BODY)
        }
        .with_header("X-HubSpot-Request-Timestamp", ts)
        .with_header("X-HubSpot-Signature-v3", sig)
    }

    fn at(now_secs: i64) -> VerifyContext {
        VerifyContext::new(SECRET, now_secs)
    }

    #[test]
    fn the_sdk_test_vectors_verify() {
        // hubspot-api-python and hubspot-api-ruby (timestamp 15000000), and the values of
        // other versions of the Python and Ruby tests.
        for (ts, sig) in [
            ("15000000", "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="),
            (
                "1693657560000",
                "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=",
            ),
            (
                "1700000300000",
                "RnbPH7+UMKVkbV32P8bz450N4M56aPmcru1+D3kSDtw=",
            ),
        ] {
            let millis: i64 = ts.parse().unwrap();
            assert_eq!(sign(SECRET, &req(URL, ts, ""), millis), sig);
            assert_eq!(
                verify(&req(URL, ts, sig), &at(millis / 1000)),
                Ok(()),
                "{ts}"
            );
        }
    }

    #[test]
    fn method_url_body_and_timestamp_are_signed() {
        let sig = "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=";
        let ctx = at(15_000);
        assert_eq!(
            verify(
                &req("https://www.example.com/webhook_uri2", "15000000", sig),
                &ctx
            ),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            verify(&req(URL, "15000001", sig), &ctx),
            Err(VerifyError::SignatureMismatch)
        );
        let get = Request {
            method: "GET".into(),
            ..req(URL, "15000000", sig)
        };
        assert_eq!(verify(&get, &ctx), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn stale_timestamps_are_refused_and_future_ones_accepted() {
        let ts = 1_700_000_300_000_i64;
        let sig = "RnbPH7+UMKVkbV32P8bz450N4M56aPmcru1+D3kSDtw=";
        let r = req(URL, "1700000300000", sig);
        assert_eq!(verify(&r, &at(1_700_000_600)), Ok(()));
        assert_eq!(
            verify(&r, &at(1_700_000_601)),
            Err(VerifyError::TimestampOutsideTolerance(ts / 1000))
        );
        // Like every HubSpot SDK: a timestamp ahead of the receiver's clock passes.
        assert_eq!(verify(&r, &at(1_699_990_000)), Ok(()));
        for bad in ["", "1700000300", "-5", "17e11", "soon"] {
            let r = req(URL, bad, sig);
            let result = verify(&r, &at(1_700_000_300));
            assert!(
                matches!(
                    result,
                    Err(VerifyError::MissingTimestamp | VerifyError::TimestampOutsideTolerance(_))
                ),
                "{bad}: {result:?}"
            );
        }
    }

    #[test]
    fn a_url_signed_with_its_reserved_escapes_decoded_verifies() {
        let sent = "https://www.example.com/webhook_uri?a=1&b=x%3Ay&c=%20";
        let signed_as = "https://www.example.com/webhook_uri?a=1&b=x:y&c=%20";
        assert_eq!(decode_reserved(sent).as_deref(), Some(signed_as));
        let r = req(sent, "1700000000000", "");
        let signed = Request {
            url: signed_as.into(),
            ..r.clone()
        };
        let sig = sign(SECRET, &signed, 1_700_000_000_000);
        let mut r = r;
        r.headers.retain(|(n, _)| n != "x-hubspot-signature-v3");
        let r = r.with_header("X-HubSpot-Signature-v3", sig);
        assert_eq!(verify(&r, &at(1_700_000_000)), Ok(()));
        // The raw form verifies too (what the SDKs sign).
        let raw = sign(SECRET, &req(sent, "", ""), 1_700_000_000_000);
        assert_eq!(
            verify(&req(sent, "1700000000000", &raw), &at(1_700_000_000)),
            Ok(())
        );
        assert_eq!(decode_reserved("https://x/y?q=%20%26%2b"), None);
        assert_eq!(
            decode_reserved("https://x/%2f%").as_deref(),
            Some("https://x//%")
        );
    }

    #[test]
    fn a_legacy_signature_alone_proves_nothing() {
        // hubspot-api-nodejs's v1 example: SHA-256 of secret + body, valid but not accepted.
        let body = r#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
        let v1 = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de";
        assert_eq!(hex_encode(&sha256(&[SECRET, body.as_bytes()])), v1);
        let legacy = Request::post(body)
            .with_header("X-HubSpot-Signature", v1)
            .with_header("X-HubSpot-Signature-Version", "v1");
        assert_eq!(
            verify(&legacy, &at(1_564_113_600)),
            Err(VerifyError::MissingSignature)
        );
    }

    #[test]
    fn malformed_signatures() {
        let ctx = at(15_000);
        assert!(matches!(
            verify(&req(URL, "15000000", "***"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert_eq!(
            verify(&req(URL, "15000000", ""), &ctx),
            Err(VerifyError::MissingSignature)
        );
    }
}
