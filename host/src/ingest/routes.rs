//! Routes an event to every `[[routes]]` entry that matches it: source (or `*`), a glob on the
//! normalized type, equality filters on normalized fields, and a `when` condition over the
//! whole event (payload included), checked last and only when the rest matched. One event fans out to every
//! matching route; each (event, route) pair becomes its own delivery job, created in the same
//! transaction that stores the event.

use crate::config::RouteConfig;
use crate::model::{Envelope, delivery_json};
use crate::template::Condition;
use std::cell::OnceCell;

/// A field a filter tests.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    Envelope(String),
    Metadata(String),
}

#[derive(Debug, Clone)]
struct Route {
    name: String,
    source: Option<String>,
    events: Vec<String>,
    filter: Vec<(Field, serde_json::Value)>,
    when: Option<Condition>,
}

/// The compiled routes of a config.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// Compiles the configured routes (already validated by the config).
    pub fn new(routes: &[RouteConfig]) -> Self {
        let routes = routes
            .iter()
            .map(|r| Route {
                name: r.name.clone(),
                source: (r.source != "*").then(|| r.source.clone()),
                events: r.events.clone(),
                filter: r
                    .filter
                    .iter()
                    .map(|(k, v)| {
                        let field = match k.strip_prefix("metadata.") {
                            Some(m) => Field::Metadata(m.to_owned()),
                            None => Field::Envelope(k.clone()),
                        };
                        (field, v.clone())
                    })
                    .collect(),
                when: r.when.clone(),
            })
            .collect();
        RouteTable { routes }
    }

    /// Whether any route is configured (no routes: nothing to compute per event).
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Whether `source`'s events may meet a `when` condition, which parses the whole payload.
    pub fn has_conditions_for(&self, source: &str) -> bool {
        self.routes
            .iter()
            .any(|r| r.when.is_some() && r.source.as_deref().is_none_or(|s| s == source))
    }

    /// Names of every route `event` goes to, in config order. `envelope_json` and `payload`
    /// are the event as stored; a `when` condition sees them joined, as actions do.
    pub fn routes_for(&self, event: &Envelope, envelope_json: &str, payload: &[u8]) -> Vec<String> {
        // Built at most once, and only when a route with a condition is still in the running.
        let value: OnceCell<Option<minijinja::Value>> = OnceCell::new();
        self.routes
            .iter()
            .filter(|r| r.source.as_deref().is_none_or(|s| s == event.source))
            .filter(|r| r.events.iter().any(|g| glob_match(g, &event.event_type)))
            .filter(|r| {
                r.filter
                    .iter()
                    .all(|(field, expected)| field_matches(event, field, expected))
            })
            .filter(|r| {
                let Some(when) = &r.when else {
                    return true;
                };
                let Some(value) = value.get_or_init(|| {
                    serde_json::from_slice(&delivery_json(envelope_json, payload)).ok()
                }) else {
                    return false;
                };
                when.matches(value).unwrap_or_else(|e| {
                    tracing::warn!(route = %r.name, event_id = %event.id, error = %e, "the route's when condition failed on this event; it does not match");
                    false
                })
            })
            .map(|r| r.name.clone())
            .collect()
    }
}

fn field_matches(event: &Envelope, field: &Field, expected: &serde_json::Value) -> bool {
    // Field values are text; a filter may say `amount = 2000` or `"metadata.live" = false`.
    let text = |v: Option<&str>| {
        v.is_some_and(|v| match expected {
            serde_json::Value::String(s) => s == v,
            serde_json::Value::Number(n) => v.parse::<serde_json::Number>().is_ok_and(|p| &p == n),
            serde_json::Value::Bool(b) => v.parse::<bool>() == Ok(*b),
            _ => false,
        })
    };
    match field {
        Field::Metadata(key) => text(event.metadata.get(key).map(String::as_str)),
        Field::Envelope(name) => match name.as_str() {
            "type" => text(Some(&event.event_type)),
            "source" => text(Some(&event.source)),
            "platform" => text(Some(&event.platform)),
            "entity_id" => text(event.entity_id.as_deref()),
            "entity_type" => text(event.entity_type.as_deref()),
            "user_id" => text(event.user_id.as_deref()),
            "currency" => text(event.currency.as_deref()),
            "amount" => event.amount.is_some_and(|a| expected.as_i64() == Some(a)),
            _ => false,
        },
    }
}

