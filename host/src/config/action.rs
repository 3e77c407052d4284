//! A route's (or schedule's) `config` table, ready for deliveries: secret references resolved
//! and remembered for redaction, template strings compiled once, and everything else kept as
//! written. Rendering it for one delivery yields the JSON the action receives.

use super::secret::{Secret, SecretSpec};
use crate::template::{RenderError, TemplateRef, Templates, TemplatesBuilder};
use serde::Deserialize as _;
use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

/// Config keys whose inline values are credentials even when written without `{ env }` or
/// `{ file }`: they are redacted from attempt errors like referenced secrets are.
const CREDENTIAL_KEYS: &[&str] = &[
    "token",
    "api_key",
    "apikey",
    "password",
    "secret",
    "webhook_url",
    "credentials",
    "authorization",
];

/// What replaces a secret in text an operator can read.
pub const REDACTED: &str = "[redacted]";

/// One value of the tree.
#[derive(Debug)]
enum Node {
    /// Sent as written (numbers, booleans, strings without template syntax).
    Literal(serde_json::Value),
    /// A resolved secret reference: sent as its text, never parsed as a template.
    Secret(Secret),
    /// A template string.
    Template {
        template: TemplateRef,
        /// As written, for error messages.
        source: String,
    },
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
}

/// A compiled action config. Cheap to clone (shared).
#[derive(Clone)]
pub struct ActionConfig {
    inner: Arc<Inner>,
}

struct Inner {
    tree: Node,
    templates: Option<Templates>,
    /// The JSON when nothing in it is a template: every delivery gets the same text.
    fixed: Option<Arc<str>>,
    /// What [`ActionConfig::redact`] removes: referenced secrets and credential-named values.
    redact: Vec<Vec<u8>>,
}

impl std::fmt::Debug for ActionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionConfig")
            .field("templated", &self.inner.templates.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for ActionConfig {
    fn default() -> Self {
        ActionConfig::build(Node::Object(Vec::new()), None, Vec::new())
    }
}

/// A render that failed: the delivery is dead-lettered with this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template error at config.{key} ({source_text}): {error}")]
pub struct ConfigRenderError {
    /// The key, as a path (`fields.Note`, `blocks[0].text`).
    pub key: String,
    /// The template as written (shortened).
    pub source_text: String,
    /// What went wrong.
    pub error: RenderError,
}

impl ActionConfig {
    /// Compiles the `config` table at `path` (`routes[0].config`), with every problem — an
    /// unresolvable secret, a template that does not parse — as `(field, message)`.
    pub(super) fn compile(
        path: &str,
        table: toml::Table,
        base: &Path,
    ) -> (ActionConfig, Vec<(String, String)>) {
        let mut compiler = Compiler {
            problems: Vec::new(),
            base,
            templates: TemplatesBuilder::new(),
            any_template: false,
            redact: Vec::new(),
        };
        let tree = compiler.table(path, "", table);
        let Compiler {
            templates,
            any_template,
            redact,
            problems,
            ..
        } = compiler;
        let config = ActionConfig::build(tree, any_template.then(|| templates.build()), redact);
        (config, problems)
    }

    fn build(tree: Node, templates: Option<Templates>, redact: Vec<Vec<u8>>) -> ActionConfig {
        let fixed = templates
            .is_none()
            .then(|| Arc::from(plain(&tree).to_string()));
        ActionConfig {
            inner: Arc::new(Inner {
                tree,
                templates,
                fixed,
                redact,
            }),
        }
    }

    /// Whether any string of it is a template (then each delivery renders it).
    pub fn is_templated(&self) -> bool {
        self.inner.templates.is_some()
    }

    /// The config as the action checks it when the config loads: secrets resolved, template
    /// strings as written (an action must accept a template where it checks a value's form).
    pub fn check_json(&self) -> String {
        plain(&self.inner.tree).to_string()
    }

    /// The JSON the action receives for one delivery of `event_json` along `route`.
    pub fn render(&self, event_json: &[u8], route: &str) -> Result<Arc<str>, ConfigRenderError> {
        let Some(templates) = &self.inner.templates else {
            return Ok(self.inner.fixed.clone().unwrap_or_else(|| Arc::from("{}")));
        };
        let ctx =
            crate::template::context(event_json, route).map_err(|error| ConfigRenderError {
                key: String::new(),
                source_text: String::new(),
                error,
            })?;
        let value = rendered(&self.inner.tree, templates, &ctx)?;
        Ok(Arc::from(value.to_string()))
    }

    /// `text` with every secret of this config replaced by [`REDACTED`]: for attempt errors,
    /// which an action may have built from a URL or an answer that echoes a credential (a
    /// Telegram token sits in the URL path).
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for secret in &self.inner.redact {
            let Ok(secret) = std::str::from_utf8(secret) else {
                continue;
            };
            if out.contains(secret) {
                out = Cow::Owned(out.replace(secret, REDACTED));
            }
        }
        out
    }
}

