//! The tables `hookgate dlq|events|plugins` print from the admin API's answers, as functions
//! of the typed answers, so their exact text is pinned by tests (scripts read these lines).

use crate::model::{EventId, EventStatus};
use crate::server::api::{
    BulkReplayed, DeadLetter, EventItem, Page, Plugins, Queued, ReplayFailure,
};
use serde::Serialize;

/// The `plugins list` table: a line per plugin, then one per file that failed to load.
pub(super) fn plugin_lines(answer: &Plugins) -> Vec<String> {
    let plugins = answer.plugins.iter().map(|p| {
        // `calls` and `failures` are unpadded: the table has always printed them so (it
        // once formatted JSON values, which ignore widths), and scripts may split on it.
        format!(
            "{:<20} {:<8} {:<8} wit {:<6} calls {} failures {} loaded {}  {}  sha256:{}",
            p.name,
            p.kind.as_str(),
            p.version,
            p.wit_version,
            p.calls,
            p.failures,
            p.loaded_at,
            p.file,
            &p.sha256[..12.min(p.sha256.len())],
        )
    });
    let errors = answer
        .errors
        .iter()
        .map(|e| format!("rejected {}: {}", e.file, e.error));
    plugins.chain(errors).collect()
}

/// The `dlq list` table: a line per dead letter, and how to get the next page.
pub(super) fn dlq_lines(page: &Page<DeadLetter>) -> Vec<String> {
    let mut lines = Vec::new();
    if page.items.is_empty() {
        lines.push("the dead-letter queue is empty".to_owned());
    }
    lines.extend(page.items.iter().map(|d| {
        format!(
            "{}  {}  route={} source={} platform_id={} type={} attempts={}  {}",
            d.dead_lettered_at,
            d.event_id,
            d.route.as_deref().unwrap_or("- (not normalized)"),
            d.source,
            d.platform_event_id,
            d.event_type,
            d.attempts,
            d.error.as_deref().unwrap_or(""),
        )
    }));
    lines.extend(more(page));
    lines
}

/// The `events list` table: a header, a line per event, and how to get the next page.
pub(super) fn event_lines(page: &Page<EventItem>) -> Vec<String> {
    let mut lines = Vec::new();
    if page.items.is_empty() {
        lines.push("no events".to_owned());
    }
    lines.push(format!(
        "{:<24}  {:<36}  {:<12}  {:<28}  deliveries",
        "received", "id", "source", "type"
    ));
    lines.extend(page.items.iter().map(|e| {
        format!(
            "{:<24}  {:<36}  {:<12}  {:<28}  {}/{} delivered, {} dead{}",
            e.received_at,
            e.id,
            e.source,
            e.event_type,
            e.delivered,
            e.jobs,
            e.dead_lettered,
            if e.status == EventStatus::DeadLettered {
                " (not normalized)"
            } else {
                ""
            },
        )
    }));
    lines.extend(more(page));
    lines
}

/// The line that says how to continue a paged listing, if there is more.
fn more<T>(page: &Page<T>) -> Option<String> {
    page.next_cursor
        .as_ref()
        .map(|next| format!("more: --cursor {next}"))
}

/// A bulk replay's pages added up: what `dlq replay --all` (or a filter) reports at the end.
/// `--json` prints this, not a page: there is no cursor left to give.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub(super) struct BulkTotal {
    status: Queued,
    replayed: u64,
    event_ids: Vec<EventId>,
    failed: Vec<ReplayFailure>,
}

impl BulkTotal {
    /// Adds one page; where the next page starts, if there is one.
    pub(super) fn add(&mut self, page: BulkReplayed) -> Option<String> {
        self.replayed += page.replayed as u64;
        self.event_ids.extend(page.event_ids);
        self.failed.extend(page.failed);
        page.next_cursor
    }

    /// The progress line between pages (on stderr: stdout keeps the result).
    pub(super) fn progress(&self, elapsed: std::time::Duration) -> String {
        format!(
            "replaying… {} event(s) queued, {} not replayable, {:.1} s",
            self.replayed,
            self.failed.len(),
            elapsed.as_secs_f64()
        )
    }

