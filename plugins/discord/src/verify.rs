//! Discord request signing, as discord-interactions-js `verifyKey` checks it: an Ed25519
//! signature (hex, `X-Signature-Ed25519`) of the `X-Signature-Timestamp` value followed by the
//! raw body, under the application's public key (hex, from the developer portal). The same
//! scheme signs the Interactions endpoint and the Webhook Events endpoint.
//!
//! Discord's libraries check no time at all. Here a timestamp older than the source's
//! tolerance is refused (a captured request cannot be replayed later), and a timestamp in the
//! future is accepted as Discord's libraries accept it, so a receiver whose clock runs behind
//! Discord's refuses nothing genuine.

use hookgate_sdk::prelude::*;

/// The signature header: 64 bytes, hex.
pub const SIGNATURE: &str = "x-signature-ed25519";
/// The signed timestamp header: Unix seconds.
pub const TIMESTAMP: &str = "x-signature-timestamp";

/// Verifies a Discord request under any configured public key.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let signature = req
        .header_str(SIGNATURE)?
        .filter(|s| !s.is_empty())
        .ok_or(VerifyError::MissingSignature)?;
    let signature = hex_decode(signature)
        .ok()
        .filter(|s| s.len() == 64)
        .ok_or_else(|| VerifyError::malformed("X-Signature-Ed25519 must be 128 hex characters"))?;
    let timestamp = req
        .header_str(TIMESTAMP)?
        .filter(|t| !t.is_empty())
        .ok_or(VerifyError::MissingTimestamp)?;
    ctx.check_not_stale(parse_unix_secs(timestamp).ok_or(VerifyError::MissingTimestamp)?)?;
    let message = [timestamp.as_bytes(), &req.body].concat();
    ctx.verify_any_secret(|key| {
        public_key(key).is_some_and(|key| ed25519_verify(&key, &message, &signature))
    })
}

/// A configured public key: 64 hex characters. Anything else verifies nothing.
fn public_key(secret: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(secret).ok()?.trim();
    hex_decode(text).ok().filter(|key| key.len() == 32)
}

/// The `(X-Signature-Timestamp, X-Signature-Ed25519)` pair for `body` at `ts` under the 32-byte
/// private key `seed`; `None` when the seed is not 32 bytes.
pub fn sign(seed: &[u8], ts: i64, body: &[u8]) -> Option<(String, String)> {
    let ts = ts.to_string();
    let (signature, _public) = ed25519_sign(seed, &[ts.as_bytes(), body].concat())?;
    Some((ts, hex_encode(&signature)))
}

/// The headers `hookgate send --key` adds. The key is the application's Ed25519 private key as
/// 64 hex characters (the 32-byte seed); Discord never hands it out, so this signs for a source
/// configured with a test key pair's public key.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    let seed = hex_decode(ctx.secret_str()?)
        .ok()
        .filter(|seed| seed.len() == 32)
        .ok_or_else(|| {
            SignError::invalid(
                "sign with --key <Ed25519 private key: 64 hex characters, the 32-byte seed>; \
                 the source's secret is the public key",
            )
        })?;
    let (ts, signature) = sign(&seed, ctx.now_unix_secs, &req.body)
        .ok_or_else(|| SignError::invalid("the private key is not a 32-byte Ed25519 seed"))?;
    Ok(vec![(TIMESTAMP.into(), ts), (SIGNATURE.into(), signature)])
}

#[cfg(test)]
mod tests {
    use super::*;

    // A test key pair (Discord publishes no signed example): seed 0x21..=0x40 and its public
    // key; the signature of the SDK's PING test body at 1735689600 was made independently with
    // Python `cryptography` (Ed25519PrivateKey.from_private_bytes(seed).sign(ts + body)).
    const PUBLIC: &str = "e7f162a10bec559afea195e4dce84b69568d5d2cb0963eb446c0685e2b17f2f0";
    const BODY: &str = r#"{"id":"787053080478613555","token":"ThisIsATokenFromDiscordThatIsVeryLong","type":1,"version":1}"#;
    const TS: i64 = 1_735_689_600;
    const SIG: &str = "dddbd2ebb6ed4846a56a249858776e055034187dabfaaa56b3060ca8720683f11278fb3b7a4fdf854f651b4932f5cb9a4e3d832eee77950f266f7913323c6100";

