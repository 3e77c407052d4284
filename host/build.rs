//! Builds the first-party plugins (and the test-only plugins) for `wasm32-wasip2`, so that a
//! plain `cargo build` / `cargo run` / `cargo test` at the workspace root produces the gateway
//! *and* every `.wasm` it serves, with no separate step.
//!
//! Following wasmtime's test-artifacts build script, the plugins are built by a nested cargo
//! with its own target directory (`target/wasm`), always in release mode (HMAC and JSON parsing
//! inside wasm are ~3x faster at opt-level 3). The components are copied to
//! `target/plugins/<name>.wasm` (served by `examples/hookgate.toml`) and
//! `target/test-plugins/<name>.wasm` (used by the end-to-end tests only).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where plugin crates live: every directory with a `Cargo.toml` below one of these is a
/// plugin, named after its directory (`plugins/stripe` → `stripe.wasm`), so adding a plugin is
/// adding its folder (the workspace lists the same folders by glob). Test-only plugins go to
/// `target/test-plugins`, which the sample config does not serve.
const PLUGIN_DIRS: &[(&str, &str, bool)] = &[
    ("plugins", "", false),
    // `actions/slack` → `slack-action.wasm`: an action may share its name with a platform
    // (Slack, Discord, HubSpot are both), and the plugins directory is one flat folder.
    ("actions", "-action", false),
    ("tests/plugins", "", true),
];
/// Plugin crates elsewhere: (directory, output name, test-only).
const MORE_PLUGINS: &[(&str, &str, bool)] = &[("examples/acme-plugin", "acme", true)];

/// A plugin to build: its cargo package, output file name and whether it is test-only.
struct Plugin {
    package: String,
    name: String,
    test_only: bool,
}

/// Every plugin crate, in a stable order.
fn plugins(root: &Path) -> Vec<Plugin> {
    let mut found = Vec::new();
    for (dir, suffix, test_only) in PLUGIN_DIRS {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("Cargo.toml").is_file())
            .collect();
        entries.sort();
        for path in entries {
            let name = format!(
                "{}{suffix}",
                path.file_name().expect("a directory").to_string_lossy()
            );
            found.push(Plugin {
                package: package_name(&path),
                name,
                test_only: *test_only,
            });
        }
    }
    for (dir, name, test_only) in MORE_PLUGINS {
        found.push(Plugin {
            package: package_name(&root.join(dir)),
            name: (*name).into(),
            test_only: *test_only,
        });
    }
    found
}

/// The `name` of a crate's `[package]`.
fn package_name(dir: &Path) -> String {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    manifest
        .lines()
        .skip_while(|l| l.trim() != "[package]")
        .find_map(|l| {
            let (key, value) = l.split_once('=')?;
            (key.trim() == "name").then(|| value.trim().trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| panic!("{}: no [package] name", dir.display()))
}

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .expect("host/ sits in the workspace root")
        .to_path_buf();
    for dir in [
        "plugins",
        "sdk",
        "wit",
        "tests/plugins",
        "examples/acme-plugin",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        root.join("Cargo.lock").display()
    );
    println!("cargo:rerun-if-env-changed=HOOKGATE_SKIP_PLUGIN_BUILD");

    let target_root = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let out_plugins = target_root.join("plugins");
    let out_test_plugins = target_root.join("test-plugins");
    println!(
        "cargo:rustc-env=HOOKGATE_BUILT_PLUGINS_DIR={}",
        out_plugins.display()
    );
    println!(
        "cargo:rustc-env=HOOKGATE_BUILT_TEST_PLUGINS_DIR={}",
        out_test_plugins.display()
    );
    if env::var_os("HOOKGATE_SKIP_PLUGIN_BUILD").is_some() {
        return;
    }

    ensure_wasm_target();
    let wasm_target_dir = target_root.join("wasm");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "--release", "--target", TARGET, "--target-dir"])
        .arg(&wasm_target_dir);
    let plugins = plugins(&root);
    for plugin in &plugins {
        cmd.args(["-p", &plugin.package]);
    }
    // Settings meant for the outer build must not leak into the nested one.
    // Plugins ship without debug info: it triples their size and slows compilation.
    cmd.env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo");
    for var in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_MAKEFLAGS",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .expect("failed to run cargo for the wasm plugins");
    assert!(
        status.success(),
        "building the wasm plugins failed (see the errors above)"
    );

    let built = wasm_target_dir.join(TARGET).join("release");
    for plugin in &plugins {
        let file = built.join(format!("{}.wasm", plugin.package.replace('-', "_")));
        let dest_dir = if plugin.test_only {
            &out_test_plugins
        } else {
            &out_plugins
        };
        std::fs::create_dir_all(dest_dir).expect("target dir is writable");
        copy_if_changed(&file, &dest_dir.join(format!("{}.wasm", plugin.name)));
    }
}

/// Copies only when the contents differ, so a gateway watching the directory does not see a
/// spurious change on every build. Writes to a temporary name and renames: a watcher never
/// sees a half-written file.
fn copy_if_changed(from: &Path, to: &Path) {
    let bytes = std::fs::read(from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    if std::fs::read(to).is_ok_and(|old| old == bytes) {
        return;
    }
    let tmp = to.with_extension("wasm.tmp");
    std::fs::write(&tmp, &bytes).expect("target dir is writable");
    std::fs::rename(&tmp, to).expect("target dir is writable");
}

/// Installs the wasm32-wasip2 standard library through rustup when it is missing, so the
/// Quick start works on a machine where `rust-toolchain.toml` did not already add it.
fn ensure_wasm_target() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if sysroot.is_some_and(|s| s.join("lib/rustlib").join(TARGET).exists()) {
        return;
    }
    let mut cmd = Command::new("rustup");
    cmd.args(["target", "add", TARGET]);
    if let Ok(toolchain) = env::var("RUSTUP_TOOLCHAIN") {
        cmd.args(["--toolchain", &toolchain]);
    }
    let ok = cmd.status().is_ok_and(|s| s.success());
    assert!(
        ok,
        "the {TARGET} target is missing and `rustup target add {TARGET}` failed"
    );
}
