//! Cheap attacks on the listener, against the real binary (issue 17, items 1 and 18): uploads
//! that announce a large body and send nothing, uploads that fill memory, trickling bodies,
//! idle connections; and the other side of a refusal: a sender still writing its body reads
//! the answer (413, 404) instead of a reset. The attackers connect from 127.0.0.2 (Linux
//! routes all of 127/8 to loopback), the genuine sender from 127.0.0.1, as a platform and a
//! stranger would reach a gateway from different addresses.

use crate::{plugin, start_with};
use hookgate_testkit::{Gateway, GatewayConfig, now, sign};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const STRIPE_SECRET: &str = "whsec_attacks_0123456789";
const SOURCES: &str = "[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"whsec_attacks_0123456789\"]\n\n\
     [sources.github]\nplugin = \"github\"\nsecrets = [\"gh-attacks-secret\"]\nmax_body_bytes = 26214400\n";

async fn gateway(server: &str) -> Gateway {
    start_with(GatewayConfig {
        plugin_files: vec![plugin("stripe"), plugin("github")],
        server: server.into(),
        body: SOURCES.into(),
        env: vec![("HOOKGATE_ADMIN_TOKEN".into(), crate::delivery::TOKEN.into())],
        ..Default::default()
    })
    .await
}

/// A connection from another loopback address than the genuine sender's.
async fn connect_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind((from, 0).into()).unwrap();
    socket.connect(to).await.unwrap()
}

const ATTACKER: [u8; 4] = [127, 0, 0, 2];

/// Sends `count` genuine, signed Stripe events; returns how many were acknowledged (202).
async fn genuine_stripe_events(gw: &Gateway, tag: &str, count: usize) -> usize {
    let mut accepted = 0;
    for i in 0..count {
        let body = format!(
            r#"{{"id":"evt_{tag}_{i}","object":"event","type":"charge.succeeded","created":1700000000,"data":{{"object":{{"id":"ch_{i}","object":"charge"}}}}}}"#
        );
        let signature = sign::stripe(&[STRIPE_SECRET], now(), body.as_bytes());
        let response = gw
            .post("stripe", &[("stripe-signature", signature)], body)
            .await;
        if response.status() == 202 {
            accepted += 1;
        } else {
            eprintln!("genuine {tag} {i}: {}", response.status());
        }
    }
    accepted
}

/// A request head announcing `length` body bytes to `source`.
fn head(source: &str, length: u64, extra: &str) -> String {
    format!(
        "POST /webhooks/{source} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         X-Hub-Signature-256: sha256=00\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: d1\r\n\
         Stripe-Signature: t=1,v1=00\r\nContent-Length: {length}\r\n{extra}\r\n"
    )
}

/// The status of the answer on `stream`, if one comes within `limit`.
async fn status_of(stream: &mut TcpStream, limit: Duration) -> Option<u16> {
    let mut reply = vec![0u8; 4096];
    let n = tokio::time::timeout(limit, stream.read(&mut reply))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&reply[..n]);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// Item 1 as it was measured: 20 connections announce 25 MiB bodies to a GitHub source and a
/// dozen announce 1 MiB to Stripe, then send nothing. Nothing arrived, so nothing is held, and
/// genuine Stripe events keep being acknowledged (before: 503 ×5).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_that_announce_a_body_and_send_nothing_hold_no_memory() {
    let gw = gateway("").await;
    let mut idle = Vec::new();
    for i in 0..32 {
        let (source, length) = if i < 20 {
            ("github", 26_214_400)
        } else {
            ("stripe", 1_048_576)
        };
        let mut stream = connect_from(ATTACKER, gw.addr()).await;
        stream
            .write_all(head(source, length, "").as_bytes())
            .await
            .unwrap();
        idle.push(stream);
    }
    // Every idle upload has reached the handler: the genuine sender's requests come after.
    wait_for_metric(&gw, "hookgate_ingest_in_flight", 32).await;
    let started = Instant::now();
    let accepted = genuine_stripe_events(&gw, "idle", 20).await;
    eprintln!(
        "during 32 idle uploads: {accepted}/20 genuine events acknowledged in {:?}",
        started.elapsed()
    );
    assert_eq!(accepted, 20);
    drop(idle);
}