    /// The summary: how many were queued, and each event that was not, with why.
    pub(super) fn lines(&self) -> Vec<String> {
        std::iter::once(format!("{} event(s) queued for replay", self.replayed))
            .chain(
                self.failed
                    .iter()
                    .map(|f| format!("  not replayed: {} ({})", f.event_id, f.error)),
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::api::{Plugin, PluginError, PluginKind, Rejection};

    fn dead_letter(route: Option<&str>, error: Option<&str>) -> DeadLetter {
        DeadLetter {
            event_id: "evt_1".into(),
            route: route.map(str::to_owned),
            source: "stripe".into(),
            event_type: "payment.completed".into(),
            platform_event_id: "evt_3Nabc".into(),
            attempts: 3,
            error: error.map(str::to_owned),
            received_at: "2026-11-23T10:00:00.000Z".into(),
            dead_lettered_at: "2026-11-23T10:05:00.000Z".into(),
        }
    }

    #[test]
    fn the_dlq_table() {
        let page = Page {
            items: vec![
                dead_letter(Some("crm"), Some("HTTP 404")),
                dead_letter(None, None),
            ],
            next_cursor: Some("c1".into()),
        };
        assert_eq!(
            dlq_lines(&page),
            [
                "2026-11-23T10:05:00.000Z  evt_1  route=crm source=stripe platform_id=evt_3Nabc type=payment.completed attempts=3  HTTP 404",
                "2026-11-23T10:05:00.000Z  evt_1  route=- (not normalized) source=stripe platform_id=evt_3Nabc type=payment.completed attempts=3  ",
                "more: --cursor c1",
            ]
        );
        let empty = Page::<DeadLetter> {
            items: Vec::new(),
            next_cursor: None,
        };
        assert_eq!(dlq_lines(&empty), ["the dead-letter queue is empty"]);
    }

    #[test]
    fn the_events_table() {
        let item = |status| EventItem {
            id: "evt_1".into(),
            source: "stripe".into(),
            event_type: "payment.completed".into(),
            status,
            received_at: "2026-11-23T10:00:00.000Z".into(),
            jobs: 2,
            delivered: 1,
            dead_lettered: 1,
        };
        let page = Page {
            items: vec![item(EventStatus::Pending), item(EventStatus::DeadLettered)],
            next_cursor: None,
        };
        let header = "received                  id                                    source        type                          deliveries";
        assert_eq!(
            event_lines(&page),
            [
                header,
                "2026-11-23T10:00:00.000Z  evt_1                                 stripe        payment.completed             1/2 delivered, 1 dead",
                "2026-11-23T10:00:00.000Z  evt_1                                 stripe        payment.completed             1/2 delivered, 1 dead (not normalized)",
            ]
        );
        let empty = Page::<EventItem> {
            items: Vec::new(),
            next_cursor: Some("c2".into()),
        };
        assert_eq!(
            event_lines(&empty),
            ["no events", header, "more: --cursor c2"]
        );
    }

    #[test]
    fn the_plugins_table() {
        let answer = Plugins {
            plugins: vec![Plugin {
                name: "stripe".into(),
                kind: PluginKind::Platform,
                version: "0.1.0".into(),
                wit_version: "1.2.0".into(),
                description: "Stripe".into(),
                file: "plugins/stripe.wasm".into(),
                sha256: "8f6565a4815ac407e5aa7b53".into(),
                loaded_at: "2026-11-23T10:00:00.000Z".into(),
                from_cache: false,
                calls: 1234,
                failures: 5,
            }],
            errors: vec![PluginError {
                file: "plugins/bad.wasm".into(),
                error: "not a component".into(),
            }],
            rejections: vec![Rejection {
                file: "plugins/bad.wasm".into(),
                count: 2,
            }],
        };
        assert_eq!(
            plugin_lines(&answer),
            [
                "stripe               platform 0.1.0    wit 1.2.0  calls 1234 failures 5 loaded 2026-11-23T10:00:00.000Z  plugins/stripe.wasm  sha256:8f6565a4815a",
                "rejected plugins/bad.wasm: not a component",
            ]
        );
    }

    #[test]
    fn a_bulk_replay_adds_its_pages_up() {
        let mut total = BulkTotal::default();
        let page = |ids: &[&str], failed: &[&str], next: Option<&str>| BulkReplayed {
            status: Queued::Queued,
            replayed: ids.len(),
            event_ids: ids.iter().map(|&s| s.into()).collect(),
            failed: failed
                .iter()
                .map(|id| ReplayFailure {
                    event_id: (*id).into(),
                    error: "no configured route matches this event".into(),
                })
                .collect(),
            next_cursor: next.map(str::to_owned),
        };
        assert_eq!(
            total.add(page(&["evt_1", "evt_2"], &["evt_3"], Some("c"))),
            Some("c".into())
        );
        assert_eq!(
            total.progress(std::time::Duration::from_millis(1300)),
            "replaying… 2 event(s) queued, 1 not replayable, 1.3 s"
        );
        assert_eq!(total.add(page(&["evt_4"], &[], None)), None);
        assert_eq!(
            total.lines(),
            [
                "3 event(s) queued for replay",
                "  not replayed: evt_3 (no configured route matches this event)",
            ]
        );
        // `--json` prints the total with sorted keys and no cursor.
        assert_eq!(
            serde_json::to_string(&serde_json::to_value(&total).unwrap()).unwrap(),
            r#"{"event_ids":["evt_1","evt_2","evt_4"],"failed":[{"error":"no configured route matches this event","event_id":"evt_3"}],"replayed":3,"status":"queued"}"#
        );
    }
}
