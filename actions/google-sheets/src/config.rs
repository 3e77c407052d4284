//! The route `config` of a `google-sheets` route: a service-account key and the row to append.
//!
//! ```toml
//! config = { credentials = { file = "/etc/hookgate/sheets-writer.json" },
//!            spreadsheet_id = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms",
//!            range = "Payments!A1",
//!            values = ["{{ event.occurred_at }}", "{{ event.entity_id }}", "{{ event.amount | minor_to_major(event.currency) }}"] }
//! ```

use hookgate_sdk::api::{ConfigCheck, is_template};
use serde_json::Value;

/// The keys a `google-sheets` config may have.
pub const ALLOWED_KEYS: [&str; 7] = [
    "credentials",
    "spreadsheet_id",
    "range",
    "values",
    "value_input_option",
    "insert_data_option",
    "base_url",
];

/// The Sheets API's public address.
pub const DEFAULT_BASE_URL: &str = "https://sheets.googleapis.com";

/// Google's OAuth 2.0 token endpoint, for keys that do not name theirs.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// How the Sheets API reads the values: as typed into the UI (formulas, dates) or as they are.
pub const VALUE_INPUT_OPTIONS: [&str; 2] = ["USER_ENTERED", "RAW"];

/// Whether appended rows are inserted or overwrite what follows the table.
pub const INSERT_DATA_OPTIONS: [&str; 2] = ["INSERT_ROWS", "OVERWRITE"];

/// The parts of a service-account key the action uses.
#[derive(Clone, PartialEq)]
pub struct ServiceAccount {
    /// `client_email`: the assertion's issuer.
    pub client_email: String,
    /// `private_key`: the PEM the host signs with. Never logged: `Debug` leaves it out.
    pub private_key: String,
    /// `private_key_id`: the JWT header's `kid`, when the key has one.
    pub private_key_id: Option<String>,
    /// `token_uri`: where the assertion is exchanged for an access token.
    pub token_uri: String,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

/// A checked `google-sheets` config.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetsConfig {
    /// The service account (absent only before rendering, when `credentials` is a template).
    pub account: Option<ServiceAccount>,
    /// The spreadsheet's id (from its URL).
    pub spreadsheet_id: String,
    /// The A1 range whose table the rows are appended to (`Sheet1`, `Payments!A1`).
    pub range: String,
    /// The rows to append: one row (a list of cells) becomes a list of one row.
    pub rows: Value,
    /// `valueInputOption`.
    pub value_input_option: String,
    /// `insertDataOption`.
    pub insert_data_option: String,
    /// The API's base URL, without a trailing slash.
    pub base_url: String,
}

impl SheetsConfig {
    /// Checks and extracts the config; with `rendered` false (at load), templated values are
    /// accepted as written.
    pub fn parse(config: &Value, rendered: bool) -> Result<SheetsConfig, String> {
        let mut check = ConfigCheck::new(
            config,
            &ALLOWED_KEYS,
            "{ credentials = { file = \"key.json\" }, spreadsheet_id = \"…\", range = \"Sheet1\", values = [\"…\"] }",
        )?;
        let templated = |v: &str| !rendered && is_template(v);
        let account = match check.get("credentials") {
            None => {
                check.error(
                    "credentials is required (a service-account JSON key, usually { file = \"key.json\" })",
                );
                None
            }
            Some(Value::String(text)) if templated(text) => None,
            Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
                Ok(key) => service_account(&key, &mut check),
                Err(_) => {
                    check.error("credentials is not JSON (expected a service-account key file)");
                    None
                }
            },
            Some(key @ Value::Object(_)) => service_account(key, &mut check),
            Some(_) => {
                check.error("credentials must be a service-account JSON key");
                None
            }
        };
        let spreadsheet_id = check.required("spreadsheet_id", "the id in the sheet's URL");
        if !templated(&spreadsheet_id)
            && !spreadsheet_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            check.error("spreadsheet_id is not a spreadsheet id (letters, digits, - and _)");
        }
        let range = check.required("range", "an A1 range such as \"Sheet1\" or \"Payments!A1\"");
        let rows = match check.get("values") {
            Some(Value::Array(cells)) if !cells.is_empty() => {
                if cells.iter().all(Value::is_array) {
                    if rendered && cells.iter().any(|row| !row_ok(row)) {
                        check.error("values: every row must be a list of strings, numbers, booleans or nulls");
                    }
                    Value::Array(cells.clone())
                } else {
                    let row = Value::Array(cells.clone());
                    if rendered && !row_ok(&row) {
                        check.error("values must be one row (a list of cells) or a list of rows");
                    }
                    Value::Array(vec![row])
                }
            }
            Some(Value::String(s)) if templated(s) => Value::String(s.clone()),
            _ => {
                check.error("values is required: one row (a list of cells) or a list of rows");
                Value::Null
            }
        };
        let value_input_option = option(
            &mut check,
            "value_input_option",
            &VALUE_INPUT_OPTIONS,
            rendered,
        );
        let insert_data_option = option(
            &mut check,
            "insert_data_option",
            &INSERT_DATA_OPTIONS,
            rendered,
        );
        let base_url = check.base_url(rendered, DEFAULT_BASE_URL);
        check.finish(SheetsConfig {
            account,
            spreadsheet_id,
            range,
            rows,
            value_input_option,
            insert_data_option,
            base_url,
        })
    }
}

/// A row the API accepts: a list of scalar cells (objects and lists are not cell values).
fn row_ok(row: &Value) -> bool {
    row.as_array()
        .is_some_and(|cells| cells.iter().all(|c| !c.is_object() && !c.is_array()))
}