/// Glob match where `*` is any run of characters (dots included) and `?` is one character:
/// `payment.*` matches `payment.completed`, `*.created` matches `order.created`.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            backtrack = Some((pi, ti));
            pi += 1;
        } else if let Some((star, matched)) = backtrack {
            pi = star + 1;
            ti = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    fn envelope(source: &str, event_type: &str) -> Envelope {
        Envelope {
            id: "evt_1".into(),
            source: source.into(),
            platform: source.into(),
            event_type: event_type.into(),
            occurred_at: "2024-01-01T00:00:00Z".into(),
            entity_id: None,
            entity_type: None,
            user_id: None,
            amount: Some(2000),
            currency: Some("USD".into()),
            metadata: [("livemode".to_owned(), "false".to_owned())].into(),
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("*", "anything.at.all"));
        assert!(glob_match("payment.*", "payment.completed"));
        assert!(!glob_match("payment.*", "payments.completed"));
        assert!(glob_match("*.created", "order.created"));
        assert!(glob_match(
            "github.pull_request.*",
            "github.pull_request.opened"
        ));
        assert!(glob_match("order.?pdated", "order.updated"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
        assert!(!glob_match("order.created", "order.created.extra"));
    }

    #[test]
    fn fan_out_with_sources_globs_and_filters() {
        let text = r#"
[sources.stripe]
plugin = "stripe"
[sources.shop]
plugin = "shopify"

[[routes]]
name = "all-payments"
source = "*"
events = ["payment.*"]
action = "forward"

[[routes]]
name = "stripe-usd-test"
source = "stripe"
events = ["payment.completed"]
action = "forward"
filter = { currency = "USD", amount = 2000, "metadata.livemode" = "false" }

[[routes]]
name = "stripe-eur"
source = "stripe"
events = ["*"]
action = "forward"
filter = { currency = "EUR" }

[[routes]]
name = "shop-only"
source = "shop"
action = "forward"
"#;
        let config = Config::parse(text, Path::new("t.toml")).unwrap();
        let table = RouteTable::new(&config.routes);
        assert_eq!(
            routes(&table, &envelope("stripe", "payment.completed"), b"{}"),
            vec!["all-payments", "stripe-usd-test"]
        );
        assert_eq!(
            routes(&table, &envelope("shop", "payment.completed"), b"{}"),
            vec!["all-payments", "shop-only"]
        );
        assert!(routes(&table, &envelope("stripe", "customer.created"), b"{}").is_empty());
    }

    fn routes(table: &RouteTable, event: &Envelope, payload: &[u8]) -> Vec<String> {
        let json = serde_json::to_string(event).unwrap();
        table.routes_for(event, &json, payload)
    }

    #[test]
    fn when_conditions_see_the_whole_event_and_missing_fields_are_false() {
        let text = r#"
[sources.stripe]
plugin = "stripe"

[[routes]]
name = "big-usd"
source = "stripe"
action = "forward"
when = 'event.amount >= 10000 and event.currency == "USD"'

[[routes]]
name = "vip"
source = "stripe"
action = "forward"
when = "event.payload.customer.vip"

[[routes]]
name = "all"
source = "stripe"
action = "forward"
"#;
        let config = Config::parse(text, Path::new("t.toml")).unwrap();
        let table = RouteTable::new(&config.routes);
        let mut big = envelope("stripe", "payment.completed");
        big.amount = Some(25_000);
        big.currency = Some("USD".into());
        assert_eq!(
            routes(&table, &big, br#"{"customer": {"vip": true}}"#),
            vec!["big-usd", "vip", "all"]
        );
        assert_eq!(routes(&table, &big, b"{}"), vec!["big-usd", "all"]);
        assert_eq!(routes(&table, &big, b"not json"), vec!["big-usd", "all"]);
        let small = envelope("stripe", "payment.completed");
        assert_eq!(routes(&table, &small, br#"{"customer": 1}"#), vec!["all"]);

        let bad = text.replace("event.payload.customer.vip", "event.payload.(");
        let err = Config::parse(&bad, Path::new("t.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("routes[1].when"), "{err}");
    }

    #[test]
    fn default_route_names_are_stable_and_content_derived() {
        let a = "[sources.s]\nplugin = \"p\"\n[[routes]]\nsource = \"s\"\naction = \"forward\"\nconfig = { url = \"https://a\" }\n";
        let b = "[sources.s]\nplugin = \"p\"\n[[routes]]\nsource = \"s\"\naction = \"forward\"\nconfig = { url = \"https://b\" }\n";
        let name = |t: &str| {
            Config::parse(t, Path::new("t.toml")).unwrap().routes[0]
                .name
                .clone()
        };
        assert_eq!(name(a), name(a));
        assert_ne!(name(a), name(b));
        assert!(name(a).starts_with("route-"));
        let twice = format!(
            "{a}[[routes]]\nsource = \"s\"\naction = \"forward\"\nconfig = {{ url = \"https://a\" }}\n"
        );
        let err = Config::parse(&twice, Path::new("t.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("routes[1].name"), "{err}");
        let bad = "[sources.s]\nplugin = \"p\"\n[[routes]]\nsource = \"s\"\naction = \"forward\"\nfilter = { colour = \"red\" }\n";
        assert!(
            Config::parse(bad, Path::new("t.toml"))
                .unwrap_err()
                .to_string()
                .contains("routes[0].filter.colour")
        );
    }
}
