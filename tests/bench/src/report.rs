//! The results as markdown: tables, every figure next to its baseline, and the targets.

use crate::scenarios::{LoadRow, Results};
use std::fmt::Write;

fn find<'a>(
    rows: &'a [LoadRow],
    scenario: &str,
    payload: &str,
    server: &str,
) -> Option<&'a LoadRow> {
    rows.iter()
        .find(|r| r.scenario == scenario && r.payload == payload && r.server == server)
}

/// Renders `results`.
pub fn markdown(results: &Results) -> String {
    let mut out = String::new();
    let rows = &results.loads;
    let _ = writeln!(
        out,
        "Machine: {}. {} s measured per run.\n",
        results.machine, results.seconds
    );
    let _ = writeln!(
        out,
        "**Ingest, maximum throughput** (closed loop, 64 connections):\n\n\
         | payload | server | req/s | × durable ref | × bare | p50 ms | p99 ms | errors | peak RSS MiB |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for r in rows.iter().filter(|r| r.scenario == "ingest") {
        let reference = find(rows, "ingest", r.payload, "durable reference");
        let bare = find(rows, "ingest", r.payload, "bare axum");
        let ratio = |base: Option<&LoadRow>| {
            base.map_or("–".into(), |b| {
                format!("{:.2}", r.outcome.throughput / b.outcome.throughput)
            })
        };
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} | {} | {:.2} | {:.2} | {} | {:.0} |",
            r.payload,
            r.server,
            r.outcome.throughput,
            ratio(reference),
            ratio(bare),
            r.outcome.p50_ms,
            r.outcome.p99_ms,
            r.outcome.errors,
            r.peak_rss_mib
        );
    }
    let _ = writeln!(
        out,
        "\n**Acknowledgement latency** (open loop, 2,000 req/s, Stripe 2 KB; latency from each \
         request's scheduled time):\n\n\
         | server | achieved req/s | p50 ms | p99 ms | p99.9 ms | errors | peak RSS MiB |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for r in rows.iter().filter(|r| r.scenario == "latency") {
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {:.0} |",
            r.server,
            r.outcome.throughput,
            r.outcome.p50_ms,
            r.outcome.p99_ms,
            r.outcome.p999_ms,
            r.outcome.errors,
            r.peak_rss_mib
        );
    }
    if let Some(e) = &results.end_to_end {
        let _ = writeln!(
            out,
            "\n**End to end** (Stripe 2 KB in, `forward` to a loopback receiver, 32 connections): \
             {:.0} events/s delivered ({} accepted at {:.0}/s, {} delivered), peak RSS {:.0} MiB.",
            e.delivered_per_sec, e.accepted, e.ingest_per_sec, e.delivered, e.peak_rss_mib
        );
        if let Some(h) = &results.end_to_end_http {
            let _ = writeln!(
                out,
                "With a templated `http` action instead (a body of seven rendered fields: typed \
                 values, `money`, `date`, `default`, an object): {:.0} events/s delivered \
                 ({:.2}× `forward`; {} accepted, {} delivered), peak RSS {:.0} MiB.",
                h.delivered_per_sec,
                h.delivered_per_sec / e.delivered_per_sec,
                h.accepted,
                h.delivered,
                h.peak_rss_mib
            );
        }
    }
    let _ = writeln!(
        out,
        "\n**Plugin call overhead** (one call at a time; median per call):\n\n\
         | payload | native verify + normalize µs | fresh instance + verify + normalize µs | ratio | earlier interface's plugin µs |\n\
         | --- | ---: | ---: | ---: | ---: |"
    );
    for o in &results.overhead {
        let before = o
            .before_us
            .map_or_else(|| "–".to_owned(), |us| format!("{us:.1}"));
        let _ = writeln!(
            out,
            "| {} ({} B) | {:.1} | {:.1} | {:.2} | {before} |",
            o.payload,
            o.body_bytes,
            o.native_us,
            o.wasm_us,
            o.ratio()
        );
    }
    if let Some(rl) = &results.reload {
        let _ = writeln!(
            out,
            "\n**Hot reload under load**: stripe.wasm replaced {} times during the run; {:.0} \
             req/s with {} errors (steady: {:.0} req/s, {} errors).",
            rl.replacements,
            rl.outcome.throughput,
            rl.outcome.errors,
            rl.steady.throughput,
            rl.steady.errors
        );
    }
    if let Some(s) = &results.startup {
        let _ = writeln!(
            out,
            "\n**Start** with all {} first-party plugins (spawn to listening, median of 3): \
             cold {:.0} ms, warm (compiled-code cache) {:.0} ms.",
            s.plugins, s.cold_ms, s.warm_ms
        );
    }
    if let Some(r) = &results.retention {
        retention(&mut out, r);
    }
    let _ = writeln!(out, "\n**Targets**:\n");
    for line in targets(results) {
        let _ = writeln!(out, "- {line}");
    }
    out
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// Each target of the issue with its figure.
fn targets(results: &Results) -> Vec<String> {
    let rows = &results.loads;
    let mut lines = Vec::new();
    for payload in ["stripe 2 KB", "github 15 KB"] {
        if let (Some(gw), Some(reference)) = (
            find(rows, "ingest", payload, "hookgate (sqlite)"),
            find(rows, "ingest", payload, "durable reference"),
        ) {
            let ratio = gw.outcome.throughput / reference.outcome.throughput;
            lines.push(format!(
                "ingest on SQLite ≥ 1.0× the durable reference at {payload}: {ratio:.2}× — {}",
                verdict(ratio >= 1.0)
            ));
        }
    }
    if let (Some(gw), Some(reference)) = (
        find(rows, "latency", "stripe 2 KB", "hookgate (sqlite)"),
        find(rows, "latency", "stripe 2 KB", "durable reference"),
    ) {
        lines.push(format!(
            "ack latency at 2,000 req/s, p99 ≤ the reference's: {:.2} ms vs {:.2} ms — {}",
            gw.outcome.p99_ms,
            reference.outcome.p99_ms,
            verdict(gw.outcome.p99_ms <= reference.outcome.p99_ms)
        ));
        lines.push(format!(
            "ack latency at 2,000 req/s, p50 < 2 ms: {:.2} ms — {}",
            gw.outcome.p50_ms,
            verdict(gw.outcome.p50_ms < 2.0)
        ));
    }
    for o in &results.overhead {
        lines.push(format!(
            "plugin overhead ≤ 2× native ({}): {:.2}× — {}",
            o.payload,
            o.ratio(),
            verdict(o.ratio() <= 2.0)
        ));
    }
    if let Some(e) = &results.end_to_end {
        lines.push(format!(
            "end to end ≥ 5,000 events/s: {:.0}/s — {}",
            e.delivered_per_sec,
            verdict(e.delivered_per_sec >= 5_000.0)
        ));
        if let Some(h) = &results.end_to_end_http {
            let ratio = h.delivered_per_sec / e.delivered_per_sec;
            lines.push(format!(
                "templated http ≥ 0.8× forward end to end: {ratio:.2}× — {}",
                verdict(ratio >= 0.8)
            ));
        }
    }
    let peak = rows
        .iter()
        .filter(|r| r.server.starts_with("hookgate"))
        .map(|r| r.peak_rss_mib)
        .chain(results.end_to_end.as_ref().map(|e| e.peak_rss_mib))
        .chain(results.end_to_end_http.as_ref().map(|e| e.peak_rss_mib))
        .reduce(f64::max);
    if let Some(peak) = peak {
        lines.push(format!(
            "peak RSS < 150 MiB with all plugins at full load: {peak:.0} MiB — {}",
            verdict(peak < 150.0)
        ));
    }
    lines
}

