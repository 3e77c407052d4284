//! Validating `[[routes]]` and `[[schedules]]`: the two ways a job comes to be. Both name an
//! action with its config, a retry schedule and a signing secret, and both have a stable name
//! that jobs in the store refer to, so duplicate names are refused.

use super::action::ActionConfig;
use super::parse::{parse_cron, parse_duration, toml_to_json, valid_name};
use super::raw::{RawBreaker, RawRoute, RawSchedule};
use super::types::{
    BreakerConfig, FILTER_FIELDS, MAX_IN_FLIGHT_TOTAL, RouteConfig, ScheduleConfig, SourceConfig,
};
use super::validate::Validator;
use crate::template::Condition;
use sha2::Digest as _;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every `[[routes]]` entry; routes may name any of `sources`.
pub(super) fn routes(
    v: &mut Validator,
    raw: Vec<RawRoute>,
    sources: &BTreeMap<String, SourceConfig>,
    base: &Path,
) -> Vec<RouteConfig> {
    let routes: Vec<RouteConfig> = raw
        .into_iter()
        .enumerate()
        .map(|(i, r)| route(v, i, r, sources, base))
        .collect();
    refuse_duplicates(
        v,
        "routes",
        routes.iter().map(|r| r.name.as_str()),
        |name| {
            format!(
                "another route is already named {name:?} (identical routes need distinct names)"
            )
        },
    );
    routes
}

/// Every `[[schedules]]` entry.
pub(super) fn schedules(
    v: &mut Validator,
    raw: Vec<RawSchedule>,
    base: &Path,
) -> Vec<ScheduleConfig> {
    let schedules: Vec<ScheduleConfig> = raw
        .into_iter()
        .enumerate()
        .map(|(i, s)| schedule(v, i, s, base))
        .collect();
    refuse_duplicates(
        v,
        "schedules",
        schedules.iter().map(|s| s.name.as_str()),
        |name| format!("another schedule is already named {name:?}"),
    );
    schedules
}

fn route(
    v: &mut Validator,
    i: usize,
    r: RawRoute,
    sources: &BTreeMap<String, SourceConfig>,
    base: &Path,
) -> RouteConfig {
    let path = format!("routes[{i}]");
    if r.source != "*" && !sources.contains_key(&r.source) {
        v.problem(
            format!("{path}.source"),
            format!("no source named {:?} (use \"*\" for all sources)", r.source),
        );
    }
    if r.events.is_empty() || r.events.iter().any(String::is_empty) {
        v.problem(
            format!("{path}.events"),
            "must list at least one non-empty glob",
        );
    }
    if r.action.is_empty() {
        v.problem(format!("{path}.action"), "must name an action plugin");
    }
    let retry_schedule = v.retry_schedule(&path, r.retry);
    let signing_secret = v.signing_secret(&path, r.signing_secret, base);
    v.check_rate_limit(&path, r.rate_limit.as_ref());
    if r.max_in_flight == 0 || r.max_in_flight > MAX_IN_FLIGHT_TOTAL {
        v.problem(
            format!("{path}.max_in_flight"),
            format!("must be between 1 and {MAX_IN_FLIGHT_TOTAL}"),
        );
    }
    let breaker = r
        .breaker
        .map_or_else(BreakerConfig::default, |b| breaker(v, &path, b));
    // The name is derived from the config as written (secret references and templates as
    // text), so it never depends on a secret's value.
    let identity_config = toml_to_json(r.config.clone());
    let config = action_config(v, &path, r.config, base);
    let when = r.when.as_deref().and_then(|expression| {
        Condition::compile(expression)
            .map_err(|e| v.problem(format!("{path}.when"), format!("does not parse: {e}")))
            .ok()
    });
    let filter: BTreeMap<String, serde_json::Value> = r
        .filter
        .into_iter()
        .map(|(key, value)| {
            (
                key,
                serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
            )
        })
        .collect();
    for key in filter.keys() {
        let known = FILTER_FIELDS.contains(&key.as_str())
            || key.strip_prefix("metadata.").is_some_and(|m| !m.is_empty());
        if !known {
            v.problem(
                format!("{path}.filter.{key}"),
                format!(
                    "not a normalized field; use one of {} or metadata.KEY",
                    FILTER_FIELDS.join(", ")
                ),
            );
        }
    }
    let name = name(v, &path, "route", r.name, || match &r.when {
        // Routes without `when` keep the names they had before it existed.
        None => serde_json::json!([r.source, r.events, r.action, identity_config, filter]),
        Some(when) => {
            serde_json::json!([r.source, r.events, r.action, identity_config, filter, when])
        }
    });
    RouteConfig {
        name,
        source: r.source,
        events: r.events,
        action: r.action,
        config,
        filter,
        when,
        retry_schedule,
        signing_secret,
        rate_limit: r.rate_limit,
        breaker,
        max_in_flight: r.max_in_flight.clamp(1, MAX_IN_FLIGHT_TOTAL),
    }
}

