//! Pins the crate's dependency rule: the top-level modules form layers (see the crate docs),
//! and a module may only use modules of lower layers; within a layer, no two files import
//! each other, directly or around a circle.
//!
//! The check reads the sources, not the compiler's view: every `use crate::…` / `use super::…`
//! (and a `mod.rs`'s plain `use child::…`) and every inline `crate::…` / `super::…` path of
//! production code (test modules are left out), resolved to the file that defines the module.
//! A `pub use` in a `mod.rs` re-exports its children for callers and is not an edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules, lowest layer first; a module may use only those of lower layers.
const LAYERS: &[&[&str]] = &[
    &["model", "fsmode"],
    &["template"],
    &["config", "metrics"],
    &["store", "egress"],
    &["runtime", "cluster"],
    &["ingest"],
    &["delivery"],
    &["server"],
    &["app"],
    &["cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// A source file: its module path and its production code without comments.
struct File {
    rel: PathBuf,
    module: Vec<String>,
    code: String,
}

fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The text without comments and string contents (doc links name paths too).
fn strip_comments(src: &str) -> String {
    let bytes = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if bytes[i..].starts_with(b"/*") {
            let end = src[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |e| i + 2 + e + 2);
            i = end;
        } else if bytes[i] == b'"' && (i == 0 || bytes[i - 1] != b'\'') {
            out.push('"');
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            out.push('"');
            i += 1;
        } else {
            let ch = src[i..].chars().next().expect("in bounds");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Removes every `#[cfg(test)]` item (a `mod tests { … }` block or a `mod x;` line).
fn strip_test_modules(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let semi = after.find(';').unwrap_or(after.len());
        let brace = after.find('{').unwrap_or(after.len());
        if semi < brace {
            rest = &after[semi + 1..];
            continue;
        }
        let mut depth = 0usize;
        let mut end = after.len();
        for (i, ch) in after.char_indices().skip(brace) {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Files declared `#[cfg(test)] mod name;` (test-only files), as module paths.
fn test_only_modules(files: &[File], raw: &BTreeMap<PathBuf, String>) -> BTreeSet<Vec<String>> {
    let mut out = BTreeSet::new();
    for file in files {
        let text = strip_comments(&raw[&file.rel]);
        let mut rest = text.as_str();
        while let Some(at) = rest.find("#[cfg(test)]") {
            let after = rest[at + "#[cfg(test)]".len()..].trim_start();
            if let Some(decl) = after.strip_prefix("mod ")
                && let Some(end) = decl.find(';')
                && !decl[..end].contains('{')
            {
                let mut module = file.module.clone();
                module.push(decl[..end].trim().to_owned());
                out.insert(module);
            }
            rest = &rest[at + 1..];
        }
    }
    out
}

/// Expands `a::{b, c::{d}}` into `a::b`, `a::c::d`.
fn expand(tree: &str) -> Vec<String> {
    // `x as y` keeps its name as `x@y` once the whitespace is gone.
    let tree: String = tree
        .replace(" as ", "@")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let Some(open) = tree.find('{') else {
        return vec![tree];
    };
    let prefix = &tree[..open];
    let body = &tree[open + 1..tree.len().saturating_sub(1)];
    let (mut items, mut depth, mut current) = (Vec::new(), 0usize, String::new());
    for ch in body.chars() {
        match ch {
            ',' if depth == 0 => items.push(std::mem::take(&mut current)),
            '{' => {
                depth += 1;
                current.push(ch);
            }
            '}' => {
                depth -= 1;
                current.push(ch);
            }
            _ => current.push(ch),
        }
    }
    items.push(current);
    items
        .into_iter()
        .filter(|i| !i.is_empty())
        .flat_map(|i| expand(&format!("{prefix}{i}")))
        .collect()
}

fn is_ident(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || ch == '_'
}

/// Every module path `file` names, from the crate root.
fn paths(file: &File, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let absolute = |path: &str| -> Option<Vec<String>> {
        let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        let mut base: Vec<String>;
        match segs.first().copied() {
            Some("crate") => {
                base = Vec::new();
                segs.remove(0);
            }
            Some("super") => {
                base = file.module.clone();
                while segs.first() == Some(&"super") {
                    base.pop();
                    segs.remove(0);
                }
            }
            Some("self") => {
                base = file.module.clone();
                segs.remove(0);
            }
            Some(first) if children.contains(first) => base = file.module.clone(),
            _ => return None,
        }
        base.extend(
            segs.iter()
                .map(|s| s.split('@').next().unwrap_or(s).to_owned()),
        );
        Some(base)
    };
    let code = &file.code;
    let mut out = Vec::new();
    let mut in_use = vec![false; code.len()];
    let mut search = 0;
    while let Some(at) = code[search..].find("use ") {
        let start = search + at;
        search = start + 4;
        if start > 0 && code[..start].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let Some(end) = code[start..].find(';').map(|e| start + e) else {
            break;
        };
        in_use[start..end].iter_mut().for_each(|b| *b = true);
        let head = code[..start].trim_end();
        let reexport = head.ends_with("pub") || head.ends_with("pub(crate)");
        let target = code[start + 4..].trim_start();
        let target = target.strip_prefix("self::").unwrap_or(target);
        if reexport && children.iter().any(|c| target.starts_with(c.as_str())) {
            continue;
        }
        out.extend(
            expand(&code[start + 4..end])
                .iter()
                .filter_map(|p| absolute(p)),
        );
    }
    for prefix in ["crate::", "super::"] {
        let mut search = 0;
        while let Some(at) = code[search..].find(prefix) {
            let start = search + at;
            search = start + prefix.len();
            if in_use[start]
                || code[..start]
                    .chars()
                    .next_back()
                    .is_some_and(|c| is_ident(c) || c == ':')
            {
                continue;
            }
            let end = code[start..]
                .find(|c: char| !(is_ident(c) || c == ':'))
                .map_or(code.len(), |e| start + e);
            out.extend(absolute(code[start..end].trim_end_matches(':')));
        }
    }
    out
}

fn sources() -> Vec<File> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut raw = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&root).expect("under src").to_path_buf();
                raw.insert(rel, std::fs::read_to_string(&path).expect("readable"));
            }
        }
    }
    let files: Vec<File> = raw
        .iter()
        .map(|(rel, src)| File {
            rel: rel.clone(),
            module: module_path(rel),
            code: strip_test_modules(&strip_comments(src)),
        })
        .collect();
    let test_only = test_only_modules(&files, &raw);
    files
        .into_iter()
        .filter(|f| !test_only.iter().any(|t| f.module.starts_with(t)))
        .collect()
}

/// File-to-file edges of production code.
fn edges(files: &[File]) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let by_module: BTreeMap<&[String], &PathBuf> = files
        .iter()
        .map(|f| (f.module.as_slice(), &f.rel))
        .collect();
    let mut edges = BTreeMap::new();
    for file in files {
        let children: BTreeSet<String> = files
            .iter()
            .filter(|f| {
                f.module.len() == file.module.len() + 1 && f.module.starts_with(&file.module)
            })
            .filter_map(|f| f.module.last().cloned())
            .collect();
        let targets: &mut BTreeSet<PathBuf> = edges.entry(file.rel.clone()).or_default();
        for path in paths(file, &children) {
            let target = (0..=path.len())
                .rev()
                .find_map(|n| by_module.get(&path[..n]).copied());
            if let Some(target) = target
                && *target != file.rel
                && !target.as_os_str().eq("lib.rs")
            {
                targets.insert(target.clone());
            }
        }
    }
    edges
}

