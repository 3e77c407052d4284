//! The route `config` of an `email` route: one message through a provider's HTTP API.
//!
//! ```toml
//! config = { provider = "postmark", api_key = { env = "POSTMARK_SERVER_TOKEN" },
//!            from = "Billing <billing@example.com>", to = ["ops@example.com", "{{ event.payload.data.object.receipt_email }}"],
//!            subject = "Paid {{ event.amount | money(event.currency) }}", text = "…", html = "<p>…</p>" }
//! ```

use hookgate_sdk::api::{ConfigCheck, is_template};
use hookgate_sdk::http::is_valid_header_value;
use serde_json::Value;

/// The keys an `email` config may have: the contract's, plus `cc` and `bcc`, which all four
/// providers take.
pub const ALLOWED_KEYS: [&str; 13] = [
    "provider",
    "api_key",
    "base_url",
    "domain",
    "from",
    "to",
    "cc",
    "bcc",
    "reply_to",
    "subject",
    "text",
    "html",
    "idempotency_key",
];

/// The longest idempotency key Resend accepts, in characters.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 256;

/// The email APIs the action speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// Twilio SendGrid's v3 Mail Send.
    SendGrid,
    /// Resend's `POST /emails`.
    Resend,
    /// Postmark's `POST /email`.
    Postmark,
    /// Mailgun's `POST /v3/{domain}/messages`.
    Mailgun,
}

impl Provider {
    /// Every provider, in the order the docs list them.
    pub const ALL: [Provider; 4] = [
        Provider::SendGrid,
        Provider::Resend,
        Provider::Postmark,
        Provider::Mailgun,
    ];

    /// The name a config gives it (`provider = "sendgrid"`).
    pub fn name(self) -> &'static str {
        match self {
            Provider::SendGrid => "sendgrid",
            Provider::Resend => "resend",
            Provider::Postmark => "postmark",
            Provider::Mailgun => "mailgun",
        }
    }

    /// The service's own spelling, for failure reasons.
    pub fn label(self) -> &'static str {
        match self {
            Provider::SendGrid => "SendGrid",
            Provider::Resend => "Resend",
            Provider::Postmark => "Postmark",
            Provider::Mailgun => "Mailgun",
        }
    }

    /// The public API address (Mailgun's EU region is `https://api.eu.mailgun.net`, SendGrid's
    /// EU subusers use `https://api.eu.sendgrid.com`: set `base_url`).
    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::SendGrid => "https://api.sendgrid.com",
            Provider::Resend => "https://api.resend.com",
            Provider::Postmark => "https://api.postmarkapp.com",
            Provider::Mailgun => "https://api.mailgun.net",
        }
    }

    fn parse(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// A checked `email` config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailConfig {
    /// Which API to call.
    pub provider: Provider,
    /// The API key / server token (a credential: never quoted, never in a reason).
    pub api_key: String,
    /// The API's base URL, without a trailing slash.
    pub base_url: String,
    /// Mailgun's sending domain (`mg.example.com`); `None` for the other providers.
    pub domain: Option<String>,
    /// The sender: `billing@example.com` or `Billing <billing@example.com>`.
    pub from: String,
    /// The recipients (at least one).
    pub to: Vec<String>,
    /// Carbon-copy recipients.
    pub cc: Vec<String>,
    /// Blind-carbon-copy recipients.
    pub bcc: Vec<String>,
    /// The Reply-To address.
    pub reply_to: Option<String>,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: Option<String>,
    /// The HTML body.
    pub html: Option<String>,
    /// Resend's `Idempotency-Key` when the route sets its own (default: the event id). Two
    /// Resend routes of one event (a receipt and an internal notice) need distinct keys, or
    /// Resend takes the second for a repeat of the first (`{{ event.id }}-receipt`).
    pub idempotency_key: Option<String>,
}