fn schedule(v: &mut Validator, i: usize, s: RawSchedule, base: &Path) -> ScheduleConfig {
    let path = format!("schedules[{i}]");
    let cron = parse_cron(&s.cron)
        .map_err(|e| v.problem(format!("{path}.cron"), e))
        .ok();
    if s.action.is_empty() {
        v.problem(format!("{path}.action"), "must name an action plugin");
    }
    let identity_config = toml_to_json(s.config.clone());
    let config = action_config(v, &path, s.config, base);
    let name = name(v, &path, "schedule", s.name, || {
        serde_json::json!([s.cron, s.action, identity_config])
    });
    ScheduleConfig {
        name,
        cron_text: s.cron,
        cron,
        action: s.action,
        config,
        retry_schedule: v.retry_schedule(&path, s.retry),
        signing_secret: v.signing_secret(&path, s.signing_secret, base),
    }
}

/// The compiled `PATH.config`, its problems filed.
fn action_config(v: &mut Validator, path: &str, table: toml::Table, base: &Path) -> ActionConfig {
    let (config, problems) = ActionConfig::compile(&format!("{path}.config"), table, base);
    for (field, message) in problems {
        v.problem(field, message);
    }
    config
}

/// The name of a route or schedule (`kind`): the configured one, which must be `[a-z0-9_-]+`
/// like every name that ends up in URLs, metrics and job records; else `KIND-` and the first
/// 4 bytes of the SHA-256 of the content that identifies the entry, so that reordering
/// entries changes nothing and editing an unnamed one makes it a new one. Jobs in the store
/// refer to these names: the derivation must never change.
fn name(
    v: &mut Validator,
    path: &str,
    kind: &str,
    configured: Option<String>,
    identity: impl FnOnce() -> serde_json::Value,
) -> String {
    match configured {
        Some(name) => {
            if !valid_name(&name) {
                v.problem(
                    format!("{path}.name"),
                    format!("{kind} names may only use a-z, 0-9, '-' and '_'"),
                );
            }
            name
        }
        None => {
            let digest = sha2::Sha256::digest(identity().to_string().as_bytes());
            format!("{kind}-{}", hex::encode(&digest[..4]))
        }
    }
}

/// Files a problem under `LIST[i].name` for every name already used by an earlier entry:
/// two entries with one name would share their jobs.
fn refuse_duplicates<'a>(
    v: &mut Validator,
    list: &str,
    names: impl Iterator<Item = &'a str>,
    message: impl Fn(&str) -> String,
) {
    let mut seen = BTreeSet::new();
    for (i, name) in names.enumerate() {
        if !seen.insert(name) {
            v.problem(format!("{list}[{i}].name"), message(name));
        }
    }
}

/// A route's `breaker` table over the defaults.
fn breaker(v: &mut Validator, path: &str, b: RawBreaker) -> BreakerConfig {
    let mut config = BreakerConfig::default();
    if b.min_attempts.is_some() && b.failures.is_some() {
        v.problem(
            format!("{path}.breaker.failures"),
            "is the older name of min_attempts: give one of them",
        );
    }
    if let Some(n) = b.min_attempts.or(b.failures) {
        if n == 0 {
            v.problem(format!("{path}.breaker.min_attempts"), "must be at least 1");
        }
        config.min_attempts = n.max(1);
    }
    if let Some(rate) = b.failure_rate {
        if !(rate > 0.0 && rate <= 1.0) {
            v.problem(
                format!("{path}.breaker.failure_rate"),
                "must be above 0 and at most 1",
            );
        }
        config.failure_rate = rate;
    }
    if let Some(probes) = b.probes {
        if !(1..=64).contains(&probes) {
            v.problem(format!("{path}.breaker.probes"), "must be between 1 and 64");
        }
        config.probes = probes.clamp(1, 64);
    }
    for (field, text, slot) in [
        ("window", b.window, &mut config.window),
        ("cooldown", b.cooldown, &mut config.cooldown),
    ] {
        if let Some(text) = text {
            match parse_duration(&text) {
                Ok(d) if !d.is_zero() => *slot = d,
                Ok(_) => v.problem(format!("{path}.breaker.{field}"), "must be longer than 0"),
                Err(e) => v.problem(format!("{path}.breaker.{field}"), e),
            }
        }
    }
    config
}
