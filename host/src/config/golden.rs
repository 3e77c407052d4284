//! Golden files for refused configs: every `golden/NAME.toml` must be refused with exactly the
//! text in `golden/NAME.expected`. Operators read these messages (and e2e tests match some of
//! them), so a change to any of them shows up here as a diff to review rather than slipping
//! through a `contains` check.
//!
//! Each file is parsed as if it were `/etc/hookgate/NAME.toml`, so the expected text is the
//! same on every machine (relative secret files resolve under `/etc/hookgate/`). Set
//! `HOOKGATE_BLESS=1` to (re)write the `.expected` files from the actual output, as the plugin
//! goldens do; review the diff before committing it.

use super::Config;
use std::path::{Path, PathBuf};

/// An environment variable the goldens reference as a secret; it must stay unset.
const UNSET_VAR: &str = "HOOKGATE_GOLDEN_SURELY_UNSET_VAR";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/config/golden")
}

#[test]
fn bad_configs_are_refused_with_their_golden_text() {
    assert!(
        std::env::var_os(UNSET_VAR).is_none(),
        "{UNSET_VAR} must be unset for the goldens"
    );
    let bless = std::env::var_os("HOOKGATE_BLESS").is_some();
    let dir = golden_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("the golden directory is readable")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.file_stem().expect("named").to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 12, "only {} golden configs", names.len());
    let mut failures = Vec::new();
    for name in &names {
        let text = std::fs::read_to_string(dir.join(format!("{name}.toml"))).expect("readable");
        let file = PathBuf::from(format!("/etc/hookgate/{name}.toml"));
        let actual = match Config::parse(&text, &file) {
            Ok(_) => {
                failures.push(format!(
                    "{name}.toml: accepted, but a golden config must be refused"
                ));
                continue;
            }
            Err(e) => e.to_string(),
        };
        let expected_path = dir.join(format!("{name}.expected"));
        if bless {
            std::fs::write(&expected_path, format!("{actual}\n")).expect("writable");
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Err(e) => failures.push(format!(
                "{name}.expected: {e} (run with HOOKGATE_BLESS=1 to create it)"
            )),
            Ok(expected) if expected.strip_suffix('\n') != Some(actual.as_str()) => {
                failures.push(format!(
                    "{name}.toml:\n--- expected\n{expected}--- actual\n{actual}\n"
                ));
            }
            Ok(_) => {}
        }
    }
    // An `.expected` whose config was renamed or removed would otherwise linger unchecked.
    for entry in std::fs::read_dir(&dir).expect("readable") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "expected")
            && !path.with_extension("toml").exists()
        {
            failures.push(format!("{}: no matching .toml", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