fn top(rel: &Path) -> String {
    module_path(rel).first().cloned().unwrap_or_default()
}

#[test]
fn every_module_uses_only_lower_layers() {
    let files = sources();
    assert!(files.len() > 50, "found only {} source files", files.len());
    let mut upward = Vec::new();
    for (from, targets) in edges(&files) {
        let (module, layer) = (top(&from), layer_of(&top(&from)));
        if from.as_os_str() == "lib.rs" || from.as_os_str() == "main.rs" {
            continue;
        }
        let Some(layer) = layer else {
            upward.push(format!(
                "{}: module {module:?} is in no layer",
                from.display()
            ));
            continue;
        };
        for to in targets {
            let target = top(&to);
            if target == module {
                continue;
            }
            match layer_of(&target) {
                Some(t) if t < layer => {}
                _ => upward.push(format!("{} -> {}", from.display(), to.display())),
            }
        }
    }
    assert!(
        upward.is_empty(),
        "edges against the layering:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_two_files_import_each_other() {
    let edges = edges(&sources());
    // Tarjan's strongly connected components: any of more than one file is a cycle.
    struct Walk<'a> {
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        cycles: Vec<Vec<String>>,
    }
    fn visit<'a>(w: &mut Walk<'a>, v: &'a PathBuf) {
        let n = w.index.len();
        w.index.insert(v, n);
        w.low.insert(v, n);
        w.stack.push(v);
        for t in w.edges.get(v).into_iter().flatten() {
            if !w.index.contains_key(t) {
                let t = w.edges.get_key_value(t).map_or(t, |(k, _)| k);
                visit(w, t);
                let low = w.low[v].min(w.low[t]);
                w.low.insert(v, low);
            } else if w.stack.contains(&t) {
                let low = w.low[v].min(w.index[t]);
                w.low.insert(v, low);
            }
        }
        if w.low[v] == w.index[v] {
            let mut component = Vec::new();
            while let Some(t) = w.stack.pop() {
                component.push(t.display().to_string());
                if t == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                w.cycles.push(component);
            }
        }
    }
    let mut walk = Walk {
        edges: &edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        cycles: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v) {
            visit(&mut walk, v);
        }
    }
    assert!(
        walk.cycles.is_empty(),
        "files importing each other: {:?}",
        walk.cycles
    );
}

#[test]
fn the_checker_sees_edges_and_cycles() {
    // The rule must be able to fail: a fake upward import and a fake circle are found.
    let file = |rel: &str, code: &str| File {
        rel: PathBuf::from(rel),
        module: module_path(Path::new(rel)),
        code: code.to_owned(),
    };
    let files = vec![
        file(
            "model/mod.rs",
            "use crate::server::AppState; pub use event::X;",
        ),
        file("model/event.rs", "fn f() { super::names::g(); }"),
        file("model/names.rs", "use crate::model::event::X;"),
        file("server/mod.rs", ""),
    ];
    let edges = edges(&files);
    assert!(edges[Path::new("model/mod.rs")].contains(Path::new("server/mod.rs")));
    assert!(!edges[Path::new("model/mod.rs")].contains(Path::new("model/event.rs")));
    assert!(edges[Path::new("model/event.rs")].contains(Path::new("model/names.rs")));
    assert!(edges[Path::new("model/names.rs")].contains(Path::new("model/event.rs")));
    assert_eq!(
        expand("crate::a::{b, c::{d, e as f}}"),
        ["crate::a::b", "crate::a::c::d", "crate::a::c::e@f"]
    );
}
