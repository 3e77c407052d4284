//! Twilio request → normalized events. Twilio names no event type: a request is classified by
//! the resource it is about (`RecordingSid`, `TranscriptionSid`, `MessageSid`, `CallSid`) and
//! that resource's status (`twilio.message.received`, `twilio.message.delivered`,
//! `twilio.call.completed`…), or by the `EventType` products such as TaskRouter and
//! Conversations send. JSON bodies (Event Streams, signed through `bodySHA256`) are CloudEvents,
//! one or an array of them, each with its own `id` and `type`.

use crate::verify::{IDEMPOTENCY_TOKEN, body_hash_param, body_sha256};
use hookgate_sdk::prelude::*;
use serde_json::{Map, Value};

/// The answer to an accepted webhook: TwiML that does nothing (no reply to a message; for a
/// call, Twilio hangs up). Twilio reads the body of its Messaging and Voice requests as TwiML,
/// and ignores it for status callbacks.
pub const EMPTY_TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#;

/// Resources a form request can be about: the parameter naming it, the parameter carrying its
/// status, and the entity type. The first present wins (a recording callback names its call).
const RESOURCES: &[(&[&str], &[&str], &str)] = &[
    (&["RecordingSid"], &["RecordingStatus"], "recording"),
    (
        &["TranscriptionSid"],
        &["TranscriptionStatus"],
        "transcription",
    ),
    (
        &["MessageSid", "SmsSid", "SmsMessageSid"],
        &["MessageStatus", "SmsStatus"],
        "message",
    ),
    (&["CallSid"], &["CallStatus"], "call"),
];

/// Normalizes one Twilio request.
pub fn normalize(req: &Request) -> Result<Vec<Event>, NormalizeError> {
    if body_hash_param(&req.url).is_some() {
        json_events(req)
    } else {
        Ok(vec![form_event(req)])
    }
}

/// Empty TwiML for form requests (Messaging and Voice expect TwiML back); nothing particular
/// for JSON deliveries.
pub fn answer(req: &Request) -> Option<Response> {
    body_hash_param(&req.url)
        .is_none()
        .then(|| Response::ok("text/xml", EMPTY_TWIML))
}

/// The decoded form parameters, in the order sent.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(body: &[u8]) -> Params {
        Params(
            form_pairs(body)
                .into_iter()
                .map(|(k, v)| {
                    (
                        String::from_utf8_lossy(&k).into_owned(),
                        String::from_utf8_lossy(&v).into_owned(),
                    )
                })
                .collect(),
        )
    }

    /// The first non-empty value of `key`.
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The first non-empty value of any of `keys`.
    fn any(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|k| self.get(k))
    }

    /// The parameters as a JSON object (a repeated key becomes an array), so actions get JSON.
    fn to_json(&self) -> Value {
        let mut map = Map::new();
        for (key, value) in &self.0 {
            let value = Value::String(value.clone());
            match map.get_mut(key) {
                Some(Value::Array(values)) => values.push(value),
                Some(first) => *first = Value::Array(vec![first.take(), value]),
                None => {
                    map.insert(key.clone(), value);
                }
            }
        }
        Value::Object(map)
    }
}

/// One form request. Its id is Twilio's `I-Twilio-Idempotency-Token` (kept on retries, not
/// signed), else the SHA-256 of the signed body, which a retry repeats byte for byte.
fn form_event(req: &Request) -> Event {
    let params = Params::parse(&req.body);
    let id = req.header_text(IDEMPOTENCY_TOKEN).map_or_else(
        || format!("sha256:{}", body_sha256(&req.body)),
        str::to_owned,
    );
    let resource = RESOURCES.iter().find_map(|(sids, statuses, kind)| {
        params
            .any(sids)
            .map(|sid| (*kind, sid, params.any(statuses)))
    });
    let event_type = match (params.get("EventType"), resource) {
        (Some(native), _) => format!("twilio.{}", segment(native)),
        (None, Some((kind, _, Some(status)))) => format!("twilio.{kind}.{}", segment(status)),
        (None, Some((kind, _, None))) => format!("twilio.{kind}"),
        (None, None) => "twilio.webhook".to_owned(),
    };
    let mut event = Event::new(id.as_str(), event_type).payload_json(&params.to_json());
    event = match resource {
        Some((kind, sid, _)) => event.entity(kind, sid),
        None => event.entity("twilio", id.as_str()),
    };
    let status = resource.and_then(|(_, _, status)| status);
    // The party on Twilio's far side: the sender of what came in, the recipient otherwise.
    let inbound = params.get("Direction") == Some("inbound") || status == Some("received");
    event = event.user(params.get(if inbound { "From" } else { "To" }));
    if let Some(time) = params.get("Timestamp").and_then(rfc2822_to_rfc3339) {
        event = event.occurred_at(time);
    }
    for (key, param) in [
        ("account_sid", "AccountSid"),
        ("event_type", "EventType"),
        ("direction", "Direction"),
        ("error_code", "ErrorCode"),
    ] {
        if let Some(value) = params.get(param) {
            event = event.meta(key, value);
        }
    }
    if let Some(status) = status {
        event = event.meta("status", status);
    }
    event
}

