//! Meta batch → one normalized event per `entry[].changes[]` item (Graph fields: WhatsApp
//! `messages`, Page `feed`, Instagram `comments`, …) and per `entry[].messaging[]` /
//! `entry[].standby[]` item (Messenger and Instagram messaging).
//!
//! **Ids.** Meta sends no delivery id, so each event's id comes from the signed body and must
//! be the same when Meta redelivers the batch:
//! - a WhatsApp change holding one message: its `wamid.…` (globally unique); holding one status
//!   update: `<wamid>:<status>` (one message goes through `sent`, `delivered`, `read`);
//! - a Messenger message: its `mid`; an edit: `<mid>:edit:<num_edit>`;
//! - anything else (Page feed changes, reactions, postbacks, reads, batched WhatsApp items):
//!   `<object>:<entry id>[:<entry time>]:<field or kind>:<hex SHA-256 of the item>`, the hash
//!   taken over the item re-serialized with sorted keys, so it depends on the item's content
//!   only. Two identical items at the same entry time are the same event.
//!
//! **Types** are `meta.<object>.<field>` for changes (`meta.whatsapp_business_account.messages`,
//! `meta.page.feed`) and `meta.<object>.messaging.<kind>` (or `.standby.<kind>`) for messaging
//! items (`meta.page.messaging.message`, `meta.instagram.messaging.postback`). Times come in
//! seconds, milliseconds or strings of seconds depending on the product; all become RFC 3339.

use hookgate_sdk::prelude::*;
use serde_json::Value;

/// Normalizes one Meta notification batch.
pub fn normalize(req: &Request) -> Result<Vec<Event>, NormalizeError> {
    let body: Value = req.json()?;
    let object = body["object"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("object"))?;
    let entries = body["entry"]
        .as_array()
        .ok_or(NormalizeError::missing("entry"))?;
    let mut events = Vec::new();
    for entry in entries {
        let context = Entry::of(object, entry);
        for change in items(&entry["changes"]) {
            events.push(change_event(&context, change));
        }
        for (list, item) in [
            ("messaging", &entry["messaging"]),
            ("standby", &entry["standby"]),
        ]
        .into_iter()
        .flat_map(|(list, items_of)| items(items_of).map(move |item| (list, item)))
        {
            events.push(messaging_event(&context, list, item));
        }
    }
    if events.is_empty() {
        return Err(NormalizeError::new(
            "the batch holds no entry[].changes[] or entry[].messaging[] item",
        ));
    }
    Ok(events)
}

fn items(list: &Value) -> impl Iterator<Item = &Value> {
    list.as_array().into_iter().flatten()
}

/// What every event of one entry shares.
struct Entry<'a> {
    object: &'a str,
    id: String,
    time: Option<i64>,
}

impl<'a> Entry<'a> {
    fn of(object: &'a str, entry: &Value) -> Self {
        Entry {
            object,
            id: text(&entry["id"]).unwrap_or_default(),
            time: entry["time"].as_i64(),
        }
    }

    /// The fallback id: the entry, the field or kind, and the item's content.
    fn derived_id(&self, name: &str, item: &Value) -> String {
        let hash = hex_encode(&sha256(&[item.to_string().as_bytes()]));
        match self.time {
            Some(time) => format!("{}:{}:{time}:{name}:{hash}", self.object, self.id),
            None => format!("{}:{}:{name}:{hash}", self.object, self.id),
        }
    }

    /// An event with the entry's facts; the object named by the entry when nothing finer is.
    fn event(&self, id: String, event_type: String) -> Event {
        let mut event = Event::new(id, event_type).meta("object", self.object);
        if !self.id.is_empty() {
            event = event
                .entity(self.object, self.id.as_str())
                .meta("entry_id", self.id.as_str());
        }
        if let Some(secs) = self.time.and_then(unix_secs) {
            event = event.occurred_at_unix(secs);
        }
        event
    }
}

/// One `changes[]` item: `{"field": …, "value": {…}}`.
fn change_event(entry: &Entry, change: &Value) -> Event {
    let field = change["field"]
        .as_str()
        .filter(|f| !f.is_empty())
        .unwrap_or("change");
    let value = &change["value"];
    let whatsapp = WhatsApp::of(value);
    let id = whatsapp
        .as_ref()
        .map(WhatsApp::id)
        .unwrap_or_else(|| entry.derived_id(field, change));
    let event_type = format!("meta.{}.{}", segment(entry.object), segment(field));
    let mut event = entry
        .event(id.clone(), event_type)
        .meta("field", field)
        .payload_json(change);
    if event.entity_id.is_none() {
        event = event.entity(entry.object, id);
    }
    match whatsapp {
        Some(item) => item.describe(event, value),
        None => graph_change(event, value),
    }
}