    fn req(ts: &str, sig: &str) -> Request {
        Request::post(BODY)
            .with_header("X-Signature-Timestamp", ts)
            .with_header("X-Signature-Ed25519", sig)
    }

    #[test]
    fn independently_signed_example_verifies() {
        let ctx = VerifyContext::new(PUBLIC, TS + 5);
        assert_eq!(verify(&req("1735689600", SIG), &ctx), Ok(()));
        let seed: Vec<u8> = (0x21..=0x40).collect();
        assert_eq!(
            sign(&seed, TS, BODY.as_bytes()),
            Some((TS.to_string(), SIG.to_owned()))
        );
        // Upper-case hex keys and signatures are the same bytes.
        let upper = VerifyContext::new(PUBLIC.to_uppercase(), TS);
        assert_eq!(
            verify(&req("1735689600", &SIG.to_uppercase()), &upper),
            Ok(())
        );
    }

    #[test]
    fn the_timestamp_is_signed_and_only_staleness_is_refused() {
        // Another timestamp breaks the signature.
        assert_eq!(
            verify(&req("1735689601", SIG), &VerifyContext::new(PUBLIC, TS)),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            verify(
                &req("1735689600", SIG),
                &VerifyContext::new(PUBLIC, TS + 301)
            ),
            Err(VerifyError::TimestampOutsideTolerance(TS))
        );
        assert_eq!(
            verify(
                &req("1735689600", SIG),
                &VerifyContext::new(PUBLIC, TS + 300)
            ),
            Ok(())
        );
        // Discord's clock ahead of ours by more than the tolerance: accepted, as its SDK does.
        assert_eq!(
            verify(
                &req("1735689600", SIG),
                &VerifyContext::new(PUBLIC, TS - 3600)
            ),
            Ok(())
        );
    }

    #[test]
    fn malformed_headers_and_keys() {
        let ctx = VerifyContext::new(PUBLIC, TS);
        assert!(matches!(
            verify(&req("1735689600", "abcd"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert_eq!(
            verify(&req("soon", SIG), &ctx),
            Err(VerifyError::MissingTimestamp)
        );
        let no_ts = Request::post(BODY).with_header(SIGNATURE, SIG);
        assert_eq!(verify(&no_ts, &ctx), Err(VerifyError::MissingTimestamp));
        // A configured key that is not 32 hex bytes verifies nothing.
        let bad_key = VerifyContext::new("not-a-key", TS);
        assert_eq!(
            verify(&req("1735689600", SIG), &bad_key),
            Err(VerifyError::SignatureMismatch)
        );
        let rotation = VerifyContext {
            secrets: vec![b"not-a-key".to_vec(), PUBLIC.into()],
            ..ctx
        };
        assert_eq!(verify(&req("1735689600", SIG), &rotation), Ok(()));
    }

    #[test]
    fn signing_needs_the_private_key() {
        let ctx = SignContext {
            secret: PUBLIC.into(),
            now_unix_secs: TS,
            nonce: String::new(),
            settings: Settings::none(),
        };
        // A public key is 32 bytes too, so it signs, but nothing the source accepts.
        let headers = signed_headers(&Request::post(BODY), &ctx).unwrap();
        let signed = Request::post(BODY)
            .with_header(&headers[0].0, headers[0].1.clone())
            .with_header(&headers[1].0, headers[1].1.clone());
        assert_eq!(
            verify(&signed, &VerifyContext::new(PUBLIC, TS)),
            Err(VerifyError::SignatureMismatch)
        );
        let short = SignContext {
            secret: b"abcd".to_vec(),
            ..ctx
        };
        assert!(matches!(
            signed_headers(&Request::post(BODY), &short),
            Err(SignError::Invalid(_))
        ));
    }
}
