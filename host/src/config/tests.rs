use super::*;

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
    assert!(c.storage.require_durable);
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

/// Bad configs are refused with a message naming the file and the field.
#[test]
fn bad_configs_name_the_field() {
    let cases: &[(&str, &[&str])] = &[
        ("[server]\nlisten = \"localhost\"", &["server.listen"]),
        (
            "[server]\nlisen = \"127.0.0.1:1\"",
            &["unknown field", "lisen"],
        ),
        (
            "[server]\nmax_body_bytes = 0\nheader_timeout_ms = 0",
            &["server.max_body_bytes", "server.header_timeout_ms"],
        ),
        ("[storage]\nbackend = \"postgres\"", &["storage.backend"]),
        ("[storage]\nbackend = \"redis\"", &["storage.url"]),
        (
            "[storage]\nrequire_durable = false",
            &[
                "storage.require_durable",
                "only used with backend = \"redis\"",
            ],
        ),
        (
            "[storage]\nbackend = \"redis\"\nurl = \"redis://127.0.0.1:6379/0\"\nrequire_durable = \"yes\"",
            &["require_durable", "line 4"],
        ),
        (
            "[storage]\nkey_prefix = \"a:\"",
            &["storage.key_prefix", "only used with backend = \"redis\""],
        ),
        (
            "[storage]\nbackend = \"redis\"\nurl = \"redis://127.0.0.1:6379/0\"\nkey_prefix = \"has space\"",
            &["storage.key_prefix", "printable"],
        ),
        (
            "[server]\nshutdown_delay_ms = 600001",
            &["server.shutdown_delay_ms"],
        ),
        (
            "[plugins]\nmemory_limit_mib = 0\ncall_timeout_ms = 0",
            &["plugins.memory_limit_mib", "plugins.call_timeout_ms"],
        ),
        (
            "[egress]\nallow_private = [\"10.0.0.0/99\"]",
            &["egress.allow_private[0]"],
        ),
        ("[sources.Bad]\nplugin = \"stripe\"", &["sources.Bad"]),
        (
            "[sources.s]\nplugin = \"stripe\"\nsecrets = [{ env = \"HOOKGATE_SURELY_UNSET\" }]",
            &["sources.s.secrets[0]", "HOOKGATE_SURELY_UNSET"],
        ),
        (
            "[sources.s]\nplugin = \"stripe\"\nsecrets = [{ vault = \"x\" }]",
            &["line 3", "{ env = \"VAR\" }"],
        ),
        (
            "[sources.s]\nplugin = \"\"\nrate_limit = { per_second = 0, burst = 0 }",
            &["sources.s.plugin", "sources.s.rate_limit"],
        ),
        (
            "[sources.s]\nsecrets = [\"x\"]",
            &["missing field", "plugin"],
        ),
        (
            "[[routes]]\nsource = \"nope\"\naction = \"forward\"\nretry = { schedule = [\"5 minutes\"] }",
            &["routes[0].source", "routes[0].retry.schedule[0]"],
        ),
        (
            "[[schedules]]\ncron = \"often\"\naction = \"forward\"",
            &["schedules[0].cron"],
        ),
        ("not toml at all [", &["hookgate.toml"]),
    ];
    for (text, needles) in cases {
        let err = parse(text).expect_err(text).to_string();
        assert!(
            err.contains("/etc/hookgate/hookgate.toml"),
            "no file name in: {err}"
        );
        for needle in *needles {
            assert!(
                err.contains(needle),
                "{text:?}: expected {needle:?} in: {err}"
            );
        }
    }
}

#[test]
fn durations_and_cidrs() {
    assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
    assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
    assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    assert!(parse_duration("5").is_err());
    assert!(parse_duration("s").is_err());
    assert_eq!(
        parse_cidr("127.0.0.1"),
        Ok(("127.0.0.1".parse().unwrap(), 32))
    );
    assert_eq!(parse_cidr("fd00::/8"), Ok(("fd00::".parse().unwrap(), 8)));
    assert!(parse_cidr("1.2.3.4/33").is_err());
}

#[test]
fn redis_durability_can_be_relaxed_explicitly() {
    let strict =
        parse("[storage]\nbackend = \"redis\"\nurl = \"redis://127.0.0.1:6379/0\"").unwrap();
    assert!(
        strict.storage.require_durable,
        "refusing to lose acks is the default"
    );
    let relaxed = parse(
        "[storage]\nbackend = \"redis\"\nurl = \"redis://127.0.0.1:6379/0\"\nrequire_durable = false",
    )
    .unwrap();
    assert!(!relaxed.storage.require_durable);
    assert_eq!(
        relaxed.storage.key_prefix, "hookgate:",
        "the default prefix"
    );
    assert_eq!(
        relaxed.storage.backend,
        Backend::Redis {
            url: "redis://127.0.0.1:6379/0".into()
        }
    );
}
