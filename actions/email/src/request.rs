//! The request of one attempt, per provider: pure.
//!
//! | provider | request |
//! | --- | --- |
//! | SendGrid | `POST {base}/v3/mail/send`, `Authorization: Bearer KEY`, JSON `{personalizations: [{to, cc, bcc}], from, reply_to, subject, content: [text/plain, text/html]}` |
//! | Resend | `POST {base}/emails`, `Authorization: Bearer KEY`, `Idempotency-Key: <event id>`, JSON `{from, to, cc, bcc, reply_to, subject, text, html}` |
//! | Postmark | `POST {base}/email`, `X-Postmark-Server-Token: KEY`, JSON `{From, To, Cc, Bcc, ReplyTo, Subject, TextBody, HtmlBody}` (address lists comma-separated) |
//! | Mailgun | `POST {base}/v3/{domain}/messages`, basic auth `api:KEY`, form `from`, `to` (once per recipient), `cc`, `bcc`, `subject`, `text`, `html`, `h:Reply-To` |
//!
//! Every request says `Accept: application/json` (Postmark requires it; SendGrid answers 406
//! without it) and names hookgate in `User-Agent`.

use crate::config::{EmailConfig, Provider, split_address};
use hookgate_sdk::encoding::percent_encode;
use hookgate_sdk::prelude::*;
use serde_json::{Map, Value, json};

/// `user-agent` of every request.
pub const USER_AGENT: &str = concat!("hookgate/", env!("CARGO_PKG_VERSION"));