/// The retention scenario's two tables.
fn retention(out: &mut String, r: &crate::retention::RetentionFigures) {
    let p = &r.prune;
    let _ = writeln!(
        out,
        "\n**Ingest while pruning** (SQLite, open loop, 2,000 req/s, Stripe 2 KB, no routes; \
         both runs on a gateway freshly started on the same store, pre-filled with {} events \
         at {:.0}/s, {} pre-fill errors):\n\n\
         | retention | events stored at start | achieved req/s | p50 ms | p99 ms | p99.9 ms | errors | pruned in the window | gateway CPU in the window | peak RSS MiB |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        p.prefilled, p.prefill_per_sec, p.prefill_errors
    );
    for (label, stored, o, pruned, cpu, rss) in [
        (
            "30d (nothing to prune)",
            p.prefilled,
            &p.quiet,
            p.quiet_pruned,
            p.quiet_cpu,
            p.quiet_peak_rss_mib,
        ),
        (
            "1s (all of it prunable)",
            p.backlog,
            &p.pruning,
            p.pruned_in_window,
            p.pruning_cpu,
            p.pruning_peak_rss_mib,
        ),
    ] {
        let _ = writeln!(
            out,
            "| {label} | {stored} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {pruned} | {:.0} % | {rss:.0} |",
            o.throughput,
            o.p50_ms,
            o.p99_ms,
            o.p999_ms,
            o.errors,
            cpu * 100.0
        );
    }
    for (label, w) in [
        ("nothing to prune", &p.quiet_writes),
        ("pruning", &p.pruning_writes),
    ] {
        let _ = writeln!(
            out,
            "\nStore transactions, {label} (whole run, warm-up included): {} group commits, \
             {:.2} ms mean, {:.1} writes each, {} over 12.8 ms, {} over 51.2 ms; {} background \
             checkpoints, {:.2} ms mean.",
            w.transactions,
            w.mean_ms,
            w.mean_batch,
            w.over_12_8_ms,
            w.over_51_2_ms,
            w.checkpoints,
            w.checkpoint_mean_ms
        );
    }
    let cleared = p.backlog_cleared_at_s.map_or_else(
        || "not by the end of the run".to_owned(),
        |t| format!("{t:+.1} s from the window's opening"),
    );
    let _ = writeln!(
        out,
        "\nWhile pruning / nothing to prune: p99 {:.2}×, p50 {:.2}×. Pruned {} events during the \
         warm-up and {} in the measured window; the backlog of {} was gone at {cleared}; {} \
         events left after the run. With `delivered = \"1s\"` the run's own events also became \
         prunable a second after arrival: once the backlog was gone the pruner went on with \
         those (counted above), a heavier prune than the backlog alone.",
        p.p99_ratio(),
        p.p50_ratio(),
        p.pruned_before_window,
        p.pruned_in_window,
        p.backlog,
        p.left_after
    );
    let _ = writeln!(
        out,
        "\n**Bytes per stored event** (`hookgate_store_bytes` after − before, over the events \
         stored; one `forward` route, every job delivered; SQLite: database + WAL files, Redis: \
         the whole server's `used_memory`):\n\n\
         | backend | payload | body B | events | errors | before | after | B per event | of which WAL growth | over the body, WAL growth aside | settled |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    );
    for b in &r.bytes {
        let wal = b
            .wal_per_event()
            .map_or_else(|| "–".to_owned(), |v| format!("{v:.0}"));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {:.0} | {wal} | {:.0} | {} |",
            b.backend,
            b.payload,
            b.body_bytes,
            b.events,
            b.errors,
            b.before,
            b.after,
            b.per_event(),
            b.overhead_per_event(),
            if b.settled { "yes" } else { "NO" }
        );
    }
    for b in r.bytes.iter().filter(|b| b.wal_after.is_some()) {
        let _ = writeln!(
            out,
            "\nSQLite {}: WAL file {} → {} bytes.",
            b.payload,
            b.wal_before.unwrap_or(0),
            b.wal_after.unwrap_or(0)
        );
    }
    if let Some(keys) = r.redis_keys_per_event {
        let _ = writeln!(
            out,
            "\nRedis: {keys:.2} keys per event under the scenario's prefix (deleted afterwards)."
        );
    }
    let l = &r.log;
    let _ = writeln!(
        out,
        "\nGateway logs: {} prune passes completed and logged, {} events (a pass still running \
         when its gateway was stopped logs nothing); {} warnings or errors{}",
        l.passes,
        l.passes_pruned,
        l.problems,
        if l.first_problems.is_empty() {
            ".".to_owned()
        } else {
            format!(": {}", l.first_problems.join(" / "))
        }
    );
}