/// The tree as JSON with templates as written.
fn plain(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match node {
        Node::Literal(v) => v.clone(),
        Node::Secret(s) => J::String(String::from_utf8_lossy(s.expose()).into_owned()),
        Node::Template { source, .. } => J::String(source.clone()),
        Node::Object(members) => {
            J::Object(members.iter().map(|(k, v)| (k.clone(), plain(v))).collect())
        }
        Node::Array(items) => J::Array(items.iter().map(plain).collect()),
    }
}

/// The tree rendered for one delivery.
fn rendered(
    node: &Node,
    templates: &Templates,
    ctx: &minijinja::Value,
) -> Result<serde_json::Value, ConfigRenderError> {
    use serde_json::Value as J;
    Ok(match node {
        Node::Template { template, source } => {
            templates
                .render(template, ctx)
                .map_err(|error| ConfigRenderError {
                    key: match template {
                        TemplateRef::Text(k) | TemplateRef::Typed(k) => k.clone(),
                    },
                    source_text: shorten(source),
                    error,
                })?
        }
        Node::Object(members) => J::Object(
            members
                .iter()
                .map(|(k, v)| Ok((k.clone(), rendered(v, templates, ctx)?)))
                .collect::<Result<_, ConfigRenderError>>()?,
        ),
        Node::Array(items) => J::Array(
            items
                .iter()
                .map(|v| rendered(v, templates, ctx))
                .collect::<Result<_, _>>()?,
        ),
        other => plain(other),
    })
}

/// A template's text for an error message: its first 120 characters.
fn shorten(source: &str) -> String {
    const MAX: usize = 120;
    match source.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &source[..at]),
        None => source.to_owned(),
    }
}

struct Compiler<'a> {
    problems: Vec<(String, String)>,
    base: &'a Path,
    templates: TemplatesBuilder,
    any_template: bool,
    redact: Vec<Vec<u8>>,
}