/// Event Streams deliveries: CloudEvents, an array of them or one.
fn json_events(req: &Request) -> Result<Vec<Event>, NormalizeError> {
    match req.json::<Value>()? {
        Value::Array(items) => items
            .iter()
            .map(|item| cloud_event(item).map(|e| e.payload_json(item)))
            .collect(),
        item @ Value::Object(_) => Ok(vec![cloud_event(&item)?.whole_body()]),
        _ => Err(NormalizeError::new(
            "a JSON body must be a CloudEvent or an array of them",
        )),
    }
}

fn cloud_event(item: &Value) -> Result<Event, NormalizeError> {
    let id = item["id"].as_str().ok_or(NormalizeError::missing("id"))?;
    let native = item["type"]
        .as_str()
        .ok_or(NormalizeError::missing("type"))?;
    let data = &item["data"];
    let text = |keys: &[&str]| keys.iter().find_map(|k| data[*k].as_str());
    let short = native.strip_prefix("com.twilio.").unwrap_or(native);
    let mut event =
        Event::new(id, format!("twilio.{}", segment(short))).meta("twilio_type", native);
    event = if let Some(sid) = text(&["messageSid", "MessageSid", "message_sid"]) {
        event.entity("message", sid)
    } else if let Some(sid) = text(&["callSid", "CallSid", "call_sid"]) {
        event.entity("call", sid)
    } else {
        event.entity("twilio", id)
    };
    if let Some(time) = item["time"].as_str().or(text(&["timestamp"])) {
        event = event.occurred_at(time);
    }
    if let Some(account) = text(&["accountSid", "AccountSid", "account_sid"]) {
        event = event.meta("account_sid", account);
    }
    Ok(event)
}

