//! Editing a JSON body without re-serializing it. `hookgate send` re-stamps bodies whose
//! signature or freshness lives inside them (Linear's `webhookTimestamp`, Mailgun's
//! `signature`); everything else must reach the gateway byte for byte, in the member order and
//! spacing the operator wrote, so only the one value's bytes are replaced.

use serde_json::Value;
use std::ops::Range;

/// `body` with the top-level member `key` set to the JSON text `value`: its old value's bytes
/// replaced, or the member inserted first when absent. `None` when `body` is not one JSON
/// object. `value` is inserted as given; the caller makes it valid JSON.
pub fn set_member(body: &[u8], key: &str, value: &[u8]) -> Option<Vec<u8>> {
    let members = object_members(body)?;
    Some(match members.iter().find(|(name, _)| name == key) {
        Some((_, range)) => splice(body, range.clone(), value),
        None => {
            let open = body.iter().position(|&b| b == b'{').map_or(0, |at| at + 1);
            let mut member = Value::String(key.to_owned()).to_string().into_bytes();
            member.push(b':');
            member.extend_from_slice(value);
            if !members.is_empty() {
                member.push(b',');
            }
            splice(body, open..open, &member)
        }
    })
}

fn splice(body: &[u8], range: Range<usize>, with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + with.len());
    out.extend_from_slice(&body[..range.start]);
    out.extend_from_slice(with);
    out.extend_from_slice(&body[range.end..]);
    out
}

/// The top-level members of a JSON object: each key and the byte range of its value, found
/// with serde_json's own parser so strings, escapes and nesting are read exactly. `None` when
/// the body is not one JSON object.
fn object_members(body: &[u8]) -> Option<Vec<(String, Range<usize>)>> {
    let mut at = skip_whitespace(body, 0);
    if body.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_whitespace(body, at + 1);
    let mut members = Vec::new();
    if body.get(at) == Some(&b'}') {
        return (skip_whitespace(body, at + 1) == body.len()).then_some(members);
    }
    loop {
        let (Value::String(key), end) = value_at(body, at)? else {
            return None;
        };
        at = skip_whitespace(body, end);
        if body.get(at) != Some(&b':') {
            return None;
        }
        let start = skip_whitespace(body, at + 1);
        let (_, end) = value_at(body, start)?;
        members.push((key, start..end));
        at = skip_whitespace(body, end);
        match body.get(at) {
            Some(b',') => at = skip_whitespace(body, at + 1),
            Some(b'}') => {
                return (skip_whitespace(body, at + 1) == body.len()).then_some(members);
            }
            _ => return None,
        }
    }
}

/// The JSON value starting at `start`, and where it ends.
fn value_at(body: &[u8], start: usize) -> Option<(Value, usize)> {
    let mut stream = serde_json::Deserializer::from_slice(body.get(start..)?).into_iter::<Value>();
    let value = stream.next()?.ok()?;
    Some((value, start + stream.byte_offset()))
}

fn skip_whitespace(body: &[u8], mut at: usize) -> usize {
    while matches!(body.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(body: &str, key: &str, value: &str) -> Option<String> {
        set_member(body.as_bytes(), key, value.as_bytes()).map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn replaces_only_the_value_bytes() {
        assert_eq!(
            set(r#"{ "b" : [1, {"t": 2}],  "t":  5 , "z":"}" }"#, "t", "9").as_deref(),
            Some(r#"{ "b" : [1, {"t": 2}],  "t":  9 , "z":"}" }"#)
        );
        // An escaped key is the same key.
        assert_eq!(
            set(r#"{"\u0074":1}"#, "t", "2").as_deref(),
            Some(r#"{"\u0074":2}"#)
        );
    }

    #[test]
    fn inserts_first_when_absent() {
        assert_eq!(
            set(r#"{"a":1}"#, "t", "2").as_deref(),
            Some(r#"{"t":2,"a":1}"#)
        );
        assert_eq!(set(" { } ", "t", "2").as_deref(), Some(r#" {"t":2 } "#));
        assert_eq!(set("{}", "q\"", "1").as_deref(), Some(r#"{"q\"":1}"#));
    }

    #[test]
    fn anything_but_one_object_is_refused() {
        for body in [
            "",
            "[]",
            "{",
            r#"{"a":1} {}"#,
            r#"{"a" 1}"#,
            r#"{1:2}"#,
            "{\"a\":1,}",
        ] {
            assert_eq!(set(body, "t", "1"), None, "{body}");
        }
    }
}
