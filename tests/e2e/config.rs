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