impl EmailConfig {
    /// Checks and extracts the config; every problem at once, separated by `; `. With
    /// `rendered` false (at load), templated values are accepted as written.
    pub fn parse(config: &Value, rendered: bool) -> Result<EmailConfig, String> {
        let mut check = ConfigCheck::new(
            config,
            &ALLOWED_KEYS,
            "{ provider = \"resend\", api_key = { env = \"RESEND_API_KEY\" }, from = …, to = …, subject = …, text = … }",
        )?;
        let templated = |s: &str| !rendered && is_template(s);

        let provider = match check.required("provider", &names()).as_str() {
            "" => None,
            name if templated(name) => None,
            name => {
                let provider = Provider::parse(name);
                if provider.is_none() {
                    check.error(format!("provider {name:?} is not one of {}", names()));
                }
                provider
            }
        };

        // A credential: never quoted.
        let api_key = check.credential("api_key", rendered);

        let base_url = check.base_url(
            rendered,
            provider.unwrap_or(Provider::SendGrid).default_base_url(),
        );

        let domain = check.text("domain");
        match (provider, &domain) {
            (Some(Provider::Mailgun), None) => {
                check.error("domain is required with provider mailgun (the sending domain, e.g. mg.example.com)")
            }
            (Some(Provider::Mailgun), Some(d)) if !templated(d) && !is_domain(d) => {
                check.error(format!("domain {d:?} is not a domain name"))
            }
            (Some(p), Some(_)) if p != Provider::Mailgun => {
                check.error("domain goes with provider mailgun only")
            }
            _ => {}
        }

        let from = check.required("from", "the sender's address");
        if !from.is_empty() && !templated(&from) && !is_address(&from) {
            check.error("from is not an email address");
        }
        let to = addresses(&mut check, "to", rendered);
        if to.is_empty() && !check.table.contains_key("to") {
            check.error("to is required (an address or a list of addresses)");
        }
        let cc = addresses(&mut check, "cc", rendered);
        let bcc = addresses(&mut check, "bcc", rendered);
        let reply_to = check.text("reply_to");
        if let Some(reply_to) = &reply_to
            && !templated(reply_to)
            && !is_address(reply_to)
        {
            check.error("reply_to is not an email address");
        }

        let subject = check.required("subject", "the subject line");
        if !templated(&subject) && !is_valid_header_value(&subject) {
            check.error("subject contains a line break or control character");
        }
        let text = check.text("text");
        let html = check.text("html");
        if text.is_none() && html.is_none() {
            check.error("text or html is required");
        }

        let idempotency_key = check.text("idempotency_key");
        match (provider, &idempotency_key) {
            (Some(p), Some(_)) if p != Provider::Resend => check.error(
                "idempotency_key goes with provider resend only (the others document no such key)",
            ),
            (_, Some(key)) if !templated(key) && !is_valid_header_value(key) => {
                check.error("idempotency_key contains a line break or control character")
            }
            (_, Some(key)) if rendered && key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS => check
                .error(format!(
                    "idempotency_key is longer than Resend's {MAX_IDEMPOTENCY_KEY_CHARS} characters"
                )),
            _ => {}
        }

        check.finish(EmailConfig {
            provider: provider.unwrap_or(Provider::SendGrid),
            api_key,
            base_url,
            domain,
            from,
            to,
            cc,
            bcc,
            reply_to,
            subject,
            text,
            html,
            idempotency_key,
        })
    }
}

/// `sendgrid, resend, postmark, mailgun`.
fn names() -> String {
    Provider::ALL.map(Provider::name).join(", ")
}

