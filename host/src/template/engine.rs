//! Compiling and rendering the template strings of one action config.

use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior, Value};
use std::sync::Arc;

/// The instruction budget of one render (minijinja's fuel: about one unit per instruction).
/// A loop over a sender's 10,000-item array with a few operations per item fits; a template
/// that would spin for seconds does not.
pub const MAX_FUEL: u64 = 200_000;

/// The most one template string may render to. A Slack message or an email body is far
/// smaller; a loop over a large payload that would build megabytes is cut off here.
pub const MAX_OUTPUT_BYTES: usize = 1 << 20;

/// A template that does not compile: a config error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    /// What is wrong, with the line when the parser names one.
    pub message: String,
}

impl From<Error> for TemplateError {
    fn from(e: Error) -> Self {
        TemplateError {
            message: describe(&e),
        }
    }
}

/// Why a render failed: dead-letters the delivery with the route, key and expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The event JSON could not be read (it always can: the host wrote it).
    #[error("the event is not JSON: {0}")]
    Event(String),
    /// The template failed: an undefined field, a type error, a filter's complaint.
    #[error("{message}")]
    Failed {
        /// What went wrong.
        message: String,
    },
    /// The render would exceed its instruction budget.
    #[error("the template ran out of its budget of {MAX_FUEL} instructions")]
    OutOfFuel,
    /// The render would exceed [`MAX_OUTPUT_BYTES`].
    #[error("the template renders to more than {MAX_OUTPUT_BYTES} bytes")]
    TooLarge,
}

impl RenderError {
    fn from_minijinja(e: &Error) -> Self {
        match e.kind() {
            ErrorKind::OutOfFuel => RenderError::OutOfFuel,
            ErrorKind::WriteFailure => RenderError::TooLarge,
            _ => RenderError::Failed {
                message: describe(e),
            },
        }
    }
}

/// `kind: detail (line N)`, without minijinja's template name (the caller names the key).
fn describe(e: &Error) -> String {
    let mut text = match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    };
    if let Some(line) = e.line().filter(|&l| l > 1) {
        text.push_str(&format!(" (line {line})"));
    }
    text
}

/// One compiled template string of a config: rendered as text, or typed (exactly one
/// `{{ expr }}`, whose value keeps its JSON type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateRef {
    /// Renders to a string.
    Text(String),
    /// Renders to the expression's JSON value.
    Typed(String),
}

/// The compiled templates of one action config, shared by every delivery along its route.
#[derive(Clone)]
pub struct Templates {
    text: Arc<Environment<'static>>,
    typed: Arc<Environment<'static>>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

/// Collects the template strings of one config.
pub struct TemplatesBuilder {
    text: Environment<'static>,
    typed: Environment<'static>,
}

impl Default for TemplatesBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl TemplatesBuilder {
    /// An empty set.
    pub fn new() -> Self {
        let mut text = environment(UndefinedBehavior::Strict);
        let mut typed = environment(UndefinedBehavior::Strict);
        text.set_formatter(strict_formatter);
        // The typed environment prints each value as JSON: a template `{{ expr }}` renders
        // to its value's JSON text, which the host parses back. No expression object has to
        // outlive its environment, and every template is compiled once, at load.
        typed.set_formatter(json_formatter);
        TemplatesBuilder { text, typed }
    }

    /// Compiles the config string at `key` (a path such as `blocks[0].text`, unique within the
    /// config). `None` when the string has no template syntax: it is sent as written.
    pub fn add(&mut self, key: &str, source: &str) -> Result<Option<TemplateRef>, TemplateError> {
        if !has_template_syntax(source) {
            return Ok(None);
        }
        if let Some(expr) = single_expression(source) {
            // Compiled as an expression first: its errors are the clearest, and it proves the
            // `{{ … }}` holds one expression and nothing else.
            let typed = &mut self.typed;
            parse_guarded(|| {
                typed.compile_expression(expr)?;
                typed.add_template_owned(key.to_owned(), format!("{{{{ {expr} }}}}"))
            })?;
            return Ok(Some(TemplateRef::Typed(key.to_owned())));
        }
        let text = &mut self.text;
        parse_guarded(|| text.add_template_owned(key.to_owned(), source.to_owned()))?;
        Ok(Some(TemplateRef::Text(key.to_owned())))
    }

