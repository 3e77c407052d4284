//! hookgate's first-party **`google-sheets`** action: appends a row (or several) to a Google
//! Sheets spreadsheet as a service account.
//!
//! ```toml
//! [[routes]]
//! source = "stripe"
//! events = ["payment.completed"]
//! action = "google-sheets"
//! config = { credentials = { file = "/etc/hookgate/sheets-writer.json" },
//!            spreadsheet_id = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms",
//!            range = "Payments!A1",
//!            values = ["{{ event.occurred_at }}", "{{ event.entity_id }}", "{{ event.amount | minor_to_major(event.currency) }}", "{{ event.currency }}"] }
//! ```
//!
//! Authentication is Google's flow for service accounts ([`token`]): a JWT assertion signed
//! RS256 by the host (`hookgate:plugin/signing`, so the key is never handled by RSA code in the
//! sandbox), exchanged at the key's `token_uri` for an access token that the host's per-route
//! cache keeps until shortly before it expires. A token the API refuses (401) is dropped and
//! fetched again once in the same attempt. The append's answers are classified in [`classify`].

pub mod classify;
pub mod config;
pub mod request;
pub mod token;

use config::{ServiceAccount, SheetsConfig};
use hookgate_sdk::prelude::*;

/// The `google-sheets` action.
pub struct GoogleSheets;

impl Action for GoogleSheets {
    fn metadata() -> ActionMetadata {
        ActionMetadata::new(
            "google-sheets",
            "Appends rows to a Google Sheets spreadsheet as a service account",
        )
    }

    fn check_config(config: &serde_json::Value) -> Result<(), String> {
        SheetsConfig::parse(config, false).map(|_| ())
    }

    fn run(delivery: &Delivery) -> Result<Delivered, ActionError> {
        let config = SheetsConfig::parse(&delivery.config, true)
            .map_err(|e| ActionError::permanent(format!("invalid rendered config: {e}")))?;
        let Some(account) = &config.account else {
            return Err(ActionError::permanent(
                "invalid rendered config: credentials is not a service-account key",
            ));
        };
        let now = delivery.now_unix_ms;
        let key = token::cache_key(account);
        let cached = cache::get(&key).and_then(|t| String::from_utf8(t).ok());
        let fresh = cached.is_none();
        let access_token = match cached {
            Some(token) => token,
            None => fetch_token(account, &key, now)?,
        };
        let answer = request::build(&config, &access_token).send();
        if !fresh && matches!(&answer, Ok(r) if r.status == 401) {
            // Revoked or expired early: one new token, in this attempt.
            cache::remove(&key);
            let access_token = fetch_token(account, &key, now)?;
            return classify::classify(request::build(&config, &access_token).send(), now);
        }
        classify::classify(answer, now)
    }
}

/// A new access token for `account`, cached under `key` for its lifetime.
fn fetch_token(
    account: &ServiceAccount,
    key: &str,
    now_unix_ms: u64,
) -> Result<String, ActionError> {
    let assertion = token::assertion(account, now_unix_ms / 1000, |pem, input| {
        signing::rs256_sign(pem, input)
    })?;
    let token = token::classify(token::request(account, &assertion).send(), now_unix_ms)?;
    if token.cache_ms > 0 {
        // A refused write only costs the next delivery another token.
        let _ = cache::set(key, token.access_token.as_bytes(), token.cache_ms);
    }
    Ok(token.access_token)
}

hookgate_sdk::export_action!(GoogleSheets);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_names_the_action() {
        assert_eq!(GoogleSheets::metadata().name, "google-sheets");
    }
}