/// Bytes that do arrive are charged, and one address may hold an eighth of the 512 MiB budget:
/// an attacker sending four 20 MiB parts of 25 MiB bodies has the fourth refused with 503
/// (which it reads: the rest of its body is drained), while another address's genuine events
/// are acknowledged throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_fills_only_its_share_of_body_memory() {
    let gw = gateway("").await;
    let part = vec![b'x'; 20 << 20];
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = connect_from(ATTACKER, gw.addr()).await;
        stream
            .write_all(head("github", 26_214_400, "").as_bytes())
            .await
            .unwrap();
        stream.write_all(&part).await.unwrap();
        held.push(stream);
    }
    // Three parts held: 60 MiB charged, as the gateway's own gauge shows.
    wait_for_metric(&gw, "hookgate_ingest_body_bytes", 60 << 20).await;
    let mut fourth = connect_from(ATTACKER, gw.addr()).await;
    fourth
        .write_all(head("github", 26_214_400, "").as_bytes())
        .await
        .unwrap();
    let _ = fourth.write_all(&part).await;
    assert_eq!(
        status_of(&mut fourth, Duration::from_secs(10)).await,
        Some(503),
        "over the address's share"
    );
    assert_eq!(genuine_stripe_events(&gw, "share", 10).await, 10);
    drop(held);
}

/// A body trickling in under the minimum rate is cut off once the 2 s grace is over, long
/// before `body_timeout`; the connection's slot is free again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_body_is_cut_off_at_the_minimum_rate() {
    let gw = gateway("min_body_bytes_per_sec = 1000\nbody_timeout_ms = 60000").await;
    let stream = connect_from(ATTACKER, gw.addr()).await;
    let (mut reader, mut writer) = stream.into_split();
    writer
        .write_all(head("stripe", 100_000, "").as_bytes())
        .await
        .unwrap();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        while writer.write_all(b"x").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut reply = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(15), reader.read(&mut reply))
        .await
        .expect("answered while the trickle goes on")
        .unwrap();
    let took = started.elapsed();
    assert!(
        String::from_utf8_lossy(&reply[..n]).starts_with("HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&reply[..n])
    );
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "cut off after {took:?} (body_timeout 60 s)"
    );
    // And the connection is closed: the trickle's writes fail soon after.
    tokio::time::timeout(Duration::from_secs(10), trickle)
        .await
        .expect("the connection was closed")
        .unwrap();
    assert_eq!(genuine_stripe_events(&gw, "trickle", 3).await, 3);
}

/// One address may hold a quarter of `max_connections`; its connections beyond are closed at
/// once, and the genuine sender is still served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_holds_a_quarter_of_the_connections() {
    let gw = gateway("max_connections = 16").await;
    let mut open = Vec::new();
    let mut closed = 0;
    for _ in 0..16 {
        let mut stream = connect_from(ATTACKER, gw.addr()).await;
        let mut byte = [0u8; 1];
        match tokio::time::timeout(Duration::from_millis(300), stream.read(&mut byte)).await {
            Ok(Ok(0) | Err(_)) => closed += 1,
            _ => open.push(stream),
        }
    }
    assert_eq!((open.len(), closed), (4, 12));
    let started = Instant::now();
    let accepted = genuine_stripe_events(&gw, "conns", 10).await;
    eprintln!(
        "with 16 attacking connections: {accepted}/10 genuine events acknowledged in {:?}",
        started.elapsed()
    );
    assert_eq!(accepted, 10);
}

/// Item 18: a sender that writes its whole body before reading (as most HTTP clients do)
/// reads the early answer: 413 for 1 MiB + 1 and 10 MiB bodies (declared, so answered before
/// a byte of the body is read), 404 for a large body to no source; with `Expect:
/// 100-continue` the 413 comes without the body being asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn senders_still_writing_read_the_early_answer() {
    let gw = gateway("").await;
    for (source, length, expected) in [
        ("stripe", (1 << 20) + 1, 413),
        ("stripe", 10 << 20, 413),
        ("nope", 2 << 20, 404),
    ] {
        let mut stream = TcpStream::connect(gw.addr()).await.unwrap();
        stream
            .write_all(head(source, length, "").as_bytes())
            .await
            .unwrap();
        let body = vec![b'x'; length as usize];
        stream
            .write_all(&body)
            .await
            .unwrap_or_else(|e| panic!("{source} {length}: the sender was cut off: {e}"));
        assert_eq!(
            status_of(&mut stream, Duration::from_secs(10)).await,
            Some(expected),
            "{source} {length}"
        );
    }
    let mut stream = TcpStream::connect(gw.addr()).await.unwrap();
    stream
        .write_all(head("stripe", 10 << 20, "Expect: 100-continue\r\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(
        status_of(&mut stream, Duration::from_secs(5)).await,
        Some(413)
    );
    assert_eq!(gw.count_events().await, 0);
}

/// The value of an unlabelled metric in a scrape.
fn metric(scrape: &str, name: &str) -> u64 {
    scrape
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

/// Waits until the gateway's metric `name` reaches `at_least`.
async fn wait_for_metric(gw: &Gateway, name: &str, at_least: u64) {
    hookgate_testkit::eventually(
        Duration::from_secs(10),
        &format!("{name} >= {at_least}"),
        move || async move { (metric(&gw.metrics().await, name) >= at_least).then_some(()) },
    )
    .await;
}
