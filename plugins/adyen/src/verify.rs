//! Adyen's notification HMAC: for each `NotificationRequestItem`, base64 of
//! `HMAC-SHA256(hex_decode(key), "{pspReference}:{originalReference}:{merchantAccountCode}:
//! {merchantReference}:{amount.value}:{amount.currency}:{eventCode}:{success}")`, the value in
//! the item's `additionalData.hmacSignature`. A missing field is an empty string between its
//! colons; nothing is escaped (the `\:` escaping of Adyen's libraries belongs to the legacy
//! payment-page signatures, not to webhooks).

use hookgate_sdk::prelude::*;
use serde_json::{Map, Value};

/// Where in `additionalData` an item carries its signature.
pub const SIGNATURE_FIELD: &str = "hmacSignature";

/// The signed fields, in signing order: a top-level key, or `amount` and its sub-key.
const SIGNED_FIELDS: [(&str, Option<&str>); 8] = [
    ("pspReference", None),
    ("originalReference", None),
    ("merchantAccountCode", None),
    ("merchantReference", None),
    ("amount", Some("value")),
    ("amount", Some("currency")),
    ("eventCode", None),
    ("success", None),
];

/// Verifies an Adyen notification: every item must carry a signature that one of the
/// configured keys made.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let body: Value = serde_json::from_slice(&req.body).map_err(|_| {
        VerifyError::malformed("body is not JSON: Adyen signs the notification items inside it")
    })?;
    let items = items(&body).ok_or_else(|| {
        VerifyError::malformed("body has no notificationItems[].NotificationRequestItem")
    })?;
    for item in items {
        verify_item(item, ctx)?;
    }
    Ok(())
}

/// The `NotificationRequestItem` objects of a notification; `None` unless there is at least
/// one and every element of `notificationItems` is one.
fn items(body: &Value) -> Option<Vec<&Map<String, Value>>> {
    let items: Option<Vec<_>> = body
        .get("notificationItems")?
        .as_array()?
        .iter()
        .map(|element| element.get("NotificationRequestItem")?.as_object())
        .collect();
    items.filter(|items| !items.is_empty())
}

fn verify_item(item: &Map<String, Value>, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let signature = match item
        .get("additionalData")
        .and_then(|d| d.get(SIGNATURE_FIELD))
    {
        None | Some(Value::Null) => return Err(VerifyError::MissingSignature),
        Some(Value::String(s)) if s.trim().is_empty() => {
            return Err(VerifyError::MissingSignature);
        }
        Some(Value::String(s)) => base64_decode(s.trim())
            .map_err(|_| VerifyError::malformed("hmacSignature is not base64"))?,
        Some(_) => return Err(VerifyError::malformed("hmacSignature is not a string")),
    };
    let message = signing_string(item).map_err(VerifyError::malformed)?;
    ctx.verify_any_secret(|secret| {
        hmac_key(secret)
            .is_some_and(|key| hmac_verify(Hash::Sha256, &key, &[message.as_bytes()], &signature))
    })
}

/// The string Adyen signs for an item. A field of another type than string, number or
/// boolean (which Adyen never sends) is an error naming it.
pub fn signing_string(item: &Map<String, Value>) -> Result<String, String> {
    let mut parts = Vec::with_capacity(SIGNED_FIELDS.len());
    for (key, sub) in SIGNED_FIELDS {
        let value = match sub {
            None => item.get(key),
            Some(sub) => item.get(key).and_then(|v| v.get(sub)),
        };
        parts.push(scalar(value).ok_or_else(|| {
            let name = sub.map_or_else(|| key.to_owned(), |sub| format!("{key}.{sub}"));
            format!("{name} is not a string or number")
        })?);
    }
    Ok(parts.join(":"))
}

/// A signed field as Adyen's libraries write it: absent or null is empty, numbers in decimal.
fn scalar(value: Option<&Value>) -> Option<String> {
    match value {
        None | Some(Value::Null) => Some(String::new()),
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        Some(_) => None,
    }
}

/// The HMAC key: the Customer Area shows it as hex, which Adyen's libraries decode. `None`
/// for a secret that is not hex, which then matches nothing.
fn hmac_key(secret: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(secret).ok()?.trim();
    hex_decode(text).ok().filter(|key| !key.is_empty())
}