/// The addresses at `key`: one string, or a non-empty list of strings (before rendering, a
/// template that renders to either).
fn addresses(check: &mut ConfigCheck<'_>, key: &str, rendered: bool) -> Vec<String> {
    let templated = |s: &str| !rendered && is_template(s);
    let list: Vec<String> = match check.get(key) {
        None => return Vec::new(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(Value::Array(items))
            if !items.is_empty()
                && items
                    .iter()
                    .all(|i| i.as_str().is_some_and(|s| !s.is_empty())) =>
        {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect()
        }
        Some(_) => {
            check.error(format!(
                "{key} must be an address or a non-empty list of addresses"
            ));
            return Vec::new();
        }
    };
    let single = list.len() == 1 && !matches!(check.get(key), Some(Value::Array(_)));
    for (i, address) in list.iter().enumerate() {
        if !templated(address) && !is_address(address) {
            // Addresses are not quoted: they are personal data, and the position is enough.
            if single {
                check.error(format!("{key} is not an email address"));
            } else {
                check.error(format!("{key}[{i}] is not an email address"));
            }
        }
    }
    list
}

/// Whether `text` can be an address (`a@b`, or `Name <a@b>`): an `@`, and nothing that could
/// break a header or a comma-separated list out of its field.
pub fn is_address(text: &str) -> bool {
    let email = split_address(text).1;
    is_valid_header_value(text)
        && !text.contains('\t')
        && email.len() >= 3
        && email
            .split_once('@')
            .is_some_and(|(local, host)| !local.is_empty() && !host.is_empty())
        && !email.contains([' ', ',', '<', '>'])
}

/// `"Billing <billing@example.com>"` → `(Some("Billing"), "billing@example.com")`;
/// `"billing@example.com"` → `(None, "billing@example.com")`. Quotes around the name go.
pub fn split_address(text: &str) -> (Option<&str>, &str) {
    let text = text.trim();
    if let Some(inner) = text.strip_suffix('>')
        && let Some((name, email)) = inner.rsplit_once('<')
    {
        let name = name.trim().trim_matches('"').trim();
        return ((!name.is_empty()).then_some(name), email.trim());
    }
    (None, text)
}

/// A DNS name as Mailgun's sending domains are: letters, digits, `-` and `.`.
fn is_domain(text: &str) -> bool {
    !text.starts_with('.')
        && !text.ends_with('.')
        && text.contains('.')
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn full() -> Value {
        json!({
            "provider": "mailgun", "api_key": "key-secret", "domain": "mg.example.com",
            "base_url": "https://api.eu.mailgun.net/", "from": "Billing <billing@example.com>",
            "to": ["a@example.com", "B <b@example.com>"], "cc": "c@example.com",
            "bcc": ["d@example.com"], "reply_to": "help@example.com", "subject": "Paid",
            "text": "hi", "html": "<p>hi</p>"
        })
    }

    #[test]
    fn a_full_config() {
        let config = EmailConfig::parse(&full(), true).unwrap();
        assert_eq!(
            config,
            EmailConfig {
                provider: Provider::Mailgun,
                api_key: "key-secret".into(),
                base_url: "https://api.eu.mailgun.net".into(),
                domain: Some("mg.example.com".into()),
                from: "Billing <billing@example.com>".into(),
                to: vec!["a@example.com".into(), "B <b@example.com>".into()],
                cc: vec!["c@example.com".into()],
                bcc: vec!["d@example.com".into()],
                reply_to: Some("help@example.com".into()),
                subject: "Paid".into(),
                text: Some("hi".into()),
                html: Some("<p>hi</p>".into()),
                idempotency_key: None,
            }
        );
    }

    #[test]
    fn each_provider_defaults_to_its_public_address() {
        for (provider, url) in [
            ("sendgrid", "https://api.sendgrid.com"),
            ("resend", "https://api.resend.com"),
            ("postmark", "https://api.postmarkapp.com"),
        ] {
            let config = EmailConfig::parse(
                &json!({"provider": provider, "api_key": "k", "from": "a@b.c", "to": "d@e.f", "subject": "s", "html": "<p>x</p>"}),
                true,
            )
            .unwrap();
            assert_eq!(config.base_url, url);
            assert_eq!(config.provider.name(), provider);
            assert_eq!(config.to, vec!["d@e.f".to_owned()]);
            assert_eq!(config.domain, None);
        }
        let mut mailgun = full();
        mailgun.as_object_mut().unwrap().remove("base_url");
        let config = EmailConfig::parse(&mailgun, true).unwrap();
        assert_eq!(config.base_url, "https://api.mailgun.net");
    }

    #[test]
    fn mistakes_are_listed_without_quoting_secrets() {
        let err = EmailConfig::parse(
            &json!({"provider": "sendgrid", "api_key": "SG.secret\nkey", "domain": "x.com",
                    "from": "nobody", "to": ["ok@example.com", "nope"], "subject": "s", "colour": 1,
                    "idempotency_key": "k"}),
            true,
        )
        .unwrap_err();
        for part in [
            "unknown key \"colour\"",
            "api_key contains a line break",
            "domain goes with provider mailgun only",
            "idempotency_key goes with provider resend only",
            "from is not an email address",
            "to[1] is not an email address",
            "text or html is required",
        ] {
            assert!(err.contains(part), "{part}: {err}");
        }
        assert!(!err.contains("secret"), "{err}");

        let err = EmailConfig::parse(&json!({}), true).unwrap_err();
        for part in [
            "provider is required",
            "api_key is required",
            "from is required",
            "to is required",
            "subject is required",
            "text or html is required",
        ] {
            assert!(err.contains(part), "{part}: {err}");
        }
        // A value of the wrong type is one problem, not also a missing one.
        let err = EmailConfig::parse(
            &json!({"provider": 7, "api_key": 7, "from": 7, "to": "a@b.c", "subject": 7, "text": "t"}),
            true,
        )
        .unwrap_err();
        for key in ["provider", "api_key", "from", "subject"] {
            assert!(
                err.contains(&format!("{key} must be a non-empty string")),
                "{err}"
            );
            assert!(!err.contains(&format!("{key} is required")), "{err}");
        }
        let err = EmailConfig::parse(
            &json!({"provider": "smtp", "api_key": "k", "from": "a@b.c", "to": [], "subject": "s", "text": "t"}),
            true,
        )
        .unwrap_err();
        assert!(
            err.contains("provider \"smtp\" is not one of sendgrid, resend, postmark, mailgun"),
            "{err}"
        );
        assert!(
            err.contains("to must be an address or a non-empty list"),
            "{err}"
        );

        let mut no_domain = full();
        no_domain.as_object_mut().unwrap().remove("domain");
        let err = EmailConfig::parse(&no_domain, true).unwrap_err();
        assert!(
            err.contains("domain is required with provider mailgun"),
            "{err}"
        );
        let mut bad_domain = full();
        bad_domain["domain"] = json!("mg.example.com/../x");
        assert!(EmailConfig::parse(&bad_domain, true).is_err());
        let mut header_injection = full();
        header_injection["reply_to"] = json!("a@b.c\r\nBcc: evil@x.com");
        let err = EmailConfig::parse(&header_injection, true).unwrap_err();
        assert_eq!(err, "reply_to is not an email address");
        let mut bad_base = full();
        bad_base["base_url"] = json!("ftp://x");
        assert!(EmailConfig::parse(&bad_base, true).is_err());
    }

    #[test]
    fn templates_are_accepted_at_load() {
        let templated = json!({
            "provider": "{{ route }}", "api_key": "{{ x }}", "domain": "{{ event.metadata.domain }}",
            "base_url": "{{ event.metadata.url }}", "from": "{{ event.metadata.from }}",
            "to": "{{ event.payload.recipients }}", "cc": ["{{ event.payload.cc }}"],
            "reply_to": "{{ event.payload.reply }}", "subject": "Paid {{ event.amount }}",
            "text": "{{ event.id }}"
        });
        assert!(EmailConfig::parse(&templated, false).is_ok());
        assert!(EmailConfig::parse(&templated, true).is_err());
        // Once rendered, a single `{{ expr }}` may have become a list.
        let mut rendered = full();
        rendered["to"] = json!(["x@example.com"]);
        assert!(EmailConfig::parse(&rendered, true).is_ok());
        // A list with a non-string is refused even before rendering.
        let mut bad = full();
        bad["to"] = json!(["a@b.c", 1]);
        assert!(EmailConfig::parse(&bad, false).is_err());
    }

    #[test]
    fn addresses_and_names() {
        assert_eq!(split_address("a@b.c"), (None, "a@b.c"));
        assert_eq!(
            split_address("Billing Team <billing@example.com>"),
            (Some("Billing Team"), "billing@example.com")
        );
        assert_eq!(
            split_address("\"Doe, Jane\" <jane@example.com>"),
            (Some("Doe, Jane"), "jane@example.com")
        );
        assert_eq!(split_address("<a@b.c>"), (None, "a@b.c"));
        assert!(is_address("\"Doe, Jane\" <jane@example.com>"));
        for bad in [
            "",
            "nobody",
            "@b.c",
            "a@",
            "a, b@c.d",
            "a@b.c\n",
            "A <a b@c.d>",
        ] {
            assert!(!is_address(bad), "{bad:?}");
        }
    }
}
