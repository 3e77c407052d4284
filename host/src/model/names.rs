//! Names derived from configured names, each rule in one place: a schedule's ticks are events
//! of source `schedule:<name>` whose jobs go to the destination of the same name, and rate-limit
//! buckets are scoped by what they limit, so a route and a source of the same name never share
//! one.

/// Prefix of a schedule's source (and destination) name.
const SCHEDULE_PREFIX: &str = "schedule:";

/// The source name of a schedule's tick events, which is also its jobs' destination name.
pub fn schedule_source(name: &str) -> String {
    format!("{SCHEDULE_PREFIX}{name}")
}

/// Whether `source` is a schedule's (its events go to the destination of the same name, not
/// through the routes).
pub fn is_schedule_source(source: &str) -> bool {
    source.starts_with(SCHEDULE_PREFIX)
}

/// The bucket of a route's delivery rate limit (`[[routes]] rate_limit`).
pub fn route_bucket(route: &str) -> String {
    format!("route:{route}")
}

/// The bucket of a source's ingest rate limit (`[sources.x] rate_limit`).
pub fn source_bucket(source: &str) -> String {
    format!("source:{source}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_and_buckets_are_named_apart() {
        assert_eq!(schedule_source("nightly"), "schedule:nightly");
        assert!(is_schedule_source(&schedule_source("nightly")));
        assert!(!is_schedule_source("stripe"));
        assert_ne!(route_bucket("stripe"), source_bucket("stripe"));
    }
}