/// A native name as a type segment: lower case, `[a-z0-9._-]`, anything else `_`.
fn segment(native: &str) -> String {
    native
        .trim()
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Voice's `Timestamp` (`Mon, 16 Aug 2010 03:45:01 +0000`, RFC 2822) as RFC 3339 UTC.
pub fn rfc2822_to_rfc3339(text: &str) -> Option<String> {
    let (date, zone) = text.trim().rsplit_once(' ')?;
    let offset_secs = match zone {
        "GMT" | "UT" | "UTC" | "Z" => 0,
        _ => {
            let (sign, digits) = zone.split_at_checked(1)?;
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let hours: i64 = digits.get(..2)?.parse().ok()?;
            let minutes: i64 = digits.get(2..)?.parse().ok()?;
            let secs = (hours * 60 + minutes) * 60;
            match sign {
                "+" => secs,
                "-" => -secs,
                _ => return None,
            }
        }
    };
    let local = parse_http_date(&format!("{date} GMT"))?;
    Some(rfc3339_from_unix(local - offset_secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(body: &str) -> Request {
        Request::post(body).with_header("content-type", "application/x-www-form-urlencoded")
    }

    fn one(req: &Request) -> Event {
        let mut events = normalize(req).unwrap();
        assert_eq!(events.len(), 1);
        events.remove(0)
    }

    #[test]
    fn resources_and_statuses_name_the_type() {
        let cases = [
            (
                "MessageSid=SM1&SmsStatus=received&From=%2B1",
                "twilio.message.received",
                "message",
                Some("+1"),
            ),
            (
                "MessageSid=SM1&MessageStatus=delivered&To=%2B2&From=%2B1",
                "twilio.message.delivered",
                "message",
                Some("+2"),
            ),
            (
                "CallSid=CA1&CallStatus=in-progress&Direction=inbound&From=%2B1",
                "twilio.call.in-progress",
                "call",
                Some("+1"),
            ),
            (
                "CallSid=CA1&RecordingSid=RE1&RecordingStatus=completed",
                "twilio.recording.completed",
                "recording",
                None,
            ),
            (
                "EventType=task.created&TaskSid=WT1",
                "twilio.task.created",
                "twilio",
                None,
            ),
            (
                "EventType=onMessageAdded&MessageSid=IM1",
                "twilio.onmessageadded",
                "message",
                None,
            ),
            ("Foo=bar", "twilio.webhook", "twilio", None),
        ];
        for (body, event_type, entity_type, user) in cases {
            let event = one(&form(body));
            assert_eq!(event.event_type, event_type, "{body}");
            assert_eq!(event.entity_type.as_deref(), Some(entity_type), "{body}");
            assert_eq!(event.user_id.as_deref(), user, "{body}");
        }
    }

    #[test]
    fn the_id_is_the_idempotency_token_else_the_body_hash() {
        let body = "MessageSid=SM1&SmsStatus=received";
        let with = form(body).with_header(IDEMPOTENCY_TOKEN, "tok-1");
        assert_eq!(one(&with).platform_event_id, "tok-1");
        assert_eq!(
            one(&form(body)).platform_event_id,
            format!("sha256:{}", body_sha256(body.as_bytes()))
        );
        // Without a resource, the entity is the event itself.
        let event = one(&form("Foo=bar").with_header(IDEMPOTENCY_TOKEN, "tok-2"));
        assert_eq!(event.entity_id.as_deref(), Some("tok-2"));
    }

    #[test]
    fn the_payload_is_the_parameters_as_json() {
        let event = one(&form("A=1&B=x+y&A=2&C="));
        let hookgate_sdk::event::Payload::Json(text) = event.payload else {
            panic!("form requests carry their parameters as JSON");
        };
        assert_eq!(text, r#"{"A":["1","2"],"B":"x y","C":""}"#);
    }

    #[test]
    fn voice_timestamps_are_rfc_2822() {
        assert_eq!(
            rfc2822_to_rfc3339("Mon, 16 Aug 2010 03:45:01 +0000").as_deref(),
            Some("2010-08-16T03:45:01Z")
        );
        assert_eq!(
            rfc2822_to_rfc3339("Mon, 16 Aug 2010 03:45:01 -0130").as_deref(),
            Some("2010-08-16T05:15:01Z")
        );
        assert_eq!(rfc2822_to_rfc3339("yesterday"), None);
        assert_eq!(rfc2822_to_rfc3339("Mon, 16 Aug 2010 03:45:01 +01"), None);
    }

    #[test]
    fn event_streams_batches_split_into_events() {
        let body = r#"[{"specversion":"1.0","type":"com.twilio.messaging.message.delivered","id":"EZ1","time":"2025-01-01T00:00:00Z","data":{"messageSid":"SM1","accountSid":"AC1"}},{"specversion":"1.0","type":"com.twilio.voice.status-callback.call.completed","id":"EZ2","data":{"callSid":"CA1"}}]"#;
        let req = Request {
            url: format!(
                "https://h.example/t?bodySHA256={}",
                body_sha256(body.as_bytes())
            ),
            ..Request::post(body)
        };
        let events = normalize(&req).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(
            (
                events[0].platform_event_id.as_str(),
                events[0].event_type.as_str()
            ),
            ("EZ1", "twilio.messaging.message.delivered")
        );
        assert_eq!(events[0].entity_id.as_deref(), Some("SM1"));
        assert_eq!(
            events[0].occurred_at.as_deref(),
            Some("2025-01-01T00:00:00Z")
        );
        assert_eq!(
            events[1].event_type,
            "twilio.voice.status-callback.call.completed"
        );
        assert_eq!(events[1].entity_type.as_deref(), Some("call"));
        assert!(answer(&req).is_none());
        let missing = Request {
            body: br#"[{"type":"x"}]"#.to_vec(),
            ..req
        };
        assert!(normalize(&missing).is_err());
    }

    #[test]
    fn form_requests_are_answered_with_empty_twiml() {
        let answer = answer(&form("MessageSid=SM1")).unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.headers, [("content-type".into(), "text/xml".into())]);
        assert_eq!(
            answer.body,
            br#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#
        );
    }
}
