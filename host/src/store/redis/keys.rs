//! Key names, all under one configurable prefix (default `hookgate:`), so several gateways
//! (or parallel tests) can share a Redis without seeing each other's data.
//!
//! The layout (the Lua scripts in `lua/` build the same names; `P` is the prefix):
//! | key | type | holds |
//! | --- | --- | --- |
//! | `P event:<id>` | hash | the event: source, pid, type, status, error?, received, envelope, payload |
//! | `P idem:<id>` | string, TTL = dedupe window | the idempotency key set with the event |
//! | `P events`, `P events:source:<s>`, `P events:type:<t>` | sorted set | event ids by receive time (listing, counting, schedules' last tick) |
//! | `P jobs:<event id>` | hash | route → job id |
//! | `P job:<id>` | hash | event, route, status, attempts, due, lease, last_lease, entry, error?, updated |
//! | `P seq:job` | string | job id counter (INCR) |
//! | `P attempts:<event id>` | list | every attempt of the event's jobs (JSON), oldest first |
//! | `P stream:<route>` | stream, group `hookgate` | one entry per due job of the route |
//! | `P routes` | set | routes that have a stream |
//! | `P delayed` | sorted set | job ids not due yet, by due time |
//! | `P leases` | sorted set | leased job ids, by lease expiry |
//! | `P pending` | sorted set | every pending job id, by due time (queue depth, oldest due) |
//! | `P dlq`, `P dlq:route:<r>`, `P dlq:source:<s>` | sorted set | `j:<job id>` / `e:<event id>` by dead-letter time |
//! | `P disabled` | hash | route → `{"reason", "since_ms"}` |
//! | `P bucket:route:<r>`, `P bucket:source:<s>` | hash, TTL = time to refill | a shared token bucket: `tokens`, `ts` (µs, Redis's clock); absent = full |
//! | `P holds` | hash | route → end of its hold (ms, Redis's clock): no node delivers along it until then |
//! | `P layout` | string | the number of this layout (see `layout.rs`) |
//!
//! Scripts derive keys from their arguments rather than declaring them, which a single Redis
//! (or a primary with replicas) allows and Redis Cluster does not: hookgate's Redis backend
//! targets one primary. The cluster-coordination scripts (buckets, holds) touch one key
//! each and declare it.

/// The key names of one prefix.
#[derive(Debug, Clone)]
pub(super) struct Keys {
    prefix: String,
}

impl Keys {
    pub(super) fn new(prefix: &str) -> Keys {
        Keys {
            prefix: prefix.to_owned(),
        }
    }

    /// The prefix itself (the scripts' first argument).
    pub(super) fn prefix(&self) -> &str {
        &self.prefix
    }

    fn key(&self, parts: &[&str]) -> String {
        let mut key = String::with_capacity(self.prefix.len() + 48);
        key.push_str(&self.prefix);
        for part in parts {
            key.push_str(part);
        }
        key
    }

    pub(super) fn event(&self, id: &str) -> String {
        self.key(&["event:", id])
    }

    pub(super) fn events(&self) -> String {
        self.key(&["events"])
    }

    pub(super) fn events_of_source(&self, source: &str) -> String {
        self.key(&["events:source:", source])
    }

    pub(super) fn events_of_type(&self, event_type: &str) -> String {
        self.key(&["events:type:", event_type])
    }

    pub(super) fn attempts(&self, event_id: &str) -> String {
        self.key(&["attempts:", event_id])
    }

    pub(super) fn pending(&self) -> String {
        self.key(&["pending"])
    }

    pub(super) fn dlq(&self) -> String {
        self.key(&["dlq"])
    }

    pub(super) fn dlq_of_route(&self, route: &str) -> String {
        self.key(&["dlq:route:", route])
    }

    pub(super) fn dlq_of_source(&self, source: &str) -> String {
        self.key(&["dlq:source:", source])
    }

    pub(super) fn disabled(&self) -> String {
        self.key(&["disabled"])
    }

    /// A shared token bucket (`name` from [`crate::model::names::route_bucket`] or
    /// [`crate::model::names::source_bucket`]).
    pub(super) fn bucket(&self, name: &str) -> String {
        self.key(&["bucket:", name])
    }

    pub(super) fn layout(&self) -> String {
        self.key(&["layout"])
    }

    pub(super) fn holds(&self) -> String {
        self.key(&["holds"])
    }

    pub(super) fn routes(&self) -> String {
        self.key(&["routes"])
    }

    pub(super) fn stream(&self, route: &str) -> String {
        self.key(&["stream:", route])
    }

    #[cfg(test)]
    pub(super) fn idem(&self, id: &str) -> String {
        self.key(&["idem:", id])
    }
}

#[cfg(test)]
mod tests {
    use super::Keys;

    #[test]
    fn every_key_is_under_the_prefix() {
        let k = Keys::new("hg:");
        assert_eq!(k.event("evt_1"), "hg:event:evt_1");
        assert_eq!(
            k.events_of_source("schedule:n"),
            "hg:events:source:schedule:n"
        );
        assert_eq!(k.dlq_of_route("r"), "hg:dlq:route:r");
        assert_eq!(k.stream("a"), "hg:stream:a");
        assert_eq!(k.bucket("route:a"), "hg:bucket:route:a");
        assert_eq!(k.holds(), "hg:holds");
        assert_eq!(k.prefix(), "hg:");
    }
}