/// The signature of one item under `key`, as Adyen writes it.
pub fn sign_item(key: &[u8], item: &Map<String, Value>) -> Result<String, String> {
    let message = signing_string(item)?;
    Ok(base64_encode(&hmac(
        Hash::Sha256,
        key,
        &[message.as_bytes()],
    )))
}

/// The body `hookgate send` posts: the operator's notification with every item's
/// `additionalData.hmacSignature` set under the source's key (compact JSON).
pub fn sign_body(req: &Request, ctx: &SignContext) -> Result<Vec<u8>, SignError> {
    let key = hmac_key(&ctx.secret).ok_or_else(|| {
        SignError::invalid("the secret must be Adyen's HMAC key: 64 hex characters")
    })?;
    let not_a_notification = || {
        SignError::invalid(
            "the body must be an Adyen notification: {\"notificationItems\":[{\"NotificationRequestItem\":{…}}]}",
        )
    };
    let mut body: Value = serde_json::from_slice(&req.body).map_err(|_| not_a_notification())?;
    let elements = body
        .get_mut("notificationItems")
        .and_then(Value::as_array_mut)
        .filter(|elements| !elements.is_empty())
        .ok_or_else(not_a_notification)?;
    for element in elements {
        let item = element
            .get_mut("NotificationRequestItem")
            .and_then(Value::as_object_mut)
            .ok_or_else(not_a_notification)?;
        let signature = sign_item(&key, item).map_err(SignError::invalid)?;
        let data = item
            .entry("additionalData")
            .or_insert_with(|| Value::Object(Map::new()));
        if data.is_null() {
            *data = Value::Object(Map::new());
        }
        data.as_object_mut()
            .ok_or_else(|| SignError::invalid("additionalData must be an object"))?
            .insert(SIGNATURE_FIELD.into(), Value::String(signature));
    }
    serde_json::to_vec(&body).map_err(|e| SignError::invalid(e.to_string()))
}

