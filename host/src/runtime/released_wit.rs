//! Released WIT is frozen: a test hashes every released package folder
//! (`wit/hookgate-plugin@X.Y.Z/`) and every vendored WASI package (`wit/deps/*.wit`, which those
//! folders refer to) and compares the hashes with the list checked in at
//! `wit/released-hashes.txt`. Plugins built against a released version must keep loading, so
//! its WIT never changes: a change is a new version in a new folder, with a new line in that
//! list.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The list of pinned hashes, inside `wit/`.
const HASHES: &str = "released-hashes.txt";

fn wit_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit")
}

/// Every file below `dir` (or `dir` itself when it is a file), as paths relative to `dir` with
/// `/` separators.
fn files_below(dir: &Path, rel: &str, out: &mut Vec<String>) {
    let path = if rel.is_empty() {
        dir.to_path_buf()
    } else {
        dir.join(rel)
    };
    if !path.is_dir() {
        out.push(rel.to_owned());
        return;
    }
    let entries = std::fs::read_dir(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for entry in entries {
        let name = entry.expect("readable directory").file_name();
        let name = name.to_str().expect("WIT file names are UTF-8");
        let child = if rel.is_empty() {
            name.to_owned()
        } else {
            format!("{rel}/{name}")
        };
        files_below(dir, &child, out);
    }
}

/// SHA-256 over the files of `entry` (a folder or one file) in sorted order of their relative
/// paths, each as its path, a NUL, its length (8 bytes, little-endian) and its contents: a
/// renamed, added, removed or edited file changes the hash.
fn tree_hash(entry: &Path) -> String {
    let mut files = Vec::new();
    files_below(entry, "", &mut files);
    files.sort();
    let mut hasher = Sha256::new();
    for rel in files {
        let path = if rel.is_empty() {
            entry.to_path_buf()
        } else {
            entry.join(&rel)
        };
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        hasher.update(rel.as_bytes());
        hasher.update([0]);
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    hex::encode(hasher.finalize())
}

/// The released entries found in `wit/`, by name as the list spells it
/// (`hookgate-plugin@1.0.0`, `deps/wasi-io@0.2.12.wit`), with their hashes.
fn released(wit: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let names = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("readable directory").file_name())
            .map(|n| n.into_string().expect("WIT file names are UTF-8"))
            .collect()
    };
    for name in names(wit) {
        if name.starts_with("hookgate-plugin@") {
            found.insert(name.clone(), tree_hash(&wit.join(&name)));
        }
    }
    for name in names(&wit.join("deps")) {
        let name = format!("deps/{name}");
        found.insert(name.clone(), tree_hash(&wit.join(&name)));
    }
    found
}

/// The checked-in list: `NAME HASH` a line; blank lines and `#` comments are skipped.
fn pinned(list: &str) -> BTreeMap<String, String> {
    list.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [name, hash] => (name.to_owned(), hash.to_owned()),
                _ => panic!("wit/{HASHES}: `{line}` is not `NAME SHA256`"),
            },
        )
        .collect()
}

#[test]
fn released_wit_never_changes() {
    let wit = wit_dir();
    let list = std::fs::read_to_string(wit.join(HASHES))
        .unwrap_or_else(|e| panic!("{}: {e}", wit.join(HASHES).display()));
    let (pinned, found) = (pinned(&list), released(&wit));
    let mut problems = Vec::new();
    for (name, hash) in &found {
        match pinned.get(name) {
            Some(pin) if pin == hash => {}
            Some(pin) => problems.push(format!(
                "wit/{name} changed: its hash is {hash}, wit/{HASHES} pins {pin}"
            )),
            None => problems.push(format!(
                "wit/{name} is not listed in wit/{HASHES}; a new version needs its line:\n    \
                 {name} {hash}"
            )),
        }
    }
    for name in pinned.keys().filter(|name| !found.contains_key(*name)) {
        problems.push(format!(
            "wit/{name} is listed in wit/{HASHES} but gone: plugins built against it would no \
             longer load"
        ));
    }
    assert!(
        problems.is_empty(),
        "{}\n\nReleased WIT versions must not change: plugins built against them must keep \
         loading. Restore the released files, and put the change in a new version instead: a new \
         folder wit/hookgate-plugin@MAJOR.MINOR.PATCH/ (a newer WASI package: a new file in \
         wit/deps/), served from host/src/runtime/bindings.rs, with its line `NAME SHA256` added \
         to wit/{HASHES} (this test prints the line of every folder or file not listed yet).",
        problems.join("\n")
    );
}

/// The hash covers names as well as contents, and does not depend on the order a directory
/// lists its files in.
#[test]
fn tree_hash_sees_renames_and_edits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("a.wit", "package a:b@1.0.0;");
    std::fs::create_dir(dir.path().join("deps")).unwrap();
    write("deps/c.wit", "package c:d@1.0.0;");
    let original = tree_hash(dir.path());
    assert_eq!(tree_hash(dir.path()), original);
    write("a.wit", "package a:b@1.0.1;");
    let edited = tree_hash(dir.path());
    assert_ne!(edited, original);
    std::fs::rename(dir.path().join("a.wit"), dir.path().join("z.wit")).unwrap();
    assert_ne!(tree_hash(dir.path()), edited);
}
