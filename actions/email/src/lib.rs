//! hookgate's first-party **`email`** action: sends one email per delivery through a
//! provider's HTTP API — SendGrid, Resend, Postmark or Mailgun (`provider`), with `api_key`,
//! `from`, `to` (an address or a list), `cc`, `bcc`, `reply_to`, `subject`, `text` and/or
//! `html`; Mailgun also takes its sending `domain`. `base_url` points at another region (Mailgun
//! EU: `https://api.eu.mailgun.net`), a proxy or a test double. Every string is a template the
//! host renders per delivery.
//!
//! ```toml
//! [[routes]]
//! source = "stripe"
//! events = ["payment.completed"]
//! action = "email"
//! config = { provider = "resend", api_key = { env = "RESEND_API_KEY" },
//!            from = "Billing <billing@example.com>", to = ["finance@example.com"],
//!            subject = "Paid {{ event.amount | money(event.currency) }}",
//!            text = "Payment {{ event.entity_id }} of {{ event.amount | money(event.currency) }}.",
//!            html = "<p>Payment <b>{{ event.entity_id }}</b> received.</p>" }
//! ```
//!
//! Resend gets `Idempotency-Key: <event id>`, so a retry after a lost answer (or a replay) is
//! not a second email; the other three document no such key. Answers are classified as each
//! provider documents them ([`classify`]): validation and authentication errors are dead-lettered
//! with the provider's own code (Postmark's `ErrorCode`, Resend's error name), rate limits wait
//! for the delay named, 5xx and Postmark's maintenance are retried. The API key is never part of
//! a reason.

pub mod classify;
pub mod config;
pub mod request;

use config::EmailConfig;
use hookgate_sdk::prelude::*;

/// The `email` action.
pub struct Email;

impl Action for Email {
    fn metadata() -> ActionMetadata {
        ActionMetadata::new(
            "email",
            "Sends an email through SendGrid, Resend, Postmark or Mailgun",
        )
    }

    fn check_config(config: &serde_json::Value) -> Result<(), String> {
        EmailConfig::parse(config, false).map(|_| ())
    }

    fn run(delivery: &Delivery) -> Result<Delivered, ActionError> {
        let config = EmailConfig::parse(&delivery.config, true)
            .map_err(|e| ActionError::permanent(format!("invalid rendered config: {e}")))?;
        let request = request::build(&config, &delivery.event_id);
        classify::classify(config.provider, request.send(), delivery.now_unix_ms)
            .map_err(|e| redact(e, &config.api_key))
    }
}

hookgate_sdk::export_action!(Email);

/// `error` with `secret` (and its `api:` basic-auth form) cut out of the reason, should a
/// provider ever echo the credential back: the reason goes into the attempt history.
fn redact(error: ActionError, secret: &str) -> ActionError {
    if secret.is_empty() {
        return error;
    }
    let basic = base64_encode(format!("api:{secret}").as_bytes());
    error.redacting([basic.as_str(), secret])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_names_the_action() {
        assert_eq!(Email::metadata().name, "email");
    }

    #[test]
    fn an_echoed_key_is_cut_from_the_reason() {
        let error = ActionError::permanent("Postmark: HTTP 401, token pm-secret-1 is invalid")
            .with_status(401);
        assert_eq!(
            redact(error, "pm-secret-1"),
            ActionError::permanent("Postmark: HTTP 401, token [redacted] is invalid")
                .with_status(401)
        );
        let basic = base64_encode(b"api:key-1");
        let error = ActionError::retryable(format!("echo Basic {basic}"));
        assert_eq!(redact(error, "key-1").reason(), "echo Basic [redacted]");
    }

    #[test]
    fn a_rendered_config_that_no_longer_checks_is_permanent() {
        let delivery = Delivery {
            config: serde_json::json!({"provider": "resend", "api_key": "re_secret", "from": "x", "to": "y@z.w", "subject": "s", "text": "t"}),
            ..Default::default()
        };
        match Email::run(&delivery) {
            Err(ActionError::Permanent { reason, .. }) => {
                assert!(reason.contains("from is not an email address"), "{reason}");
                assert!(!reason.contains("re_secret"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}
