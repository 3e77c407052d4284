//! What a refused config reports: a read error, a TOML error by line, column and key, or every
//! invalid value at once, each with the dotted path of its field, so an operator fixes them
//! all in one go instead of one per restart. No report quotes a value from the file: the
//! common mistake of `secrets = "whsec_…"` (a string, not a list) must not print the secret.

use std::path::PathBuf;

/// A config that was refused, with every problem found.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read config: {reason}")]
    Read {
        /// The config file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not valid TOML or does not have the expected shape.
    #[error("{file}: {message}")]
    Parse {
        /// The config file.
        file: PathBuf,
        /// Where (line, column, key) and what the parser found wrong, without the file's text.
        message: String,
    },
    /// The file parsed but some values are wrong.
    #[error("{file}: invalid config:\n{}", problems.iter().map(|p| format!("  - {}: {}", p.field, p.message)).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The config file.
        file: PathBuf,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

/// One invalid value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted path of the field, e.g. `sources.stripe.secrets[0]`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// The report of a TOML error in `text`: `line L, column C, key K: what`. The parser's own
/// rendering shows the offending line and quotes values in its messages, so neither is used:
/// only the position, the key found there and the message with quoted values elided.
pub(super) fn parse_message(text: &str, error: &toml::de::Error) -> String {
    let message = elide_quoted(error.message().trim());
    let Some(span) = error.span() else {
        return message;
    };
    let start = span.start.min(text.len());
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    match key_at(text, line_start) {
        Some(key) => format!("line {line}, column {column}, key {key}: {message}"),
        None => format!("line {line}, column {column}: {message}"),
    }
}

/// The dotted key of the line starting at `line_start`: its table header (the nearest
/// `[table]` or `[[array]]` above) and the key before its `=`.
fn key_at(text: &str, line_start: usize) -> Option<String> {
    let line = text[line_start..].lines().next().unwrap_or("");
    if line.trim_start().starts_with('[') {
        // A table header: the problem is the table's (a missing field).
        let header = line.trim().trim_matches(['[', ']']).trim();
        return (!header.is_empty()).then(|| header.to_owned());
    }
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches(['"', '\'']).to_owned())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(['[', ']']).trim().to_owned());
    match (table, key) {
        (Some(table), Some(key)) => Some(format!("{table}.{key}")),
        (None, Some(key)) => Some(key),
        (Some(table), None) => Some(table),
        (None, None) => None,
    }
}

/// `message` with the contents of every `"…"` and `'…'` replaced by `…`: serde quotes the
/// value it did not expect (`invalid type: string "whsec_…", expected a sequence`).
fn elide_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut open: Option<char> = None;
    for c in message.chars() {
        match open {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                open = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' || c == '\'' {
                    open = Some(c);
                }
            }
        }
    }
    if open.is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(text: &str) -> String {
        let Err(error) = toml::from_str::<super::super::raw::RawConfig>(text) else {
            panic!("{text:?} parsed");
        };
        parse_message(text, &error)
    }

    #[test]
    fn a_secret_given_as_a_string_is_located_never_quoted() {
        let text = "[server]\nlisten = \"127.0.0.1:8080\"\n\n[sources.stripe]\nplugin = \"stripe\"\nsecrets = \"whsec_TopSecretValue\"\n";
        let message = report(text);
        assert!(
            message.starts_with("line 6, column 11, key sources.stripe.secrets: "),
            "{message}"
        );
        assert!(!message.contains("TopSecret"), "{message}");
    }

    #[test]
    fn syntax_errors_give_the_position_without_the_line() {
        let message =
            report("[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"whsec_TopSecret\"\n");
        assert!(message.starts_with("line "), "{message}");
        assert!(!message.contains("TopSecret"), "{message}");
    }

    #[test]
    fn quoted_values_are_elided() {
        assert_eq!(
            elide_quoted("invalid type: string \"whsec_x\", expected a sequence"),
            "invalid type: string \"…\", expected a sequence"
        );
        assert_eq!(elide_quoted("unterminated 'abc"), "unterminated '…");
        assert_eq!(elide_quoted("no quotes"), "no quotes");
    }
}
