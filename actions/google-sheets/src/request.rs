//! The append request of one attempt: pure.

use crate::config::SheetsConfig;
use hookgate_sdk::prelude::*;
use serde_json::json;

/// `POST {base_url}/v4/spreadsheets/{id}/values/{range}:append` with the rows as a
/// `ValueRange` (`majorDimension` ROWS), the value-input and insert options in the query, and
/// the access token as a bearer token. The range is one path segment, percent-encoded (a sheet
/// name may hold spaces, quotes and `!`).
pub fn build(config: &SheetsConfig, access_token: &str) -> HttpRequest {
    let url = format!(
        "{}/v4/spreadsheets/{}/values/{}:append?valueInputOption={}&insertDataOption={}",
        config.base_url,
        percent_encode(&config.spreadsheet_id),
        percent_encode(&config.range),
        percent_encode(&config.value_input_option),
        percent_encode(&config.insert_data_option),
    );
    let body = json!({
        "range": config.range,
        "majorDimension": "ROWS",
        "values": config.rows,
    });
    HttpRequest::new(Method::Post, url)
        .header("authorization", format!("Bearer {access_token}"))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::key;

    #[test]
    fn appends_rows_to_the_range() {
        let config = SheetsConfig::parse(
            &json!({"credentials": key(), "spreadsheet_id": "1Bxi", "range": "'Q1 Sales'!A1",
                    "values": ["2026-12-04", 12.5], "base_url": "http://127.0.0.1:9"}),
            true,
        )
        .unwrap();
        let request = build(&config, "ya29.t");
        assert_eq!(
            request.url(),
            "http://127.0.0.1:9/v4/spreadsheets/1Bxi/values/%27Q1%20Sales%27%21A1:append?valueInputOption=USER_ENTERED&insertDataOption=INSERT_ROWS"
        );
        let body: serde_json::Value = serde_json::from_slice(request.body_bytes()).unwrap();
        assert_eq!(
            body,
            json!({"range": "'Q1 Sales'!A1", "majorDimension": "ROWS", "values": [["2026-12-04", 12.5]]})
        );
    }
}
