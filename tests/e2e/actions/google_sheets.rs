//! `google-sheets` against a loopback double of Google's token endpoint and the Sheets API:
//! the JWT-bearer grant signed by the host (checked against the key's public half), the token
//! fetched once and reused from the host's cache, a refused token fetched again, and the
//! append request's shape.

use super::gateway;
use crate::delivery::{admin, job_with_status, send};
use hookgate_testkit::{Receiver, Reply};
use ring::signature::{KeyPair, RSA_PKCS1_2048_8192_SHA256, RsaKeyPair, UnparsedPublicKey};

/// The host's RSA test key (`host/src/runtime/testdata`), as a service account's key.
const PEM: &str = include_str!("../../../host/src/runtime/testdata/rsa-2048.pem");
const APPEND: &str = "/v4/spreadsheets/1SheetId_x/values/Payments%21A1:append";

fn public_key() -> Vec<u8> {
    use base64::Engine as _;
    let body: String = PEM.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    RsaKeyPair::from_pkcs8(&der)
        .unwrap()
        .public_key()
        .as_ref()
        .to_vec()
}

fn decode(segment: &str) -> serde_json::Value {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sheets_rows_use_one_cached_token_signed_by_the_host() {
    let google = Receiver::start().await;
    google.script(
        "/token",
        [
            Reply::status(200).body(
                r#"{"access_token":"ya29.first-token","expires_in":3599,"token_type":"Bearer"}"#,
            ),
            Reply::status(200).body(
                r#"{"access_token":"ya29.second-token","expires_in":3599,"token_type":"Bearer"}"#,
            ),
        ],
    );
    google.script(
        APPEND,
        [
            Reply::status(503).body(
                r#"{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}"#,
            ),
            Reply::status(200).body(r#"{"spreadsheetId":"1SheetId_x","updates":{"updatedRows":1}}"#),
        ],
    );
    google.set_default(
        APPEND,
        Reply::status(200).body(r#"{"spreadsheetId":"1SheetId_x","updates":{"updatedRows":1}}"#),
    );
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("sheets-writer.json");
    let key = serde_json::json!({
        "type": "service_account",
        "project_id": "hookgate-test",
        "private_key_id": "kid-0001",
        "private_key": PEM,
        "client_email": "writer@hookgate-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": google.url("/token"),
    });
    std::fs::write(&key_file, key.to_string()).unwrap();
    let routes = format!(
        r#"
[[routes]]
name = "sheet"
source = "stripe"
action = "google-sheets"
retry = {{ schedule = ["1s"] }}
config = {{ credentials = {{ file = "{key}" }}, spreadsheet_id = "1SheetId_x", range = "Payments!A1", base_url = "{base}", values = ["{{{{ event.entity_id }}}}", "{{{{ event.amount | minor_to_major(event.currency) }}}}", "{{{{ event.currency | upper }}}}"] }}
"#,
        key = key_file.display(),
        base = google.url(""),
    );
    let gw = gateway("google-sheets-action", &routes, &[]).await;

    let first = send(&gw, "evt_sheet_1").await;
    let job = job_with_status(&gw, &first, "sheet", "delivered").await;
    assert_eq!(job["attempts"], 2, "the 503 was retried: {job}");
    let second = send(&gw, "evt_sheet_2").await;
    job_with_status(&gw, &second, "sheet", "delivered").await;

    let tokens = google.received("/token");
    assert_eq!(
        tokens.len(),
        1,
        "one token for three appends, from the host's cache"
    );
    let grant = &tokens[0];
    assert_eq!(
        grant.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form: Vec<(String, String)> = url_pairs(&grant.body);
    assert_eq!(
        form[0],
        (
            "grant_type".into(),
            "urn:ietf:params:oauth:grant-type:jwt-bearer".into()
        )
    );
    let assertion = &form[1].1;
    let parts: Vec<&str> = assertion.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(
        decode(parts[0]),
        serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "kid-0001"})
    );
    let claims = decode(parts[1]);
    assert_eq!(
        claims["iss"],
        "writer@hookgate-test.iam.gserviceaccount.com"
    );
    assert_eq!(claims["aud"], google.url("/token"));
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/spreadsheets"
    );
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        3600
    );
    let signature = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[2])
            .unwrap()
    };
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key())
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("the host's RS256 signature verifies with the key's public half");

    let appends = google.received(APPEND);
    assert_eq!(appends.len(), 3);
    for append in &appends {
        assert_eq!(
            append.header("authorization"),
            Some("Bearer ya29.first-token")
        );
    }
    // `minor_to_major` renders exact decimal text; USER_ENTERED makes the sheet read it as a
    // number, as if typed.
    assert_eq!(
        appends[2].json(),
        serde_json::json!({"range": "Payments!A1", "majorDimension": "ROWS", "values": [["pi_evt_sheet_2", "12.50", "USD"]]})
    );

    // A token the API refuses is dropped and fetched again, within the same attempt.
    google.script(
        APPEND,
        [Reply::status(401).body(
            r#"{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}"#,
        )],
    );
    let third = send(&gw, "evt_sheet_3").await;
    let job = job_with_status(&gw, &third, "sheet", "delivered").await;
    assert_eq!(job["attempts"], 1, "{job}");
    assert_eq!(google.received("/token").len(), 2);
    let appends = google.received(APPEND);
    assert_eq!(
        appends.last().unwrap().header("authorization"),
        Some("Bearer ya29.second-token")
    );

    let detail = admin(&gw, &format!("/admin/events/{first}"))
        .await
        .to_string();
    assert!(detail.contains("UNAVAILABLE"), "{detail}");
    assert!(!detail.contains("ya29."), "{detail}");
    assert!(!detail.contains("PRIVATE KEY"), "{detail}");
    let routes = admin(&gw, "/admin/routes").await.to_string();
    assert!(!routes.contains("PRIVATE KEY"), "{routes}");
    assert!(!gw.logs().contains("ya29."), "no access token in the logs");
    assert!(gw.leaked_secrets().is_empty());
}

/// The pairs of a form body, decoded.
fn url_pairs(body: &[u8]) -> Vec<(String, String)> {
    hookgate_sdk::encoding::form_pairs(body)
        .into_iter()
        .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
        .collect()
}
