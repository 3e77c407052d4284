//! Crashes in the middle of delivering and scheduling: `kill -9`, restart, and nothing
//! acknowledged is lost or fired twice.

use crate::delivery::{TOKEN, gateway, send};
use crate::{plugin, start_with};
use hookgate_testkit::{GatewayConfig, Receiver, Reply, eventually};
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, SystemTime};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_delivery_burst_loses_nothing() {
    let rx = Receiver::start().await;
    // A slowish destination that also fails now and then, so the kill lands on jobs in every
    // state: leased and in flight, waiting for a retry, delivered.
    rx.set_default("/hook", Reply::status(200).delay(Duration::from_millis(30)));
    rx.script(
        "/hook",
        (0..20).map(|i| {
            if i % 3 == 0 {
                Reply::status(503)
            } else {
                Reply::status(200).delay(Duration::from_millis(30))
            }
        }),
    );
    let routes = "[[routes]]\nname = \"crm\"\nsource = \"stripe\"\naction = \"forward\"\n\
        retry = { schedule = [\"200ms\", \"200ms\", \"200ms\", \"200ms\", \"200ms\"] }\n";
    let mut gw = gateway(
        &format!("{routes}config = {{ url = \"{}\" }}\n", rx.url("/hook")),
        true,
    )
    .await;
    let mut acked = Vec::new();
    for i in 0..120 {
        acked.push(send(&gw, &format!("evt_burst_{i}")).await);
    }
    eventually(Duration::from_secs(20), "some deliveries", || async {
        (rx.received("/hook").len() >= 20).then_some(())
    })
    .await;
    gw.kill9();
    let before = rx.received("/hook").len();
    gw.restart().await;

    eventually(Duration::from_secs(60), "every job finished", || async {
        // Each listed event counts its jobs, and those delivered or dead-lettered.
        let unfinished = gw
            .events()
            .await
            .iter()
            .filter(|e| acked.iter().any(|id| e["id"] == id.as_str()))
            .filter(|e| {
                let count = |field: &str| e[field].as_u64().expect("a job count");
                count("jobs") > count("delivered") + count("dead_lettered")
            })
            .count();
        (unfinished == 0).then_some(())
    })
    .await;
    let delivered: HashSet<String> = rx
        .received("/hook")
        .iter()
        .filter_map(|r| r.header("idempotency-key").map(str::to_owned))
        .collect();
    let missing: Vec<&String> = acked.iter().filter(|id| !delivered.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged events never reached the destination (first: {:?})",
        missing.len(),
        missing.first()
    );
    assert!(
        rx.received("/hook").len() > before,
        "the restarted gateway delivered the rest"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_fires_on_time_and_never_twice_across_a_restart() {
    let rx = Receiver::start().await;
    let mut gw = start_with(GatewayConfig {
        plugin_files: vec![plugin("forward-action")],
        body: format!(
            "[egress]\nallow_private = [\"127.0.0.1/32\"]\n\n\
             [[schedules]]\nname = \"heartbeat\"\ncron = \"* * * * * *\"\naction = \"forward\"\n\
             config = {{ url = \"{}\" }}\n",
            rx.url("/tick")
        ),
        env: vec![("HOOKGATE_ADMIN_TOKEN".into(), TOKEN.into())],
        ..Default::default()
    })
    .await;
    eventually(Duration::from_secs(10), "three ticks", || async {
        (rx.received("/tick").len() >= 3).then_some(())
    })
    .await;
    // On time: each tick arrives within 1.5 s of its scheduled instant.
    for tick in rx.received("/tick") {
        let event = tick.json();
        assert_eq!(event["type"], "schedule.tick");
        assert_eq!(event["source"], "schedule:heartbeat");
        let scheduled = time::OffsetDateTime::parse(
            event["occurred_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        let arrived = time::OffsetDateTime::from(tick.wall);
        let late = arrived - scheduled;
        assert!(
            late >= time::Duration::ZERO && late < time::Duration::milliseconds(1500),
            "tick {scheduled} arrived {late} after its time"
        );
    }

    gw.kill9();
    // The downtime is the scenario: ticks must fall due while the gateway is down. Rather than
    // a guessed duration, wait for the clock to pass the next two tick instants (whole
    // seconds) after the kill; the restarted gateway then says it fired what it missed.
    let killed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap();
    let two_ticks_later = Duration::from_secs(killed.as_secs() + 2) + Duration::from_millis(50);
    tokio::time::sleep(two_ticks_later - killed).await;
    gw.restart().await;
    assert!(
        gw.logs()
            .contains("firing ticks missed while hookgate was down"),
        "{}",
        gw.logs()
    );
    let after_restart = rx.received("/tick").len();
    eventually(
        Duration::from_secs(10),
        "ticks after the restart",
        || async { (rx.received("/tick").len() >= after_restart + 3).then_some(()) },
    )
    .await;

    // Every tick is one event with one key (a redelivery after the crash repeats the key),
    // and the ticks have no gap: the ones due while the gateway was down were fired on start.
    let mut by_time: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    for tick in rx.received("/tick") {
        let event = tick.json();
        by_time
            .entry(event["occurred_at"].as_str().unwrap().to_owned())
            .or_default()
            .insert(tick.header("idempotency-key").unwrap().to_owned());
    }
    for (at, keys) in &by_time {
        assert_eq!(keys.len(), 1, "tick {at} fired as {} events", keys.len());
    }
    let seconds: Vec<i64> = by_time
        .keys()
        .map(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .unwrap()
                .unix_timestamp()
        })
        .collect();
    for pair in seconds.windows(2) {
        assert_eq!(
            pair[1] - pair[0],
            1,
            "a tick was lost between {} and {}",
            pair[0],
            pair[1]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_burst_drains_within_the_deadline_and_resumes_after_restart() {
    let rx = Receiver::start().await;
    rx.set_default(
        "/hook",
        Reply::status(200).delay(Duration::from_millis(150)),
    );
    let routes = format!(
        "[[routes]]\nname = \"crm\"\nsource = \"stripe\"\naction = \"forward\"\n\
         config = {{ url = \"{}\" }}\nmax_in_flight = 4\n",
        rx.url("/hook")
    );
    let mut gw = start_with(GatewayConfig {
        plugin_files: vec![plugin("stripe"), plugin("forward-action")],
        server: "shutdown_timeout_ms = 3000".into(),
        body: format!(
            "[egress]\nallow_private = [\"127.0.0.1/32\"]\n\n\
             [sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"whsec_delivery\"]\n\n{routes}"
        ),
        env: vec![("HOOKGATE_ADMIN_TOKEN".into(), TOKEN.into())],
        ..Default::default()
    })
    .await;
    let mut acked = Vec::new();
    for i in 0..60 {
        acked.push(send(&gw, &format!("evt_term_{i}")).await);
    }
    eventually(Duration::from_secs(20), "a few deliveries", || async {
        (rx.received("/hook").len() >= 8).then_some(())
    })
    .await;
    let took = gw.terminate(Duration::from_secs(10));
    let took = took.expect("the gateway exits after SIGTERM");
    assert!(
        took < Duration::from_millis(3500),
        "exit took {took:?} with a 3 s deadline"
    );
    assert!(gw.logs().contains("hookgate stopped"), "a clean stop");
    let first_process = rx.received("/hook").len();
    assert!(first_process < acked.len(), "the burst was cut short");

    gw.restart().await;
    eventually(
        Duration::from_secs(60),
        "every acknowledged event delivered",
        || async {
            let keys: HashSet<String> = rx
                .received("/hook")
                .iter()
                .filter_map(|r| r.header("idempotency-key").map(str::to_owned))
                .collect();
            acked.iter().all(|id| keys.contains(id)).then_some(())
        },
    )
    .await;
    // In-flight deliveries finished before the exit and were recorded: nothing twice.
    let keys: Vec<String> = rx
        .received("/hook")
        .iter()
        .filter_map(|r| r.header("idempotency-key").map(str::to_owned))
        .collect();
    let unique: HashSet<&String> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "an event was delivered twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_fails_ready_first_and_accepts_webhooks_for_the_shutdown_delay() {
    let mut gw = start_with(GatewayConfig {
        plugin_files: vec![plugin("stripe")],
        server: "shutdown_delay_ms = 1500\nshutdown_timeout_ms = 2000".into(),
        body: "[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"whsec_delivery\"]\n".into(),
        env: vec![("HOOKGATE_ADMIN_TOKEN".into(), TOKEN.into())],
        ..Default::default()
    })
    .await;
    let ready = gw.client().get(gw.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let started = std::time::Instant::now();
    gw.sigterm();
    eventually(Duration::from_secs(1), "/ready fails at once", || async {
        let r = gw.client().get(gw.url("/ready")).send().await.ok()?;
        (r.status() == 503).then_some(())
    })
    .await;
    // Load balancers still route here until they notice: those webhooks are taken, durably.
    let id = send(&gw, "evt_during_the_delay").await;
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "still inside the delay"
    );
    let took = gw
        .wait_for_exit(Duration::from_secs(10))
        .expect("the gateway exits after the delay");
    let total = started.elapsed();
    assert!(
        total >= Duration::from_millis(1500) && total < Duration::from_millis(4000),
        "exit after {total:?} (waited {took:?}) with a 1.5 s delay and a 2 s deadline"
    );
    // The admin API needs a running gateway: ask the one restarted on the same store.
    gw.restart().await;
    assert!(
        gw.event(&id).await.is_some(),
        "the webhook taken during the delay is stored"
    );
}
