//! Whether an attempt succeeded, and if not whether retrying can help: the contract's delivery
//! rules as one pure function of the response (or the transport error) and the host's `now`.
//! They are the SDK's standard table ([`hookgate_sdk::api`]), which `http` shares; its tests
//! live with it.
//! *When* to retry is the host's business (schedule, jitter, `Retry-After` cap); this module
//! only passes on what the destination asked for.
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

pub use hookgate_sdk::api::{classify, classify_error, classify_response, snippet};

#[cfg(test)]
mod tests {
    use super::*;
    use hookgate_sdk::prelude::*;

    #[test]
    fn the_contract_table_applies() {
        assert_eq!(
            classify(Ok(HttpResponse::new(204)), 0),
            Ok(Delivered::status(204))
        );
        assert!(matches!(
            classify(Ok(HttpResponse::new(410)), 0),
            Err(ActionError::Gone { .. })
        ));
        assert!(matches!(
            classify(Ok(HttpResponse::new(429)), 0),
            Err(ActionError::RateLimited { .. })
        ));
    }
}
