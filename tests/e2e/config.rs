//! Bad configs are refused at start with messages naming the file and the field.

use crate::{binary, plugin};
use std::process::Command;

fn run(args: &[&str], dir: &std::path::Path) -> (i32, String) {
    let out = Command::new(binary())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run hookgate");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout),
    )
}

/// `hookgate check` of `body` with `plugins` in the config's plugin directory: its exit code
/// and output.
pub fn check_with_plugins(body: &str, plugins: &[std::path::PathBuf]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let plugin_dir = dir.path().join("plugins");
    std::fs::create_dir_all(&plugin_dir).unwrap();
    for file in plugins {
        std::fs::copy(file, plugin_dir.join(file.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        dir.path().join("hookgate.toml"),
        format!("[server]\nlisten = \"127.0.0.1:0\"\n{body}"),
    )
    .unwrap();
    run(&["check", "--config", "hookgate.toml"], dir.path())
}

#[test]
fn bad_configs_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(plugin("stripe"), plugins.join("stripe.wasm")).unwrap();
    let cases: &[(&str, &[&str])] = &[
        (
            "[server]\nlisten = \"not an address\"\n",
            &["server.listen"],
        ),
        (
            "[server]\nlisten = \"127.0.0.1:0\"\nmax_body_byte = 5\n",
            &["unknown field", "max_body_byte"],
        ),
        (
            "[sources.s]\nplugin = \"stripe\"\nsecrets = [{ env = \"HOOKGATE_E2E_UNSET_VAR\" }]\n",
            &["sources.s.secrets[0]", "HOOKGATE_E2E_UNSET_VAR"],
        ),
        (
            "[plugins]\ncall_timeout_ms = 0\n[storage]\nbackend = \"mongo\"\n",
            &["plugins.call_timeout_ms", "storage.backend"],
        ),
        // Valid TOML, but the loaded plugin requires a secret the source does not configure.
        (
            "[server]\nlisten = \"127.0.0.1:0\"\n[sources.s]\nplugin = \"stripe\"\n",
            &["sources.s.secrets", "requires"],
        ),
        // The plugin checks the source's settings: Stripe takes none.
        (
            "[server]\nlisten = \"127.0.0.1:0\"\n[sources.s]\nplugin = \"stripe\"\nsecrets = [\"whsec_x\"]\nconfig = { verify_tokn = \"t\" }\n",
            &[
                "sources.s.config.verify_tokn",
                "not a setting of this platform",
            ],
        ),
    ];
    for (text, needles) in cases {
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, text).unwrap();
        for command in ["serve", "check"] {
            let (code, output) = run(&[command, "--config", "bad.toml"], dir.path());
            assert_ne!(code, 0, "{command} accepted {text:?}");
            assert!(
                output.contains("bad.toml"),
                "{command}: no file name in: {output}"
            );
            for needle in *needles {
                assert!(
                    output.contains(needle),
                    "{command} {text:?}: expected {needle:?} in: {output}"
                );
            }
        }
    }
}

#[test]
fn no_config_file_says_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let (code, output) = run(&["serve"], dir.path());
    assert_ne!(code, 0);
    assert!(
        output.contains("--config") && output.contains("examples/hookgate.toml"),
        "{output}"
    );
}

#[test]
fn check_accepts_the_example_config_and_lists_plugins() {
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hookgate.toml");
    let (code, output) = run(
        &["check", "--config", example.to_str().unwrap()],
        std::path::Path::new("."),
    );
    assert_eq!(code, 0, "{output}");
    for name in ["stripe", "github", "shopify", "slack", "standard-webhooks"] {
        assert!(
            output.contains(&format!("plugin {name} ")),
            "{name} missing from: {output}"
        );
    }
}

/// `examples/workflows.toml` (the README's three workflows) passes `hookgate check` — every
/// route's config checked by its action plugin, every template and `when` parsed — with its
/// credentials in the environment as an operator would set them.
#[test]
fn check_accepts_the_workflow_examples() {
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/workflows.toml");
    let key = serde_json::json!({
        "type": "service_account",
        "client_email": "writer@example.iam.gserviceaccount.com",
        "private_key": include_str!("../../host/src/runtime/testdata/rsa-2048.pem"),
        "token_uri": "https://oauth2.googleapis.com/token",
    });
    let out = Command::new(binary())
        .args(["check", "--config", example.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .envs([
            ("STRIPE_WEBHOOK_SECRET", "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ="),
            ("GITHUB_WEBHOOK_SECRET", "github-example-secret"),
            ("SHOPIFY_WEBHOOK_SECRET", "shopify-example-secret"),
            ("SLACK_BOT_TOKEN", "xoxb-0000-example"),
            ("GOOGLE_SHEETS_CREDENTIALS", &key.to_string()),
            ("RESEND_API_KEY", "re_example_key"),
            ("DISCORD_WEBHOOK_URL", "https://discord.com/api/webhooks/1/example"),
            (
                "TEAMS_WORKFLOW_URL",
                "https://prod-00.westus.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig=example",
            ),
            ("HUBSPOT_TOKEN", "pat-na1-example"),
            ("AIRTABLE_TOKEN", "patExample.token"),
        ])
        .output()
        .expect("run hookgate");
    let output =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{output}");
    assert!(
        output.contains("workflows.toml: ok (3 sources)"),
        "{output}"
    );
    for action in [
        "slack",
        "google-sheets",
        "email",
        "discord",
        "teams",
        "hubspot",
        "airtable",
    ] {
        assert!(
            output.contains(&format!("action plugin {action} ")),
            "{action} missing from: {output}"
        );
    }
}