/// A WhatsApp change holding exactly one message or one status update.
enum WhatsApp<'a> {
    Message(&'a Value),
    Status(&'a Value),
}

impl<'a> WhatsApp<'a> {
    fn of(value: &'a Value) -> Option<Self> {
        let one = |key: &str| match value[key].as_array().map(Vec::as_slice) {
            Some([item]) if item["id"].as_str().is_some_and(|id| !id.is_empty()) => Some(item),
            _ => None,
        };
        let none = |key: &str| value[key].as_array().is_none_or(Vec::is_empty);
        match (one("messages"), one("statuses")) {
            (Some(message), None) if none("statuses") => Some(WhatsApp::Message(message)),
            (None, Some(status)) if none("messages") => {
                status["status"].as_str()?;
                Some(WhatsApp::Status(status))
            }
            _ => None,
        }
    }

    fn id(&self) -> String {
        match self {
            WhatsApp::Message(message) => message["id"].as_str().unwrap_or_default().to_owned(),
            WhatsApp::Status(status) => format!(
                "{}:{}",
                status["id"].as_str().unwrap_or_default(),
                status["status"].as_str().unwrap_or_default()
            ),
        }
    }

    fn describe(&self, mut event: Event, value: &Value) -> Event {
        if let Some(phone) = value["metadata"]["phone_number_id"].as_str() {
            event = event.meta("phone_number_id", phone);
        }
        let item = match self {
            WhatsApp::Message(item) | WhatsApp::Status(item) => *item,
        };
        if let Some(wamid) = item["id"].as_str() {
            event = event.entity("message", wamid);
        }
        if let Some(secs) = text(&item["timestamp"]).and_then(|t| parse_unix_secs(&t)) {
            event = event.occurred_at_unix(secs);
        }
        match self {
            WhatsApp::Message(message) => {
                event = event
                    .user(message["from"].as_str())
                    .meta("whatsapp", "message");
                if let Some(kind) = message["type"].as_str() {
                    event = event.meta("message_type", kind);
                }
                if let Some((minor, currency)) = order_total(&message["order"]) {
                    event = event.amount(minor, &currency);
                }
            }
            WhatsApp::Status(status) => {
                event = event
                    .user(status["recipient_id"].as_str())
                    .meta("whatsapp", "status");
                if let Some(state) = status["status"].as_str() {
                    event = event.meta("status", state);
                }
            }
        }
        event
    }
}

/// A Graph change other than a single WhatsApp item: the comment, post or media it is about,
/// its author, its time, and `item` / `verb` (`comment` / `add`).
fn graph_change(mut event: Event, value: &Value) -> Event {
    for (key, kind) in [
        ("comment_id", "comment"),
        ("post_id", "post"),
        ("media_id", "media"),
    ] {
        if let Some(id) = text(&value[key]) {
            event = event.entity(kind, id);
            break;
        }
    }
    event = event.user(text(&value["from"]["id"]));
    if let Some(secs) = value["created_time"].as_i64().and_then(unix_secs) {
        event = event.occurred_at_unix(secs);
    }
    for key in ["item", "verb"] {
        if let Some(text) = value[key].as_str() {
            event = event.meta(key, text);
        }
    }
    event
}

/// The payload keys of a messaging item, the most specific first.
const MESSAGING_KINDS: &[&str] = &[
    "message_edit",
    "message",
    "reaction",
    "postback",
    "read",
    "delivery",
    "referral",
    "optin",
    "account_linking",
    "pass_thread_control",
    "take_thread_control",
    "request_thread_control",
    "app_roles",
    "policy_enforcement",
];

/// One `messaging[]` / `standby[]` item: `{"sender", "recipient", "timestamp", <kind>: {…}}`.
fn messaging_event(entry: &Entry, list: &str, item: &Value) -> Event {
    let kind = MESSAGING_KINDS
        .iter()
        .copied()
        .find(|k| item.get(*k).is_some())
        .or_else(|| {
            item.as_object()?
                .keys()
                .map(String::as_str)
                .find(|k| !matches!(*k, "sender" | "recipient" | "timestamp"))
        })
        .unwrap_or("item");
    let payload = &item[kind];
    let echo = payload["is_echo"].as_bool() == Some(true);
    let kind_name = if kind == "message" && echo {
        "message_echo"
    } else {
        kind
    };
    let mid = payload["mid"].as_str().filter(|m| !m.is_empty());
    let id = match (kind, mid) {
        ("message", Some(mid)) => mid.to_owned(),
        ("message_edit", Some(mid)) => {
            format!(
                "{mid}:edit:{}",
                text(&payload["num_edit"]).unwrap_or_default()
            )
        }
        _ => entry.derived_id(&format!("{list}.{kind_name}"), item),
    };
    let event_type = format!(
        "meta.{}.{list}.{}",
        segment(entry.object),
        segment(kind_name)
    );
    let mut event = entry
        .event(id.clone(), event_type)
        .meta("kind", kind_name)
        .payload_json(item);
    event = match mid {
        Some(mid) => event.entity("message", mid),
        None if event.entity_id.is_none() => event.entity(entry.object, id),
        None => event,
    };
    // For an echo the page is the sender; the person is the recipient.
    let person = if echo { "recipient" } else { "sender" };
    event = event.user(text(&item[person]["id"]));
    if let Some(secs) = item["timestamp"].as_i64().and_then(unix_secs) {
        event = event.occurred_at_unix(secs);
    }
    event
}

/// The total of a WhatsApp `order`: the sum of `item_price × quantity` in minor units, when
/// every item has the same currency. Prices are JSON numbers in major units; their text is
/// converted exactly, digit by digit (a price that is not a plain decimal gives no amount).
fn order_total(order: &Value) -> Option<(i64, String)> {
    let items = order["product_items"].as_array()?;
    let mut total: i64 = 0;
    let mut currency: Option<String> = None;
    for item in items {
        let code = item["currency"].as_str()?.to_ascii_uppercase();
        if currency.as_ref().is_some_and(|c| *c != code) {
            return None;
        }
        let price = match &item["item_price"] {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => return None,
        };
        let unit = decimal_to_minor_units(&price, &code).ok()?;
        let quantity = item["quantity"].as_i64().unwrap_or(1);
        total = total.checked_add(unit.checked_mul(quantity)?)?;
        currency = Some(code);
    }
    currency.map(|c| (total, c))
}

/// Unix seconds from seconds or milliseconds (Messenger writes milliseconds, Graph seconds):
/// anything past the year 5138 in seconds is taken for milliseconds.
fn unix_secs(value: i64) -> Option<i64> {
    (value > 0).then_some(if value > 99_999_999_999 {
        value / 1000
    } else {
        value
    })
}

/// A string or number as text (Meta writes ids both ways).
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A name as one lower-case type segment.
fn segment(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(body: &str) -> Vec<Event> {
        normalize(&Request::post(body.to_owned())).unwrap()
    }

    #[test]
    fn one_event_per_change_and_per_messaging_item() {
        let e = events(
            r#"{"object":"page","entry":[
                {"id":"1","time":1520383571,"changes":[
                    {"field":"feed","value":{"item":"comment","verb":"add","comment_id":"1_2","post_id":"1_3","created_time":1520383570,"from":{"id":"9"}}},
                    {"field":"feed","value":{"item":"reaction","verb":"add","post_id":"1_3"}}]},
                {"id":"1","time":1520383572000,"messaging":[
                    {"sender":{"id":"u1"},"recipient":{"id":"1"},"timestamp":1520383572123,"message":{"mid":"m_1","text":"hi"}}],
                 "standby":[
                    {"sender":{"id":"u2"},"recipient":{"id":"1"},"timestamp":1520383573000,"read":{"watermark":1520383572000}}]}]}"#,
        );
        assert_eq!(e.len(), 4);
        assert_eq!(e[0].event_type, "meta.page.feed");
        assert_eq!(
            (e[0].entity_type.as_deref(), e[0].entity_id.as_deref()),
            (Some("comment"), Some("1_2"))
        );
        assert_eq!(e[0].user_id.as_deref(), Some("9"));
        assert_eq!(e[0].occurred_at.as_deref(), Some("2018-03-07T00:46:10Z"));
        assert_eq!(e[1].entity_type.as_deref(), Some("post"));
        assert_ne!(e[0].platform_event_id, e[1].platform_event_id);
        assert!(
            e[1].platform_event_id
                .starts_with("page:1:1520383571:feed:")
        );
        assert_eq!(e[2].event_type, "meta.page.messaging.message");
        assert_eq!(e[2].platform_event_id, "m_1");
        assert_eq!(e[2].user_id.as_deref(), Some("u1"));
        assert_eq!(e[2].occurred_at.as_deref(), Some("2018-03-07T00:46:12Z"));
        assert_eq!(e[3].event_type, "meta.page.standby.read");
        assert_eq!(
            (e[3].entity_type.as_deref(), e[3].entity_id.as_deref()),
            (Some("page"), Some("1"))
        );
        // Each event's payload is its own item.
        assert_eq!(
            e[2].to_json()["payload"]["message"]["mid"],
            serde_json::json!("m_1")
        );
    }

    #[test]
    fn derived_ids_are_stable_and_tell_items_apart() {
        let body = r#"{"object":"page","entry":[{"id":"1","time":5,"changes":[{"field":"feed","value":{"verb":"edited","message":"a","post_id":"1_3"}},{"field":"feed","value":{"post_id":"1_3","message":"b","verb":"edited"}}]}]}"#;
        let first = events(body);
        let again = events(body);
        assert_eq!(first[0].platform_event_id, again[0].platform_event_id);
        assert_ne!(first[0].platform_event_id, first[1].platform_event_id);
        // The hash is over the content, not its key order.
        let reordered = events(
            r#"{"object":"page","entry":[{"time":5,"id":"1","changes":[{"value":{"post_id":"1_3","message":"a","verb":"edited"},"field":"feed"}]}]}"#,
        );
        assert_eq!(reordered[0].platform_event_id, first[0].platform_event_id);
    }

    #[test]
    fn whatsapp_statuses_are_one_event_per_state() {
        let status = |state: &str| {
            events(&format!(
                r#"{{"object":"whatsapp_business_account","entry":[{{"id":"102290129340398","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"phone_number_id":"106540352242922"}},"statuses":[{{"id":"wamid.HBgL","status":"{state}","timestamp":"1603086313","recipient_id":"16505551234"}}]}}}}]}}]}}"#
            ))
            .remove(0)
        };
        let delivered = status("delivered");
        assert_eq!(delivered.platform_event_id, "wamid.HBgL:delivered");
        assert_eq!(status("read").platform_event_id, "wamid.HBgL:read");
        assert_eq!(delivered.entity_id.as_deref(), Some("wamid.HBgL"));
        assert_eq!(delivered.user_id.as_deref(), Some("16505551234"));
        assert_eq!(
            delivered.occurred_at.as_deref(),
            Some("2020-10-19T05:45:13Z")
        );
        assert!(
            delivered
                .metadata
                .contains(&("status".into(), "delivered".into()))
        );
    }

    #[test]
    fn a_whatsapp_order_is_money() {
        let e = events(
            r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[{"id":"wamid.ORDER","from":"16505551234","timestamp":"1603069091","type":"order","order":{"catalog_id":"c1","product_items":[{"product_retailer_id":"p1","quantity":2,"item_price":19.99,"currency":"USD"},{"product_retailer_id":"p2","quantity":1,"item_price":5,"currency":"USD"}]}}]}}]}]}"#,
        );
        assert_eq!(
            (e[0].amount, e[0].currency.as_deref()),
            (Some(4498), Some("USD"))
        );
        assert_eq!(
            order_total(&serde_json::json!({"product_items":[
                {"quantity":1,"item_price":1,"currency":"USD"},
                {"quantity":1,"item_price":1,"currency":"EUR"}]})),
            None
        );
        assert_eq!(
            order_total(
                &serde_json::json!({"product_items":[{"quantity":1,"item_price":1.005,"currency":"USD"}]})
            ),
            None
        );
    }

    #[test]
    fn several_whatsapp_items_in_one_change_fall_back_to_a_derived_id() {
        let e = events(
            r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[{"id":"wamid.A","from":"1"},{"id":"wamid.B","from":"1"}]}}]}]}"#,
        );
        assert_eq!(e.len(), 1);
        assert!(
            e[0].platform_event_id
                .starts_with("whatsapp_business_account:1:messages:")
        );
        assert_eq!(
            (e[0].entity_type.as_deref(), e[0].entity_id.as_deref()),
            (Some("whatsapp_business_account"), Some("1"))
        );
    }

    #[test]
    fn messenger_echoes_edits_and_reactions() {
        let e = events(
            r#"{"object":"page","entry":[{"id":"1","time":1,"messaging":[
                {"sender":{"id":"1"},"recipient":{"id":"u1"},"timestamp":1700000000000,"message":{"mid":"m_2","is_echo":true,"text":"hello"}},
                {"sender":{"id":"u1"},"recipient":{"id":"1"},"timestamp":1700000001000,"message_edit":{"mid":"m_1","text":"hi!","num_edit":1}},
                {"sender":{"id":"u1"},"recipient":{"id":"1"},"timestamp":1700000002000,"reaction":{"mid":"m_2","action":"react","reaction":"love"}}]}]}"#,
        );
        assert_eq!(e[0].event_type, "meta.page.messaging.message_echo");
        assert_eq!(e[0].user_id.as_deref(), Some("u1"));
        assert_eq!(e[1].platform_event_id, "m_1:edit:1");
        assert_eq!(e[1].event_type, "meta.page.messaging.message_edit");
        assert_eq!(e[2].event_type, "meta.page.messaging.reaction");
        assert_eq!(e[2].entity_id.as_deref(), Some("m_2"));
        assert_ne!(e[2].platform_event_id, "m_2");
    }

    #[test]
    fn unusable_batches_are_errors() {
        assert!(normalize(&Request::post("not json")).is_err());
        assert!(normalize(&Request::post(r#"{"entry":[]}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"object":"page"}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"object":"page","entry":[]}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"object":"page","entry":[{"id":"1"}]}"#)).is_err());
    }
}
