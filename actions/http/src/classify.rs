//! Whether an attempt succeeded: the contract's delivery rules, the SDK's standard table
//! ([`hookgate_sdk::api`]) that `forward` uses too — 2xx delivered; 408, 5xx and transport
//! errors retried after `Retry-After`; 429 rate limited; 410 gone (the route is disabled);
//! 3xx (not followed) and other 4xx permanent. A spent quota on a success
//! (`X-RateLimit-Remaining: 0`) is only logged: the plugin interface of this version has no
//! way to pause a route after a success, and the next attempt's 429 will.

pub use hookgate_sdk::api::classify;

#[cfg(test)]
mod tests {
    use super::*;
    use hookgate_sdk::prelude::*;

    #[test]
    fn the_contract_table_applies() {
        let of = |status| classify(Ok(HttpResponse::new(status)), 0);
        assert_eq!(of(201), Ok(Delivered::status(201)));
        assert!(matches!(of(302), Err(ActionError::Permanent { .. })));
        assert!(matches!(of(404), Err(ActionError::Permanent { .. })));
        assert!(matches!(of(410), Err(ActionError::Gone { .. })));
        assert!(matches!(of(429), Err(ActionError::RateLimited { .. })));
        assert!(matches!(of(503), Err(ActionError::Retryable { .. })));
    }
}