    /// The compiled set.
    pub fn build(self) -> Templates {
        Templates {
            text: Arc::new(self.text),
            typed: Arc::new(self.typed),
        }
    }
}

impl Templates {
    /// Renders one template with `ctx` (see [`context`]), bounded in instructions and size.
    pub fn render(
        &self,
        template: &TemplateRef,
        ctx: &Value,
    ) -> Result<serde_json::Value, RenderError> {
        let (env, name, typed) = match template {
            TemplateRef::Text(name) => (&self.text, name, false),
            TemplateRef::Typed(name) => (&self.typed, name, true),
        };
        let compiled = env.get_template(name).map_err(|e| RenderError::Failed {
            message: describe(&e),
        })?;
        let mut out = Bounded::default();
        compiled
            .render_captured_to(ctx, &mut out)
            .map_err(|e| RenderError::from_minijinja(&e))?;
        let text = String::from_utf8(out.bytes).map_err(|_| RenderError::Failed {
            message: "the template rendered invalid UTF-8".into(),
        })?;
        if typed {
            serde_json::from_str(&text).map_err(|e| RenderError::Failed {
                message: format!("the value is not JSON: {e}"),
            })
        } else {
            Ok(serde_json::Value::String(text))
        }
    }
}

/// The render context of a delivery: `event` (the normalized event JSON, as `forward` sends
/// it) and `route` (its name).
pub fn context(event_json: &[u8], route: &str) -> Result<Value, RenderError> {
    let event: Value =
        serde_json::from_slice(event_json).map_err(|e| RenderError::Event(e.to_string()))?;
    Ok(minijinja::context! { event => event, route => route })
}

/// An environment with the settings every template of hookgate shares: no HTML escaping
/// (configs build JSON, form fields and plain text, not HTML pages), an instruction budget,
/// the recursion limit's default, and hookgate's filters.
pub(super) fn environment(undefined: UndefinedBehavior) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(undefined);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_fuel(Some(MAX_FUEL));
    super::filters::register(&mut env);
    env
}

/// Prints like minijinja's own formatter, but an undefined value is an error even where a
/// filter has passed it along: strict means strict.
fn strict_formatter(
    out: &mut minijinja::Output,
    state: &minijinja::State,
    value: &Value,
) -> Result<(), Error> {
    if value.is_undefined() {
        return Err(Error::new(ErrorKind::UndefinedError, "undefined value"));
    }
    minijinja::escape_formatter(out, state, value)
}

fn json_formatter(
    out: &mut minijinja::Output,
    _state: &minijinja::State,
    value: &Value,
) -> Result<(), Error> {
    if value.is_undefined() {
        return Err(Error::new(ErrorKind::UndefinedError, "undefined value"));
    }
    let json = serde_json::to_string(value)
        .map_err(|e| Error::new(ErrorKind::BadSerialization, e.to_string()))?;
    out.write_str(&json)
        .map_err(|_| Error::new(ErrorKind::WriteFailure, "output limit"))
}

/// Runs a minijinja parse, turning a panic of the parser (some malformed inputs reach an
/// internal assertion of its lexer) into the config error it should have been: operator input
/// must never bring the gateway down.
pub(super) fn parse_guarded(
    parse: impl FnOnce() -> Result<(), Error>,
) -> Result<(), TemplateError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)) {
        Ok(result) => result.map_err(TemplateError::from),
        Err(_) => Err(TemplateError {
            message: "syntax error: the template cannot be parsed".into(),
        }),
    }
}

/// Whether `text` holds any template delimiter.
pub(super) fn has_delimiters(text: &str) -> bool {
    ["{{", "}}", "{%", "%}", "{#", "#}"]
        .iter()
        .any(|marker| text.contains(marker))
}

/// Whether `source` uses any template syntax at all.
fn has_template_syntax(source: &str) -> bool {
    source.contains("{{") || source.contains("{%") || source.contains("{#")
}

/// The expression of a string that is exactly one `{{ expr }}` (surrounding whitespace and
/// whitespace-control dashes allowed), else `None`.
pub(super) fn single_expression(source: &str) -> Option<&str> {
    let inner = source.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix(['-', '+']).unwrap_or(inner);
    let inner = inner.strip_suffix(['-', '+']).unwrap_or(inner).trim();
    (!inner.is_empty() && !has_delimiters(inner)).then_some(inner)
}