/// The value of an enumerated option, defaulting to its first allowed value.
fn option(check: &mut ConfigCheck, key: &str, allowed: &[&str], rendered: bool) -> String {
    match check.text(key) {
        None => allowed[0].to_owned(),
        Some(v) if allowed.contains(&v.as_str()) || (!rendered && is_template(&v)) => v,
        Some(_) => {
            check.error(format!("{key} must be one of {}", allowed.join(", ")));
            allowed[0].to_owned()
        }
    }
}

/// The service account of a key file; problems name fields, never values.
fn service_account(key: &Value, check: &mut ConfigCheck) -> Option<ServiceAccount> {
    let field = |name: &str| {
        key[name]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    if let Some(kind) = key["type"].as_str()
        && kind != "service_account"
    {
        check.error(format!(
            "credentials is a {kind:?} key; the action needs a service-account key (type \"service_account\")"
        ));
        return None;
    }
    let (Some(client_email), Some(private_key)) = (field("client_email"), field("private_key"))
    else {
        check.error(
            "credentials must have client_email and private_key (a service-account key file)",
        );
        return None;
    };
    if !private_key.contains("-----BEGIN") {
        check.error("credentials.private_key is not a PEM key");
        return None;
    }
    let token_uri = field("token_uri").unwrap_or_else(|| DEFAULT_TOKEN_URI.to_owned());
    if hookgate_sdk::http::Url::parse(&token_uri).is_err() {
        check.error("credentials.token_uri is not an http(s) URL");
        return None;
    }
    Some(ServiceAccount {
        client_email,
        private_key,
        private_key_id: field("private_key_id"),
        token_uri,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// A key file's fields (the PEM is a placeholder: these tests never sign).
    pub(crate) fn key() -> Value {
        json!({
            "type": "service_account",
            "project_id": "p",
            "private_key_id": "kid-1",
            "private_key": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
            "client_email": "writer@p.iam.gserviceaccount.com",
            "token_uri": "https://oauth2.googleapis.com/token",
        })
    }

    #[test]
    fn a_key_file_and_one_row() {
        let config = SheetsConfig::parse(
            &json!({"credentials": key().to_string(), "spreadsheet_id": "1Bxi-_9", "range": "Payments!A1", "values": ["a", 1, true, null]}),
            true,
        )
        .unwrap();
        let account = config.account.clone().unwrap();
        assert_eq!(account.client_email, "writer@p.iam.gserviceaccount.com");
        assert_eq!(account.private_key_id.as_deref(), Some("kid-1"));
        assert_eq!(config.rows, json!([["a", 1, true, null]]));
        assert_eq!(config.value_input_option, "USER_ENTERED");
        assert_eq!(config.insert_data_option, "INSERT_ROWS");
        assert_eq!(config.base_url, DEFAULT_BASE_URL);
        assert!(
            !format!("{config:?}").contains("BEGIN PRIVATE KEY"),
            "Debug leaves the key out"
        );
    }

    #[test]
    fn several_rows_a_table_key_and_options() {
        let config = SheetsConfig::parse(
            &json!({"credentials": key(), "spreadsheet_id": "x", "range": "S", "values": [["a"], ["b"]],
                    "value_input_option": "RAW", "insert_data_option": "OVERWRITE", "base_url": "http://127.0.0.1:9/"}),
            true,
        )
        .unwrap();
        assert_eq!(config.rows, json!([["a"], ["b"]]));
        assert_eq!(config.value_input_option, "RAW");
        assert_eq!(config.base_url, "http://127.0.0.1:9");
    }

    #[test]
    fn templates_are_accepted_before_rendering() {
        SheetsConfig::parse(
            &json!({"credentials": "{{ x }}", "spreadsheet_id": "{{ event.payload.sheet }}", "range": "S", "values": "{{ event.payload.rows }}"}),
            false,
        )
        .unwrap();
    }

    #[test]
    fn problems_are_named_never_quoted() {
        let mut wrong = key();
        wrong["type"] = json!("authorized_user");
        for (config, says) in [
            (json!({}), "credentials is required"),
            (
                json!({"credentials": "not json -----BEGIN"}),
                "credentials is not JSON",
            ),
            (
                json!({"credentials": wrong.to_string()}),
                "service-account key",
            ),
            (
                json!({"credentials": {"client_email": "a@b"}}),
                "client_email and private_key",
            ),
            (
                json!({"credentials": key(), "spreadsheet_id": "a/b"}),
                "not a spreadsheet id",
            ),
            (
                json!({"credentials": key(), "values": []}),
                "values is required",
            ),
            (
                json!({"credentials": key(), "values": [{"a": 1}]}),
                "one row",
            ),
            (
                json!({"credentials": key(), "value_input_option": "FORMULA"}),
                "USER_ENTERED, RAW",
            ),
            (
                json!({"credentials": key(), "base_url": "ftp://x"}),
                "not an http(s) URL",
            ),
            (json!({"credentials": key(), "sheet": "x"}), "unknown key"),
        ] {
            let error = SheetsConfig::parse(&config, true).unwrap_err();
            assert!(error.contains(says), "{config}: {error}");
            assert!(!error.contains("MIIB"), "{error}");
        }
        // A value of the wrong type is one problem, not also a missing one.
        let error = SheetsConfig::parse(
            &json!({"credentials": key(), "spreadsheet_id": 7, "range": "", "values": ["x"]}),
            true,
        )
        .unwrap_err();
        assert_eq!(
            error,
            "spreadsheet_id must be a non-empty string; range must be a non-empty string"
        );
    }
}
