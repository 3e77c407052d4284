//! Dropbox notification → normalized events: one per account in `list_folder.accounts`.
//!
//! A notification carries no id, type or time: only the accounts whose files changed (API v2
//! `list_folder.accounts`, `dbid:…` ids) and, from API v1, `delta.users` (numeric ids, ignored
//! here: every v2 notification lists the same users as accounts). The receiver then calls
//! `files/list_folder/continue` with its cursor for each account.

use hookgate_sdk::prelude::*;
use hookgate_sdk::serde_json::{Value, json};

/// The type of a file-change notification about one account.
pub const CHANGED: &str = "dropbox.list_folder.changed";
/// The type of a notification that lists no account (a shape this plugin does not know, such
/// as a team notification), kept whole.
pub const NOTIFICATION: &str = "dropbox.notification";

/// The id every event of this notification starts with: `sha256:` and the hex SHA-256 of the
/// raw (signed) body.
pub fn notification_id(body: &[u8]) -> String {
    format!("sha256:{}", hex_encode(&sha256(&[body])))
}

/// Normalizes one notification.
pub fn normalize(req: &Request) -> Result<Vec<Event>, NormalizeError> {
    let body: Value = req.json()?;
    if !body.is_object() {
        return Err(NormalizeError::new("body is not a JSON object"));
    }
    let id = notification_id(&req.body);
    let Some(accounts) = body["list_folder"]["accounts"].as_array() else {
        return Ok(vec![whole(&id)]);
    };
    if accounts.is_empty() {
        return Ok(vec![whole(&id)]);
    }
    accounts
        .iter()
        .map(|account| {
            let account = account
                .as_str()
                .filter(|a| !a.is_empty())
                .ok_or(NormalizeError::missing("list_folder.accounts[]"))?;
            Ok(changed(&id, account))
        })
        .collect()
}

/// One account's event; its payload is the notification as Dropbox would send it for that
/// account alone.
fn changed(notification: &str, account: &str) -> Event {
    Event::new(format!("{notification}:{account}"), CHANGED)
        .entity("account", account)
        .user(Some(account))
        .meta("notification", notification)
        .payload_json(&json!({ "list_folder": { "accounts": [account] } }))
}

/// A notification that names no account: about itself.
fn whole(notification: &str) -> Event {
    Event::new(notification, NOTIFICATION)
        .entity("dropbox", notification)
        .meta("notification", notification)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_account_is_an_event_with_its_own_id() {
        let body =
            r#"{"list_folder": {"accounts": ["dbid:A", "dbid:B"]}, "delta": {"users": [1, 2]}}"#;
        let events = normalize(&Request::post(body)).unwrap();
        let prefix = notification_id(body.as_bytes());
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].platform_event_id, format!("{prefix}:dbid:A"));
        assert_eq!(events[1].platform_event_id, format!("{prefix}:dbid:B"));
        assert_eq!(events[1].entity_id.as_deref(), Some("dbid:B"));
        assert_eq!(events[1].event_type, CHANGED);
    }

    #[test]
    fn the_id_is_the_same_for_the_same_bytes_only() {
        let a = normalize(&Request::post(r#"{"list_folder":{"accounts":["dbid:A"]}}"#)).unwrap();
        let again =
            normalize(&Request::post(r#"{"list_folder":{"accounts":["dbid:A"]}}"#)).unwrap();
        let spaced = normalize(&Request::post(
            r#"{"list_folder": {"accounts":["dbid:A"]}}"#,
        ))
        .unwrap();
        assert_eq!(a[0].platform_event_id, again[0].platform_event_id);
        assert_ne!(a[0].platform_event_id, spaced[0].platform_event_id);
    }

    #[test]
    fn a_notification_without_accounts_is_kept_whole() {
        let events = normalize(&Request::post(r#"{"delta": {"users": [12345]}}"#)).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type, NOTIFICATION);
        assert_eq!(events[0].entity_type.as_deref(), Some("dropbox"));
        assert_eq!(
            events[0].entity_id.as_deref(),
            Some(events[0].platform_event_id.as_str())
        );
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post("not json")).is_err());
        assert!(normalize(&Request::post("[]")).is_err());
        assert!(normalize(&Request::post(r#"{"list_folder":{"accounts":[42]}}"#)).is_err());
    }
}