/// Adyen sends no signature header: [`sign_body`] puts the signatures in the body, so there
/// is no header to add.
pub fn signed_headers(
    _req: &Request,
    _ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::SECRET;
    use serde_json::json;

    /// The item of Adyen's Node library test "should have valid hmac", with its signature.
    fn adyen_test_item(signature: &str) -> Value {
        json!({
            "pspReference": "pspReference",
            "originalReference": "originalReference",
            "merchantAccountCode": "merchantAccount",
            "merchantReference": "reference",
            "amount": {"currency": "EUR", "value": 1000},
            "eventCode": "CAPTURE",
            "eventDate": "1970-01-01T00:00:00.000Z",
            "paymentMethod": "VISA",
            "reason": "reason",
            "success": "true",
            "additionalData": {"hmacSignature": signature},
        })
    }

    fn notification(items: &[Value]) -> Request {
        let items: Vec<Value> = items
            .iter()
            .map(|i| json!({ "NotificationRequestItem": i }))
            .collect();
        Request::post(json!({"live": "false", "notificationItems": items}).to_string())
    }

    fn ctx() -> VerifyContext {
        VerifyContext::new(SECRET, 0)
    }

    fn key() -> Vec<u8> {
        hmac_key(SECRET).unwrap()
    }

    #[test]
    fn adyen_published_signing_strings_and_signatures() {
        // Adyen Node library, hmacValidator.spec.ts: the data to sign and its HMAC.
        let item = adyen_test_item("x");
        assert_eq!(
            signing_string(item.as_object().unwrap()).unwrap(),
            "pspReference:originalReference:merchantAccount:reference:1000:EUR:CAPTURE:true"
        );
        assert_eq!(
            sign_item(&key(), item.as_object().unwrap()).unwrap(),
            "xhpHvYq2u2Np0rstbZ6QjLGu7JWhvf7Iwaa6EviJSX0="
        );
        // Adyen's other published vectors (Node spec and tools), over the raw strings.
        for (data, expected) in [
            (
                "pspReference:originalReference:merchantAccount:reference:1000:EUR:EVENT:true",
                "ipnxGCaUZ4l8TUW75a71/ghd2Fe5ffvX0pV4TLTntIc=",
            ),
            (
                "pspReference:originalReference:merchantAccount:reference:1000:EUR:REPORT_AVAILABLE:true",
                "ZNBPtI+oDyyRrLyD1XirkKnQgIAlFc07Vj27TeHsDRE=",
            ),
        ] {
            assert_eq!(
                base64_encode(&hmac(Hash::Sha256, &key(), &[data.as_bytes()])),
                expected
            );
        }
    }

    #[test]
    fn the_published_item_verifies_and_a_changed_signed_field_does_not() {
        let good = adyen_test_item("xhpHvYq2u2Np0rstbZ6QjLGu7JWhvf7Iwaa6EviJSX0=");
        assert_eq!(
            verify(&notification(std::slice::from_ref(&good)), &ctx()),
            Ok(())
        );
        // Lower-case hex is the same key.
        let lower = VerifyContext::new(
            String::from_utf8(SECRET.to_vec()).unwrap().to_lowercase(),
            0,
        );
        assert_eq!(
            verify(&notification(std::slice::from_ref(&good)), &lower),
            Ok(())
        );
        let mut more = good.clone();
        more["amount"]["value"] = json!(100_000);
        assert_eq!(
            verify(&notification(&[more]), &ctx()),
            Err(VerifyError::SignatureMismatch)
        );
        // Unsigned fields are not covered, as in Adyen's own libraries.
        let mut later = good;
        later["eventDate"] = json!("2030-01-01T00:00:00Z");
        assert_eq!(verify(&notification(&[later]), &ctx()), Ok(()));
    }

    #[test]
    fn missing_fields_are_empty_and_colons_are_not_escaped() {
        let item = json!({
            "pspReference": "AB1234567890",
            "merchantAccountCode": "Merchant 1",
            "merchantReference": "TEST-2017-02-01-14:02:05",
            "amount": {"value": 32500, "currency": "EUR"},
            "eventCode": "AUTHORISATION",
            "success": "true",
        });
        assert_eq!(
            signing_string(item.as_object().unwrap()).unwrap(),
            "AB1234567890::Merchant 1:TEST-2017-02-01-14:02:05:32500:EUR:AUTHORISATION:true"
        );
        let bare = json!({"pspReference": "P"});
        assert_eq!(
            signing_string(bare.as_object().unwrap()).unwrap(),
            "P:::::::"
        );
        let odd = json!({"pspReference": ["P"]});
        assert!(signing_string(odd.as_object().unwrap()).is_err());
    }

    #[test]
    fn every_item_of_a_batch_must_verify() {
        let sign = |mut item: Value, key: &[u8]| {
            let sig = sign_item(key, item.as_object().unwrap()).unwrap();
            item["additionalData"] = json!({ "hmacSignature": sig });
            item
        };
        let a = json!({"pspReference": "A", "eventCode": "AUTHORISATION", "success": "true"});
        let b = json!({"pspReference": "B", "eventCode": "AUTHORISATION", "success": "true"});
        let (a, b_good) = (sign(a, &key()), sign(b.clone(), &key()));
        assert_eq!(verify(&notification(&[a.clone(), b_good]), &ctx()), Ok(()));
        let b_other = sign(b.clone(), b"another key");
        assert_eq!(
            verify(&notification(&[a.clone(), b_other]), &ctx()),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            verify(&notification(&[a, b]), &ctx()),
            Err(VerifyError::MissingSignature)
        );
    }

    #[test]
    fn unusable_bodies_and_signatures_are_refused() {
        let malformed =
            |req: &Request| matches!(verify(req, &ctx()), Err(VerifyError::MalformedSignature(_)));
        assert!(malformed(&Request::post("[accepted]")));
        assert!(malformed(&Request::post(r#"{"notificationItems":[]}"#)));
        assert!(malformed(&Request::post(
            r#"{"notificationItems":[{"Other":{}}]}"#
        )));
        assert!(malformed(&notification(&[adyen_test_item("***")])));
        assert_eq!(
            verify(&notification(&[adyen_test_item("")]), &ctx()),
            Err(VerifyError::MissingSignature)
        );
        // A secret that is not hex matches nothing.
        let not_hex = VerifyContext::new("DFB1EB54-not-hex", 0);
        let good = adyen_test_item("xhpHvYq2u2Np0rstbZ6QjLGu7JWhvf7Iwaa6EviJSX0=");
        assert_eq!(
            verify(&notification(&[good]), &not_hex),
            Err(VerifyError::SignatureMismatch)
        );
    }
}
