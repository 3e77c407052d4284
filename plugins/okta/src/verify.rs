//! Okta event hook authentication: a static header, not a signature.
//!
//! Okta signs nothing. When the hook is registered the admin sets an "authentication field"
//! (a header name, `Authorization` unless changed) and an "authentication secret" (any string,
//! e.g. `Basic YWRtaW46c3VwZXJzZWNyZXQ=`), which Okta sends verbatim on every request. The
//! source's secret is that whole value: it is compared byte for byte, in constant time, never
//! parsed as Basic or Bearer. The body is therefore not authenticated beyond the TLS channel
//! that carried the header.

use hookgate_sdk::prelude::*;

/// The setting naming the authentication header, for hooks registered with another name.
pub const HEADER_SETTING: &str = "auth_header";
/// The header Okta authenticates with unless the hook names another.
pub const DEFAULT_HEADER: &str = "authorization";
/// The header of the one-time verification request.
pub const CHALLENGE: &str = "x-okta-verification-challenge";

/// The authentication header's name from the source's settings.
pub fn header_name(settings: &Settings) -> Result<&str, ConfigError> {
    let name = settings.str(HEADER_SETTING)?.unwrap_or(DEFAULT_HEADER);
    let token = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if token {
        Ok(name)
    } else {
        Err(ConfigError::new(
            HEADER_SETTING,
            "is not an HTTP header name",
        ))
    }
}

/// Checks the source's settings: only `auth_header`, a header name.
pub fn check_config(settings: &Settings) -> Result<(), ConfigError> {
    settings.only(&[HEADER_SETTING])?;
    header_name(settings).map(drop)
}

/// Whether the request carries the configured authentication value.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let name = header_name(&ctx.settings)
        .map_err(|e| VerifyError::malformed(format!("source settings: {e}")))?;
    let value = req
        .header_str(name)?
        .filter(|v| !v.is_empty())
        .ok_or(VerifyError::MissingSignature)?;
    // Secrets are compared as configured, less surrounding whitespace (a secret file's
    // newline), as `hookgate send` signs with them.
    ctx.verify_any_secret(|secret| constant_time_eq(value.as_bytes(), secret.trim_ascii()))
}

/// The header `hookgate send` adds: the configured one, carrying the secret.
pub fn signed_headers(
    _req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    let name = header_name(&ctx.settings)
        .map_err(|e| SignError::invalid(format!("source settings: {e}")))?;
    let secret = ctx.secret_str()?;
    if secret.is_empty() {
        return Err(SignError::invalid("the secret is empty"));
    }
    Ok(vec![(name.to_ascii_lowercase(), secret.to_owned())])
}

/// The challenge of the one-time verification request: a GET carrying
/// `X-Okta-Verification-Challenge`. It is answered only when it also carries the configured
/// authentication value, so nobody else can make the gateway vouch for the URL.
pub fn verification_challenge<'a>(req: &'a Request, ctx: &VerifyContext) -> Option<&'a str> {
    if req.method != "GET" {
        return None;
    }
    let challenge = req.header_text(CHALLENGE)?;
    verify(req, ctx).ok()?;
    Some(challenge)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookgate_sdk::serde_json::json;

    // The value of Okta's own guide: Basic auth for admin:supersecret.
    const SECRET: &str = "Basic YWRtaW46c3VwZXJzZWNyZXQ=";

    fn req(name: &str, value: &str) -> Request {
        Request::post("{}").with_header(name, value)
    }

    #[test]
    fn the_guides_value_authenticates_in_any_header_case() {
        let ctx = VerifyContext::new(SECRET, 0);
        assert_eq!(verify(&req("Authorization", SECRET), &ctx), Ok(()));
        assert_eq!(verify(&req("authorization", SECRET), &ctx), Ok(()));
        // A secret file's trailing newline is not part of the value.
        let from_file = VerifyContext::new(format!("{SECRET}\n"), 0);
        assert_eq!(verify(&req("Authorization", SECRET), &from_file), Ok(()));
    }

    #[test]
    fn the_value_is_compared_whole_not_parsed() {
        let ctx = VerifyContext::new(SECRET, 0);
        for other in [
            "basic YWRtaW46c3VwZXJzZWNyZXQ=",
            "Bearer YWRtaW46c3VwZXJzZWNyZXQ=",
            "YWRtaW46c3VwZXJzZWNyZXQ=",
            "Basic YWRtaW46c3VwZXJzZWNyZXQ=x",
        ] {
            assert_eq!(
                verify(&req("Authorization", other), &ctx),
                Err(VerifyError::SignatureMismatch),
                "{other}"
            );
        }
        assert_eq!(
            verify(&Request::post("{}"), &ctx),
            Err(VerifyError::MissingSignature)
        );
        assert_eq!(
            verify(&req("Authorization", ""), &ctx),
            Err(VerifyError::MissingSignature)
        );
    }

    #[test]
    fn a_hook_may_name_another_header() {
        let settings = Settings::from_json(json!({ "auth_header": "X-Okta-Secret" }));
        let ctx = VerifyContext::new(SECRET, 0).with_settings(settings);
        assert_eq!(verify(&req("x-okta-secret", SECRET), &ctx), Ok(()));
        assert_eq!(
            verify(&req("Authorization", SECRET), &ctx),
            Err(VerifyError::MissingSignature)
        );
    }

    #[test]
    fn settings_are_checked() {
        assert!(check_config(&Settings::none()).is_ok());
        let bad = Settings::from_json(json!({ "auth_header": "X Secret" }));
        assert_eq!(
            check_config(&bad).unwrap_err().to_string(),
            "config.auth_header is not an HTTP header name"
        );
        let typo = Settings::from_json(json!({ "header": "X-Secret" }));
        assert!(check_config(&typo).is_err());
    }
}
