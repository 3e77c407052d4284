//! `when = "…"` on a route: an expression over `event`, checked when the config loads and
//! evaluated where routing happens (inside the ingest transaction's job creation). A missing
//! field is undefined, and undefined is false, so `event.amount >= 10000` on an event without
//! an amount simply does not match.

use super::engine::{RenderError, TemplateError, environment};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value};
use std::sync::Arc;

/// A compiled route condition.
#[derive(Clone)]
pub struct Condition {
    source: Arc<str>,
    env: Arc<Environment<'static>>,
}

impl std::fmt::Debug for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Condition").field(&self.source).finish()
    }
}

const NAME: &str = "when";

impl Condition {
    /// Compiles `expression`; its error is the config error.
    pub fn compile(expression: &str) -> Result<Condition, TemplateError> {
        // Undefined chains (`event.payload.a.b` with no `a` is undefined, not an error), and
        // the one printed value is reduced to whether it is true.
        let mut env = environment(UndefinedBehavior::Chainable);
        env.set_formatter(|out, _state, value| {
            out.write_str(if value.is_true() { "1" } else { "" })
                .map_err(|_| Error::new(ErrorKind::WriteFailure, "output"))
        });
        super::engine::parse_guarded(|| {
            // Delimiters inside an expression can only be a mistake (and minijinja's
            // expression lexer trips over a stray `}}`).
            if super::engine::has_delimiters(expression) {
                return Err(Error::new(
                    ErrorKind::SyntaxError,
                    "an expression has no {{ }}, {% %} or {# #} delimiters",
                ));
            }
            env.compile_expression(expression)?;
            env.add_template_owned(NAME, format!("{{{{ {expression} }}}}"))
        })?;
        Ok(Condition {
            source: expression.into(),
            env: Arc::new(env),
        })
    }

    /// The expression as configured.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the event (as its normalized JSON value, under `event`) satisfies it. An
    /// evaluation error (comparing a string with a number, a budget exhausted) is `Err`; the
    /// caller treats it as no match and says so.
    pub fn matches(&self, event: &Value) -> Result<bool, RenderError> {
        let template = self
            .env
            .get_template(NAME)
            .map_err(|e| RenderError::Failed {
                message: e.to_string(),
            })?;
        let rendered = template
            .render(minijinja::context! { event => event })
            .map_err(|e| match e.kind() {
                ErrorKind::OutOfFuel => RenderError::OutOfFuel,
                _ => RenderError::Failed {
                    message: match e.detail() {
                        Some(d) => format!("{}: {d}", e.kind()),
                        None => e.kind().to_string(),
                    },
                },
            })?;
        Ok(rendered == "1")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Value {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn conditions_select_and_missing_fields_are_false() {
        let big_usd =
            Condition::compile(r#"event.amount >= 10000 and event.currency == "USD""#).unwrap();
        let cases = [
            (r#"{"amount": 25000, "currency": "USD"}"#, true),
            (r#"{"amount": 9999, "currency": "USD"}"#, false),
            (r#"{"amount": 25000, "currency": "EUR"}"#, false),
            (r#"{"currency": "USD"}"#, false),
            (r#"{}"#, false),
        ];
        for (json, expected) in cases {
            assert_eq!(
                big_usd.matches(&event(json)).unwrap_or(false),
                expected,
                "{json}"
            );
        }
        let nested = Condition::compile(r#"event.payload.data.object.livemode"#).unwrap();
        assert_eq!(nested.matches(&event(r#"{"payload": {}}"#)), Ok(false));
        assert_eq!(
            nested.matches(&event(
                r#"{"payload": {"data": {"object": {"livemode": true}}}}"#
            )),
            Ok(true)
        );
        let types = Condition::compile(
            r#"event.type is startingwith("payment.") or "vip" in event.metadata.tags | default([])"#,
        )
        .unwrap();
        assert_eq!(
            types.matches(&event(r#"{"type": "payment.completed"}"#)),
            Ok(true)
        );
        assert_eq!(
            types.matches(&event(
                r#"{"type": "order.created", "metadata": {"tags": ["vip"]}}"#
            )),
            Ok(true)
        );
        assert_eq!(
            types.matches(&event(r#"{"type": "order.created"}"#)),
            Ok(false)
        );
    }

    #[test]
    fn bad_expressions_are_refused_at_load() {
        for bad in ["event.amount >=", "event.(", "", "{{ x }}", "x }}{{ y"] {
            assert!(Condition::compile(bad).is_err(), "{bad:?}");
        }
    }
}
