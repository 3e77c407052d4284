//! Typeform webhook → normalized event: `typeform.<event_type>` (`typeform.form_response`),
//! about the response (`form_response.token`) within its form (`form_response.form_id`).
//!
//! Payment answers carry a decimal `amount` but no currency (that lives in the form's
//! settings), so no amount is set: a bare number without its currency is not money.

use hookgate_sdk::prelude::*;
use serde_json::Value;

/// Normalizes one Typeform delivery (Typeform sends one response per request).
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    let id = body["event_id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("event_id"))?;
    let native = body["event_type"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("event_type"))?;
    let response = &body["form_response"];
    let mut event = Event::new(id, format!("typeform.{}", native.to_ascii_lowercase()))
        .meta("typeform_event", native);
    event = match response["token"].as_str() {
        Some(token) => event.entity("form_response", token),
        None => event.entity("typeform", id),
    };
    let form_id = response["form_id"]
        .as_str()
        .or(response["definition"]["id"].as_str());
    if let Some(form_id) = form_id {
        event = event.meta("form_id", form_id);
    }
    // Submission time; a partial response has none yet, only when the form was opened.
    if let Some(time) = ["submitted_at", "landed_at"]
        .iter()
        .filter_map(|k| response[*k].as_str())
        .find(|t| parse_rfc3339(t).is_some())
    {
        event = event.occurred_at(time);
    }
    if let Some(ending) = response["ending"]["ref"].as_str() {
        event = event.meta("ending_ref", ending);
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_response() {
        let e = normalize(&Request::post(
            r#"{"event_id":"01KBYWTTXW2SXX86TBH2SGNCCS","event_type":"form_response_partial",
                "form_response":{"form_id":"lT4Z3j","token":"t1","landed_at":"2018-01-18T18:07:02Z"}}"#,
        ))
        .unwrap();
        assert_eq!(e.platform_event_id, "01KBYWTTXW2SXX86TBH2SGNCCS");
        assert_eq!(e.event_type, "typeform.form_response_partial");
        assert_eq!(e.entity_id.as_deref(), Some("t1"));
        assert_eq!(e.occurred_at.as_deref(), Some("2018-01-18T18:07:02Z"));
    }

    #[test]
    fn without_a_response_token_the_event_is_its_own_entity() {
        let e = normalize(&Request::post(
            r#"{"event_id":"e1","event_type":"form_response"}"#,
        ))
        .unwrap();
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("typeform"), Some("e1"))
        );
        assert_eq!(e.occurred_at, None);
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post("[]")).is_err());
        assert!(normalize(&Request::post(r#"{"event_type":"form_response"}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"event_id":"e1"}"#)).is_err());
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2018-01-18T18:17:02Z"), Some(1_516_299_422));
        assert_eq!(
            parse_rfc3339("2018-01-18T19:17:02.5+01:00"),
            Some(1_516_299_422)
        );
        for bad in [
            "",
            "2018-01-18",
            "2018-01-18 18:17:02Z",
            "2018-13-18T18:17:02Z",
            "2018-02-30T18:17:02Z",
            "2018-01-18T18:17:02",
            "2018-01-18T18:17:02.Z",
            "2018-01-18T18:17:02+0100",
            "+018-01-18T18:17:02Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