impl Compiler<'_> {
    /// `path` names the table for problems (`routes[0].config`); `key` is the path inside the
    /// config (`fields`, `blocks[0]`), empty at the top.
    fn table(&mut self, path: &str, key: &str, table: toml::Table) -> Node {
        Node::Object(
            table
                .into_iter()
                .map(|(name, value)| {
                    let inner = if key.is_empty() {
                        name.clone()
                    } else {
                        format!("{key}.{name}")
                    };
                    let credential = CREDENTIAL_KEYS.contains(&name.to_ascii_lowercase().as_str());
                    let node = self.value(path, &inner, value, credential);
                    (name, node)
                })
                .collect(),
        )
    }

    fn value(&mut self, path: &str, key: &str, value: toml::Value, credential: bool) -> Node {
        let problem_path = format!("{path}.{key}");
        match value {
            toml::Value::Table(t) if SecretSpec::is_reference(&t) => {
                match SecretSpec::deserialize(toml::Value::Table(t))
                    .map_err(|e| e.to_string())
                    .and_then(|spec| spec.resolve(self.base))
                {
                    Ok(secret) => {
                        self.remember(secret.expose());
                        Node::Secret(secret)
                    }
                    Err(e) => {
                        self.problems.push((problem_path, e));
                        Node::Literal(serde_json::Value::Null)
                    }
                }
            }
            toml::Value::Table(t) => self.table(path, key, t),
            toml::Value::Array(items) => Node::Array(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| self.value(path, &format!("{key}[{i}]"), item, credential))
                    .collect(),
            ),
            toml::Value::String(text) => {
                if credential {
                    self.remember(text.as_bytes());
                }
                match self.templates.add(key, &text) {
                    Ok(None) => Node::Literal(serde_json::Value::String(text)),
                    Ok(Some(template)) => {
                        self.any_template = true;
                        Node::Template {
                            template,
                            source: text,
                        }
                    }
                    Err(e) => {
                        self.problems
                            .push((problem_path, format!("template does not parse: {e}")));
                        Node::Literal(serde_json::Value::Null)
                    }
                }
            }
            other => Node::Literal(serde_json::to_value(other).unwrap_or(serde_json::Value::Null)),
        }
    }

    /// Remembers a secret for redaction; a JSON secret (a service-account key) also by each
    /// of its long string members (its `private_key` may be quoted alone).
    fn remember(&mut self, secret: &[u8]) {
        const MIN: usize = 8;
        if secret.len() >= MIN {
            self.redact.push(secret.to_vec());
        }
        if let Ok(serde_json::Value::Object(members)) = serde_json::from_slice(secret) {
            for value in members.values() {
                if let Some(text) = value.as_str().filter(|t| t.len() >= 16) {
                    self.redact.push(text.as_bytes().to_vec());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const EVENT: &[u8] = br#"{"id":"evt_1","type":"payment.completed","amount":1999,"currency":"USD","payload":{"customer":{"email":"ada@example.com"},"lines":[{"sku":"a"}]}}"#;

    fn compile(toml_text: &str) -> (ActionConfig, Vec<(String, String)>) {
        let table: toml::Table = toml::from_str(toml_text).unwrap();
        ActionConfig::compile("routes[0].config", table, Path::new("."))
    }

    fn rendered(config: &ActionConfig) -> serde_json::Value {
        serde_json::from_str(&config.render(EVENT, "receipts").unwrap()).unwrap()
    }

    #[test]
    fn templates_render_per_delivery_and_keep_types() {
        let (config, problems) = compile(
            r#"
to = "{{ event.payload.customer.email }}"
subject = "Receipt for {{ event.amount | money(event.currency) }} ({{ route }})"
amount = "{{ event.amount }}"
values = [["{{ event.id }}", "{{ event.amount | minor_to_major(event.currency) }}", 3]]
fields = { Note = "{{ event.payload.note | default('none') }}", Lines = "{{ event.payload.lines }}" }
fixed = true
"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert!(config.is_templated());
        assert_eq!(
            rendered(&config),
            json!({
                "to": "ada@example.com",
                "subject": "Receipt for $19.99 (receipts)",
                "amount": 1999,
                "values": [["evt_1", "19.99", 3]],
                "fields": {"Note": "none", "Lines": [{"sku": "a"}]},
                "fixed": true,
            })
        );
    }

    #[test]
    fn a_config_without_templates_is_rendered_once() {
        let (config, problems) = compile(r#"url = "https://example.com/{not a template}""#);
        assert!(problems.is_empty());
        assert!(!config.is_templated());
        let first = config.render(EVENT, "r").unwrap();
        let again = config.render(b"not even json", "r").unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(&*first, r#"{"url":"https://example.com/{not a template}"}"#);
    }

    #[test]
    fn render_errors_name_the_key_path_and_the_expression() {
        let (config, _) = compile(
            r#"blocks = [{ type = "section", text = "Hi {{ event.payload.customer.name }}" }]"#,
        );
        let err = config.render(EVENT, "slack").unwrap_err();
        assert_eq!(err.key, "blocks[0].text");
        let text = err.to_string();
        assert!(text.contains("config.blocks[0].text"), "{text}");
        assert!(text.contains("{{ event.payload.customer.name }}"), "{text}");
        assert!(text.contains("undefined"), "{text}");
    }

    #[test]
    fn bad_templates_and_secrets_are_problems_at_load() {
        let (_, problems) = compile(
            r#"
text = "{{ event.amount "
nested = { list = ["ok", "{% if %}"] }
token = { env = "HOOKGATE_TEST_SURELY_UNSET_TOKEN" }
"#,
        );
        let fields: Vec<&str> = problems.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "routes[0].config.nested.list[1]",
                "routes[0].config.text",
                "routes[0].config.token",
            ]
        );
        assert!(
            problems[1].1.contains("template does not parse"),
            "{problems:?}"
        );
        assert!(problems[2].1.contains("HOOKGATE_TEST_SURELY_UNSET_TOKEN"));
    }

    #[test]
    fn secrets_are_sent_verbatim_and_redacted_everywhere_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("token"),
            "123456:AAE-{{ not a template }}\n",
        )
        .unwrap();
        let table: toml::Table = toml::from_str(
            r#"
token = { file = "token" }
api_key = "inline-credential-value"
chat_id = "{{ event.id }}"
"#,
        )
        .unwrap();
        let (config, problems) = ActionConfig::compile("routes[0].config", table, dir.path());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            rendered(&config),
            json!({"token": "123456:AAE-{{ not a template }}", "api_key": "inline-credential-value", "chat_id": "evt_1"})
        );
        let reason = "POST https://api.telegram.org/bot123456:AAE-{{ not a template }}/sendMessage failed; key inline-credential-value";
        assert_eq!(
            config.redact(reason),
            "POST https://api.telegram.org/bot[redacted]/sendMessage failed; key [redacted]"
        );
        assert!(!format!("{config:?}").contains("123456"));
    }
}
