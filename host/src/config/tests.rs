use super::*;
use std::time::Duration;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/etc/hookgate/hookgate.toml"))
}

#[test]
fn defaults_follow_the_contract() {
    let c = parse("").unwrap();
    assert_eq!(c.server.listen, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(c.server.max_body_bytes, 1_048_576);
    assert_eq!(c.server.header_timeout, Duration::from_secs(5));
    assert_eq!(c.server.body_timeout, Duration::from_secs(30));
    assert_eq!(c.storage.backend, Backend::Sqlite);
    assert_eq!(c.storage.path, Path::new("/etc/hookgate/hookgate-data"));
    assert_eq!(c.storage.dedupe_window, Duration::from_secs(7 * 86_400));
    assert_eq!(c.plugins.dir, Path::new("/etc/hookgate/plugins"));
    assert_eq!(c.plugins.call_timeout, Duration::from_millis(100));
    assert_eq!(c.plugins.memory_limit_bytes, 64 << 20);
    assert_eq!(c.admin.token_env, "HOOKGATE_ADMIN_TOKEN");
}

#[test]
fn full_example_parses() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/hookgate.toml"
    ))
    .unwrap();
    let c = parse(&text).unwrap();
    assert!(c.sources.contains_key("stripe"));
    assert_eq!(c.sources["stripe"].secrets.len(), 1);
}

#[test]
fn body_limit_prefers_source_then_larger_plugin_suggestion() {
    let c = parse("[sources.a]\nplugin = \"x\"\nmax_body_bytes = 10\n[sources.b]\nplugin = \"x\"")
        .unwrap();
    assert_eq!(c.body_limit(&c.sources["a"], Some(99_999_999)), 10);
    assert_eq!(c.body_limit(&c.sources["b"], Some(25 << 20)), 25 << 20);
    assert_eq!(c.body_limit(&c.sources["b"], Some(10)), 1_048_576);
    assert_eq!(c.body_limit(&c.sources["b"], None), 1_048_576);
}

/// Unnamed routes and schedules are named after their content: jobs in the store refer to
/// these names, so the derivation must not change (a change would orphan every pending job).
#[test]
fn derived_names_are_stable() {
    let c = parse(
        "[[routes]]\nsource = \"*\"\nevents = [\"payment.*\"]\naction = \"forward\"\nconfig = { url = \"https://example.com/hooks\" }\nfilter = { currency = \"USD\" }\n\
         [[routes]]\nsource = \"*\"\naction = \"forward\"\n\
         [[schedules]]\ncron = \"*/5 * * * *\"\naction = \"forward\"\nconfig = { url = \"https://example.com/tick\" }",
    )
    .unwrap();
    let names = [&c.routes[0].name, &c.routes[1].name, &c.schedules[0].name];
    assert_eq!(
        names,
        ["route-e73860d8", "route-ac082442", "schedule-bd37e721"]
    );
}

#[test]
fn an_unreadable_file_is_named() {
    let err = Config::load(Path::new("/nonexistent/hookgate-golden/hookgate.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("/nonexistent/hookgate-golden/hookgate.toml: cannot read config: "),
        "{err}"
    );
}

#[test]
fn durations_and_cidrs() {
    assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
    assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
    assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    assert!(parse_duration("5").is_err());
    assert!(parse_duration("s").is_err());
    let host = Cidr::parse("127.0.0.1").unwrap();
    assert!(host.contains("127.0.0.1".parse().unwrap()));
    assert!(!host.contains("127.0.0.2".parse().unwrap()));
    let v6 = Cidr::parse("fd00::/8").unwrap();
    assert!(v6.contains("fdff::1".parse().unwrap()));
    assert!(!v6.contains("fe00::1".parse().unwrap()));
    assert!(Cidr::parse("1.2.3.4/33").is_err());
}

/// The allow-list is parsed once, at load, into the blocks the egress policy uses; an
/// IPv4-mapped block is the IPv4 block it carries.
#[test]
fn allow_private_is_parsed_at_load() {
    let c =
        parse("[egress]\nallow_private = [\"10.0.0.0/8\", \"::ffff:192.168.0.0/112\"]").unwrap();
    assert_eq!(
        c.egress.allow_private,
        [
            Cidr::parse("10.0.0.0/8").unwrap(),
            Cidr::parse("192.168.0.0/16").unwrap()
        ]
    );
}

#[test]
fn redis_durability_can_be_relaxed_explicitly() {
    let strict =
        parse("[storage]\nbackend = \"redis\"\nurl = \"redis://127.0.0.1:6379/0\"").unwrap();
    assert_eq!(
        strict.storage.backend,
        Backend::Redis {
            url: "redis://127.0.0.1:6379/0".into(),
            require_durable: true,
            key_prefix: "hookgate:".into(),
            tls_ca_file: None,
        },
        "refusing to lose acks is the default, and so is the prefix"
    );
    let relaxed = parse(
        "[storage]\nbackend = \"redis\"\nurl = \"rediss://127.0.0.1:6379/0\"\nrequire_durable = false\nkey_prefix = \"a:\"",
    )
    .unwrap();
    assert_eq!(
        relaxed.storage.backend,
        Backend::Redis {
            url: "rediss://127.0.0.1:6379/0".into(),
            require_durable: false,
            key_prefix: "a:".into(),
            tls_ca_file: None,
        }
    );
}

/// `storage.tls_ca_file` is read relative to the config, and only with a `rediss://` URL.
#[test]
fn the_redis_ca_file_goes_with_tls_urls_only() {
    let tls = parse(
        "[storage]\nbackend = \"redis\"\nurl = \"rediss://hookgate:pw@redis.internal:6380/0\"\ntls_ca_file = \"ca.pem\"",
    )
    .unwrap();
    let Backend::Redis { tls_ca_file, .. } = &tls.storage.backend else {
        panic!("redis");
    };
    assert_eq!(
        tls_ca_file.as_deref(),
        Some(Path::new("/etc/hookgate/ca.pem"))
    );
    let plain = parse(
        "[storage]\nbackend = \"redis\"\nurl = \"redis://127.0.0.1:6379/0\"\ntls_ca_file = \"ca.pem\"",
    )
    .unwrap_err()
    .to_string();
    assert!(
        plain.contains("storage.tls_ca_file: only used with a rediss:// url"),
        "{plain}"
    );
}

/// `Debug` of a config (what a panic message or a `{:?}` in a log line prints) never shows the
/// Redis password, whatever it holds, nor a route's inline credentials.
#[test]
fn debug_output_hides_secrets() {
    let c = parse(
        "[storage]\nbackend = \"redis\"\nurl = \"rediss://app:pa/ss@word@db.internal:6380/0\"\n\
         [[routes]]\nsource = \"*\"\naction = \"http\"\n\
         config = { url = \"https://crm.example.com/\", headers = { authorization = \"Bearer route-credential-123\" } }\n",
    )
    .unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains("pa/ss"), "{shown}");
    assert!(
        shown.contains("rediss://app:***@db.internal:6380/0"),
        "{shown}"
    );
    assert!(!shown.contains("route-credential-123"), "{shown}");
}