/// The provider's send call for `config`; `event_id` is the idempotency key Resend honours
/// unless the route sets its own (the same for every attempt and replay of the event, so a
/// retry after a lost answer is not a second email).
pub fn build(config: &EmailConfig, event_id: &str) -> HttpRequest {
    let base = &config.base_url;
    let request = match config.provider {
        Provider::SendGrid => HttpRequest::new(Method::Post, format!("{base}/v3/mail/send"))
            .header("authorization", format!("Bearer {}", config.api_key))
            .header("content-type", "application/json")
            .body(sendgrid(config).to_string()),
        Provider::Resend => {
            let mut request = HttpRequest::new(Method::Post, format!("{base}/emails"))
                .header("authorization", format!("Bearer {}", config.api_key))
                .header("content-type", "application/json");
            let key = config.idempotency_key.as_deref().unwrap_or(event_id);
            if !key.is_empty() {
                request = request.header("idempotency-key", key);
            }
            request.body(resend(config).to_string())
        }
        Provider::Postmark => HttpRequest::new(Method::Post, format!("{base}/email"))
            .header("x-postmark-server-token", &config.api_key)
            .header("content-type", "application/json")
            .body(postmark(config).to_string()),
        Provider::Mailgun => {
            let domain = percent_encode(config.domain.as_deref().unwrap_or_default());
            let credentials = base64_encode(format!("api:{}", config.api_key).as_bytes());
            HttpRequest::new(Method::Post, format!("{base}/v3/{domain}/messages"))
                .header("authorization", format!("Basic {credentials}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(mailgun(config))
        }
    };
    request
        .header("accept", "application/json")
        .header("user-agent", USER_AGENT)
}

/// SendGrid's address object: `{"email"}`, with `"name"` when the address has one.
fn sendgrid_address(address: &str) -> Value {
    match split_address(address) {
        (Some(name), email) => json!({"email": email, "name": name}),
        (None, email) => json!({"email": email}),
    }
}

/// The Mail Send body. SendGrid refuses `content` whose `text/plain` does not come first.
fn sendgrid(config: &EmailConfig) -> Value {
    let list = |addresses: &[String]| {
        Value::Array(addresses.iter().map(|a| sendgrid_address(a)).collect())
    };
    let mut personalization = Map::new();
    personalization.insert("to".into(), list(&config.to));
    // SendGrid refuses an empty cc/bcc array: they appear only when set.
    if !config.cc.is_empty() {
        personalization.insert("cc".into(), list(&config.cc));
    }
    if !config.bcc.is_empty() {
        personalization.insert("bcc".into(), list(&config.bcc));
    }
    let mut content = Vec::new();
    if let Some(text) = &config.text {
        content.push(json!({"type": "text/plain", "value": text}));
    }
    if let Some(html) = &config.html {
        content.push(json!({"type": "text/html", "value": html}));
    }
    let mut body = Map::new();
    body.insert(
        "personalizations".into(),
        Value::Array(vec![Value::Object(personalization)]),
    );
    body.insert("from".into(), sendgrid_address(&config.from));
    if let Some(reply_to) = &config.reply_to {
        body.insert("reply_to".into(), sendgrid_address(reply_to));
    }
    body.insert("subject".into(), Value::String(config.subject.clone()));
    body.insert("content".into(), Value::Array(content));
    Value::Object(body)
}

/// Resend's body: addresses as written (it takes `Name <email>`), lists as arrays.
fn resend(config: &EmailConfig) -> Value {
    let mut body = Map::new();
    body.insert("from".into(), Value::String(config.from.clone()));
    body.insert("to".into(), json!(config.to));
    if !config.cc.is_empty() {
        body.insert("cc".into(), json!(config.cc));
    }
    if !config.bcc.is_empty() {
        body.insert("bcc".into(), json!(config.bcc));
    }
    if let Some(reply_to) = &config.reply_to {
        body.insert("reply_to".into(), Value::String(reply_to.clone()));
    }
    body.insert("subject".into(), Value::String(config.subject.clone()));
    if let Some(text) = &config.text {
        body.insert("text".into(), Value::String(text.clone()));
    }
    if let Some(html) = &config.html {
        body.insert("html".into(), Value::String(html.clone()));
    }
    Value::Object(body)
}

/// Postmark's body: PascalCase fields, several addresses comma-separated in one string.
fn postmark(config: &EmailConfig) -> Value {
    let mut body = Map::new();
    body.insert("From".into(), Value::String(config.from.clone()));
    body.insert("To".into(), Value::String(config.to.join(", ")));
    if !config.cc.is_empty() {
        body.insert("Cc".into(), Value::String(config.cc.join(", ")));
    }
    if !config.bcc.is_empty() {
        body.insert("Bcc".into(), Value::String(config.bcc.join(", ")));
    }
    if let Some(reply_to) = &config.reply_to {
        body.insert("ReplyTo".into(), Value::String(reply_to.clone()));
    }
    body.insert("Subject".into(), Value::String(config.subject.clone()));
    if let Some(text) = &config.text {
        body.insert("TextBody".into(), Value::String(text.clone()));
    }
    if let Some(html) = &config.html {
        body.insert("HtmlBody".into(), Value::String(html.clone()));
    }
    Value::Object(body)
}

/// Mailgun's form: one `to` (`cc`, `bcc`) field per recipient, Reply-To as the custom header
/// `h:Reply-To`.
fn mailgun(config: &EmailConfig) -> String {
    let mut fields: Vec<(&str, &str)> = vec![("from", &config.from)];
    fields.extend(config.to.iter().map(|a| ("to", a.as_str())));
    fields.extend(config.cc.iter().map(|a| ("cc", a.as_str())));
    fields.extend(config.bcc.iter().map(|a| ("bcc", a.as_str())));
    fields.push(("subject", &config.subject));
    if let Some(text) = &config.text {
        fields.push(("text", text));
    }
    if let Some(html) = &config.html {
        fields.push(("html", html));
    }
    if let Some(reply_to) = &config.reply_to {
        fields.push(("h:Reply-To", reply_to));
    }
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(provider: &str, extra: Value) -> EmailConfig {
        let mut table = json!({
            "provider": provider, "api_key": "KEY-1", "from": "Billing <billing@example.com>",
            "to": ["a@example.com", "Bee <b@example.com>"], "subject": "Paid $12.50",
            "text": "Paid.", "html": "<p>Paid.</p>", "reply_to": "help@example.com"
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                table.as_object_mut().unwrap().remove(k);
            } else {
                table[k] = v.clone();
            }
        }
        EmailConfig::parse(&table, true).unwrap()
    }

    fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
        request
            .headers()
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json_body(request: &HttpRequest) -> Value {
        serde_json::from_slice(request.body_bytes()).unwrap()
    }

    #[test]
    fn sendgrid_mail_send() {
        let request = build(&config("sendgrid", json!({"cc": "c@example.com"})), "evt_1");
        assert_eq!(request.method(), Method::Post);
        assert_eq!(request.url(), "https://api.sendgrid.com/v3/mail/send");
        assert_eq!(header(&request, "authorization"), Some("Bearer KEY-1"));
        assert_eq!(header(&request, "content-type"), Some("application/json"));
        assert_eq!(header(&request, "accept"), Some("application/json"));
        assert_eq!(header(&request, "idempotency-key"), None);
        assert_eq!(
            json_body(&request),
            json!({
                "personalizations": [{
                    "to": [{"email": "a@example.com"}, {"email": "b@example.com", "name": "Bee"}],
                    "cc": [{"email": "c@example.com"}],
                }],
                "from": {"email": "billing@example.com", "name": "Billing"},
                "reply_to": {"email": "help@example.com"},
                "subject": "Paid $12.50",
                "content": [
                    {"type": "text/plain", "value": "Paid."},
                    {"type": "text/html", "value": "<p>Paid.</p>"},
                ],
            })
        );
        // text/plain first even when only html follows it; html alone is one part.
        let html_only = EmailConfig {
            text: None,
            ..config("sendgrid", json!({}))
        };
        assert_eq!(
            json_body(&build(&html_only, ""))["content"],
            json!([{"type": "text/html", "value": "<p>Paid.</p>"}])
        );
    }

    #[test]
    fn resend_emails_with_the_event_id_as_idempotency_key() {
        let request = build(
            &config(
                "resend",
                json!({"base_url": "http://127.0.0.1:9/resend/", "bcc": ["x@example.com"]}),
            ),
            "evt_1",
        );
        assert_eq!(request.url(), "http://127.0.0.1:9/resend/emails");
        assert_eq!(header(&request, "authorization"), Some("Bearer KEY-1"));
        assert_eq!(header(&request, "idempotency-key"), Some("evt_1"));
        assert_eq!(header(&request, "content-type"), Some("application/json"));
        let own = build(
            &config("resend", json!({"idempotency_key": "evt_1-receipt"})),
            "evt_1",
        );
        assert_eq!(header(&own, "idempotency-key"), Some("evt_1-receipt"));
        assert_eq!(
            json_body(&request),
            json!({
                "from": "Billing <billing@example.com>",
                "to": ["a@example.com", "Bee <b@example.com>"],
                "bcc": ["x@example.com"],
                "reply_to": "help@example.com",
                "subject": "Paid $12.50",
                "text": "Paid.",
                "html": "<p>Paid.</p>",
            })
        );
    }

    #[test]
    fn postmark_email_with_the_server_token() {
        let request = build(&config("postmark", json!({"html": null})), "evt_1");
        assert_eq!(request.url(), "https://api.postmarkapp.com/email");
        assert_eq!(header(&request, "x-postmark-server-token"), Some("KEY-1"));
        assert_eq!(header(&request, "authorization"), None);
        assert_eq!(header(&request, "accept"), Some("application/json"));
        assert_eq!(header(&request, "idempotency-key"), None);
        assert_eq!(
            json_body(&request),
            json!({
                "From": "Billing <billing@example.com>",
                "To": "a@example.com, Bee <b@example.com>",
                "ReplyTo": "help@example.com",
                "Subject": "Paid $12.50",
                "TextBody": "Paid.",
            })
        );
    }

    #[test]
    fn mailgun_form_with_basic_auth() {
        let request = build(
            &config(
                "mailgun",
                json!({"domain": "mg.example.com", "base_url": "https://api.eu.mailgun.net", "cc": "c@example.com"}),
            ),
            "evt_1",
        );
        assert_eq!(
            request.url(),
            "https://api.eu.mailgun.net/v3/mg.example.com/messages"
        );
        // base64("api:KEY-1")
        assert_eq!(
            header(&request, "authorization"),
            Some("Basic YXBpOktFWS0x")
        );
        assert_eq!(
            header(&request, "content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(header(&request, "idempotency-key"), None);
        let pairs: Vec<(String, String)> = form_pairs(request.body_bytes())
            .into_iter()
            .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
            .collect();
        let expected: Vec<(String, String)> = [
            ("from", "Billing <billing@example.com>"),
            ("to", "a@example.com"),
            ("to", "Bee <b@example.com>"),
            ("cc", "c@example.com"),
            ("subject", "Paid $12.50"),
            ("text", "Paid."),
            ("html", "<p>Paid.</p>"),
            ("h:Reply-To", "help@example.com"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(pairs, expected);
    }
}
