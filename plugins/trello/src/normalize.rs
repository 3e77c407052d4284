//! Trello delivery → normalized event. One action per POST: `{"action": {...}, "model":
//! {...}}`, where `model` is the watched object (board, card, list, member) and
//! `action.data` names the objects acted on.

use hookgate_sdk::prelude::*;
use hookgate_sdk::serde_json::Value;

/// The objects of `action.data` an action can be about, most specific first: a comment on a
/// card names the card, its list and its board, and is about the card.
const ENTITIES: &[&str] = &[
    "card",
    "checklist",
    "list",
    "board",
    "organization",
    "member",
];

/// `createCard` → `create_card`: Trello's camelCase action types in hookgate's lower case.
pub fn snake_case(native: &str) -> String {
    let mut out = String::with_capacity(native.len() + 4);
    for (i, c) in native.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The normalized type of a Trello action type: Trello has no commerce events, so every type
/// is `trello.<snake case>`.
pub fn event_type(native: &str) -> String {
    format!("trello.{}", snake_case(native))
}

/// Normalizes one delivery.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    let action = &body["action"];
    let id = action["id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("action.id"))?;
    let native = action["type"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("action.type"))?;
    let mut event = Event::new(id, event_type(native))
        .meta("trello_type", native)
        .user(action["idMemberCreator"].as_str());
    if let Some(date) = action["date"].as_str() {
        event = event.occurred_at(date);
    }
    let data = &action["data"];
    event = match ENTITIES
        .iter()
        .find_map(|kind| data[*kind]["id"].as_str().map(|oid| (*kind, oid)))
    {
        Some((kind, oid)) => event.entity(kind, oid),
        None => match body["model"]["id"].as_str() {
            Some(model) => event.entity("model", model),
            None => event.entity("trello", id),
        },
    };
    if let Some(model) = body["model"]["id"].as_str() {
        event = event.meta("model_id", model);
    }
    if let Some(board) = data["board"]["id"].as_str() {
        event = event.meta("board_id", board);
    }
    if let Some(list) = data["list"]["id"].as_str() {
        event = event.meta("list_id", list);
    }
    if let Some(key) = action["display"]["translationKey"].as_str() {
        event = event.meta("translation_key", key);
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_mapping() {
        assert_eq!(event_type("createCard"), "trello.create_card");
        assert_eq!(
            event_type("updateCheckItemStateOnCard"),
            "trello.update_check_item_state_on_card"
        );
        assert_eq!(event_type("addMemberToBoard"), "trello.add_member_to_board");
    }

    #[test]
    fn the_entity_is_the_most_specific_object_acted_on() {
        let list = Request::post(
            r#"{"action":{"id":"a1","type":"createList","data":{"list":{"id":"l1"},"board":{"id":"b1"}}},"model":{"id":"b1"}}"#,
        );
        let e = normalize(&list).unwrap();
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("list"), Some("l1"))
        );
        let bare =
            Request::post(r#"{"action":{"id":"a2","type":"x","data":{}},"model":{"id":"m"}}"#);
        let e = normalize(&bare).unwrap();
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("model"), Some("m"))
        );
        let nothing = normalize(&Request::post(r#"{"action":{"id":"a3","type":"x"}}"#)).unwrap();
        assert_eq!(
            (nothing.entity_type.as_deref(), nothing.entity_id.as_deref()),
            (Some("trello"), Some("a3"))
        );
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post("not json")).is_err());
        assert!(normalize(&Request::post(r#"{"action":{"type":"createCard"}}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"action":{"id":"a1"}}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"model":{"id":"m"}}"#)).is_err());
    }
}