/// An output buffer that refuses to grow past [`MAX_OUTPUT_BYTES`].
#[derive(Default)]
struct Bounded {
    bytes: Vec<u8>,
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_OUTPUT_BYTES {
            return Err(std::io::Error::other("template output limit"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const EVENT: &str = r#"{"id":"evt_1","type":"payment.completed","amount":1999,"currency":"USD","entity_id":"pi_1","metadata":{"plan":"pro"},"payload":{"customer":{"name":"Ada","tags":["a","b"]},"paid":true,"note":null}}"#;

    fn render(source: &str) -> Result<serde_json::Value, RenderError> {
        let mut builder = TemplatesBuilder::new();
        let template = builder.add("text", source).unwrap().expect("a template");
        builder
            .build()
            .render(&template, &context(EVENT.as_bytes(), "crm").unwrap())
    }

    #[test]
    fn a_single_expression_keeps_its_json_type() {
        assert_eq!(render("{{ event.amount }}"), Ok(json!(1999)));
        assert_eq!(render(" {{- event.payload.paid -}} "), Ok(json!(true)));
        assert_eq!(render("{{ event.payload.note }}"), Ok(json!(null)));
        assert_eq!(
            render("{{ event.payload.customer }}"),
            Ok(json!({"name": "Ada", "tags": ["a", "b"]}))
        );
        assert_eq!(
            render("{{ event.payload.customer.tags }}"),
            Ok(json!(["a", "b"]))
        );
        assert_eq!(
            render("{{ [event.id, route] }}"),
            Ok(json!(["evt_1", "crm"]))
        );
        // Anything around the expression makes it text.
        assert_eq!(render("{{ event.amount }} cents"), Ok(json!("1999 cents")));
        assert_eq!(
            render("{{ event.amount }}{{ route }}"),
            Ok(json!("1999crm"))
        );
    }

    #[test]
    fn text_templates_render_statements_and_filters() {
        assert_eq!(
            render(
                "{% if event.payload.paid %}Paid by {{ event.payload.customer.name | upper }}{% endif %}"
            ),
            Ok(json!("Paid by ADA"))
        );
        assert_eq!(
            render("{{ event.payload | tojson }}"),
            Ok(json!(
                r#"{"customer":{"name":"Ada","tags":["a","b"]},"note":null,"paid":true}"#
            ))
        );
        assert_eq!(
            render("{% for t in event.payload.customer.tags %}{{ t }};{% endfor %}"),
            Ok(json!("a;b;"))
        );
        // No HTML escaping: these are JSON and text bodies.
        assert_eq!(render("{{ '<b>&' }}x"), Ok(json!("<b>&x")));
    }

    #[test]
    fn missing_fields_are_errors_unless_defaulted() {
        for source in [
            "{{ event.payload.missing }}",
            "Hi {{ event.payload.missing }}",
            "{{ event.nope.deeper | default('x') }}",
        ] {
            let err = render(source).unwrap_err();
            assert!(
                matches!(&err, RenderError::Failed { message } if message.contains("undefined")),
                "{source}: {err:?}"
            );
        }
        assert_eq!(
            render("{{ event.payload.missing | default('none') }}"),
            Ok(json!("none"))
        );
        assert_eq!(
            render("{{ event.payload.missing | default(0) }}"),
            Ok(json!(0))
        );
        assert_eq!(
            render("Hi {{ event.payload.missing | default('there') }}"),
            Ok(json!("Hi there"))
        );
        assert_eq!(
            render("{% if event.payload.missing is defined %}y{% else %}n{% endif %}"),
            Ok(json!("n"))
        );
    }

    #[test]
    fn renders_are_bounded_in_time_and_size() {
        assert_eq!(
            render("{% for i in range(100000) %}{% for j in range(100) %}{% endfor %}{% endfor %}"),
            Err(RenderError::OutOfFuel)
        );
        assert_eq!(
            render("{% for i in range(2000) %}{{ 'x' * 1000 }}{% endfor %}"),
            Err(RenderError::TooLarge)
        );
        assert_eq!(render("{{ 'x' * 2000000 }}"), Err(RenderError::TooLarge));
        let fine = render("{% for i in range(500) %}{{ 'x' * 1000 }}{% endfor %}").unwrap();
        assert_eq!(fine.as_str().unwrap().len(), 500_000);
    }

    #[test]
    fn bad_templates_are_refused_when_added() {
        let mut builder = TemplatesBuilder::new();
        for source in ["{{ event.", "{% if x %}no end", "{{ a b }}", "{{ x | }}"] {
            let err = builder.add("k", source).unwrap_err();
            assert!(!err.message.is_empty(), "{source}");
        }
        assert_eq!(builder.add("k", "no syntax { here }"), Ok(None));
    }

    #[test]
    fn single_expressions_are_recognised() {
        assert_eq!(single_expression("{{ a.b }}"), Some("a.b"));
        assert_eq!(single_expression("  {{-a-}} "), Some("a"));
        assert_eq!(single_expression("{{ a }} {{ b }}"), None);
        assert_eq!(single_expression("x {{ a }}"), None);
        assert_eq!(single_expression("{{ }}"), None);
    }
}
