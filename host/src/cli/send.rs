//! `hookgate send SOURCE --file payload.json`: signs a payload with the source's configured
//! secret, through the source's own platform plugin (its optional 1.2.0 `signer` export), and
//! posts it to the gateway, so an operator can test a source and its routes end to end without
//! the platform. The signature never reaches the terminal or the log.

use super::admin::gateway_base;
use crate::config::Config;
use crate::runtime::{
    Header, Limits, Loaded, PlatformPlugin, Request, Runtime, SignContext, load_file,
};
use anyhow::{Context, bail};
use clap::Args;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;

/// `hookgate send ...`.
#[derive(Args)]
pub struct SendArgs {
    /// The source to send to: a `[sources.NAME]` of the config.
    source: String,
    /// The payload, sent byte for byte; `-` reads standard input.
    #[arg(long, short)]
    file: PathBuf,
    /// An extra header as `Name: value`, repeatable; e.g. `X-GitHub-Event: push` for GitHub,
    /// which names the event in a header rather than in the payload.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The payload's content type.
    #[arg(long, default_value = "application/json")]
    content_type: String,
    /// The gateway's base URL, e.g. http://127.0.0.1:8080 (default: the config's
    /// `server.listen`).
    #[arg(long)]
    url: Option<String>,
    /// Print only the gateway's JSON answer.
    #[arg(long)]
    json: bool,
    /// The key to sign with instead of the source's first secret: for platforms that verify
    /// with a public key (Discord, SendGrid), whose source configures that public key, the
    /// matching private key (a test key pair), as the plugin documents it.
    #[arg(long, value_name = "KEY")]
    key: Option<String>,
}

/// Runs `hookgate send`: exits non-zero unless the gateway answered 2xx.
pub async fn send(config: Config, args: SendArgs) -> anyhow::Result<()> {
    let Some(source) = config.sources.get(&args.source) else {
        let known: Vec<&str> = config.sources.keys().map(String::as_str).collect();
        bail!(
            "{}: no source named {:?} (sources: {})",
            config.file.display(),
            args.source,
            known.join(", ")
        );
    };
    let body = read_payload(&args.file)?;
    let mut headers = vec![("content-type".to_owned(), args.content_type.into_bytes())];
    for raw in &args.headers {
        headers.push(parse_header(raw)?);
    }
    let base = args.url.map_or_else(
        || gateway_base(&config),
        |u| u.trim_end_matches('/').to_owned(),
    );
    let target = format!("{base}/webhooks/{}", args.source);
    // The plugin verifies the URL it is shown at ingest: the public URL when one is configured,
    // otherwise the URL of this very request.
    let signed_url = source.public_url.clone().unwrap_or_else(|| target.clone());

    let (runtime, plugin) = platform_plugin(&config, &source.plugin)
        .await?
        .with_context(|| {
            format!(
                "sources.{}.plugin: plugin {:?} is not loaded from {}",
                args.source,
                source.plugin,
                config.plugins.dir.display()
            )
        })?;
    let secret = match &args.key {
        Some(key) => Some(key.trim().as_bytes().to_vec()),
        None => source.secrets.first().map(|s| s.expose().to_vec()),
    };
    let Some(secret) = secret else {
        bail!(
            "sources.{}.secrets: no secret configured to sign with",
            args.source
        );
    };
    let request = Request {
        method: "POST".into(),
        url: signed_url,
        headers: headers
            .iter()
            .map(|(name, value)| Header {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        body,
    };
    let context = SignContext {
        secret,
        now_unix_secs: crate::model::unix_ms(std::time::SystemTime::now()) / 1000,
        nonce: nonce(),
        config: source.settings.json().to_owned(),
    };
    let signed = plugin.sign(&runtime, &request, &context).await?;

    let mut post = reqwest::Client::new().post(&target);
    for (name, value) in headers.into_iter().chain(signed.headers) {
        post = post.header(name, value);
    }
    let response = post
        .body(signed.body.unwrap_or(request.body))
        .send()
        .await
        .with_context(|| format!("cannot reach the gateway at {base}"))?;
    let status = response.status();
    let answer = response.text().await.unwrap_or_default();
    if args.json {
        println!("{answer}");
    } else {
        println!("POST {target} -> {status}");
        if !answer.is_empty() {
            println!("{answer}");
        }
    }
    if !status.is_success() {
        bail!("the gateway answered {status}");
    }
    Ok(())
}

/// The platform plugin serving `name`, compiled for this command alone. Never through the
/// service's compiled-code cache: that holds machine code the service runs, and an operator's
/// command (perhaps another user, perhaps root) must neither run code it did not compile and
/// check itself, nor leave code there for the service to run. Without a cache every plugin
/// loaded is compiled (~150 ms each), so the file named after the plugin, where plugins
/// normally live, is tried alone first; only if it is absent or serves another name is the
/// whole directory loaded, as the service loads it. (Should two files claim the name, an
/// error the service and `hookgate check` report, this signs with the one named after it.)
async fn platform_plugin(
    config: &Config,
    name: &str,
) -> anyhow::Result<Option<(Arc<Runtime>, Arc<PlatformPlugin>)>> {
    // A plugin name is 1-64 of [a-z0-9_-]: nothing else can name a file of the directory.
    let plain = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    let file = config.plugins.dir.join(format!("{name}.wasm"));
    if plain && file.is_file() {
        let runtime = Runtime::new(Limits {
            call_timeout: config.plugins.call_timeout,
            memory_limit_bytes: config.plugins.memory_limit_bytes,
        })?;
        if let Ok(Loaded::Platform(plugin)) = load_file(&runtime, &file).await
            && *plugin.info.name == *name
        {
            return Ok(Some((runtime, Arc::new(plugin))));
        }
    }
    let registry = crate::app::load_plugins(config, false).await?;
    Ok(registry
        .get(name)
        .map(|plugin| (registry.runtime().clone(), plugin)))
}

fn read_payload(file: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    if file.as_os_str() == "-" {
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut body)
            .context("reading the payload from standard input")?;
        return Ok(body);
    }
    std::fs::read(file).with_context(|| format!("reading the payload {}", file.display()))
}

/// `Name: value` → (lower-case name, value bytes).
fn parse_header(raw: &str) -> anyhow::Result<(String, Vec<u8>)> {
    let Some((name, value)) = raw.split_once(':') else {
        bail!("--header {raw:?}: expected `Name: value`");
    };
    let name = name.trim();
    if name.is_empty() || http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        bail!("--header {raw:?}: {name:?} is not a header name");
    }
    Ok((name.to_ascii_lowercase(), value.trim().as_bytes().to_vec()))
}

/// A fresh token for platforms whose requests carry a unique delivery id: not secret, only
/// unique (time, process and a counter, hashed).
fn nonce() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let digest = Sha256::digest(format!("{now}:{}:{count}", std::process::id()));
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `send` finds its plugin by the name it reports, under its own file name or not, and
    /// never touches the service's compiled-code cache: nothing is read from it (a plugin is
    /// compiled, not loaded from there) and nothing written (no key, no entry).
    #[tokio::test]
    async fn the_plugin_is_compiled_apart_from_the_services_cache() {
        let built = std::path::Path::new(env!("HOOKGATE_BUILT_PLUGINS_DIR"));
        let root = tempfile::tempdir().unwrap();
        let plugins = root.path().join("plugins");
        std::fs::create_dir(&plugins).unwrap();
        std::fs::copy(built.join("stripe.wasm"), plugins.join("stripe.wasm")).unwrap();
        std::fs::copy(built.join("github.wasm"), plugins.join("renamed.wasm")).unwrap();
        std::fs::write(plugins.join("broken.wasm"), b"not wasm").unwrap();
        let cache = root.path().join("data/plugin-cache");
        std::fs::create_dir_all(&cache).unwrap();
        std::fs::write(cache.join("planted.cwasm"), b"code for the service").unwrap();
        let config = Config::parse(
            "[storage]\npath = \"data\"\n[plugins]\ndir = \"plugins\"\n",
            &root.path().join("hookgate.toml"),
        )
        .unwrap();

        let (_, stripe) = platform_plugin(&config, "stripe").await.unwrap().unwrap();
        assert_eq!(stripe.info.file, plugins.join("stripe.wasm"));
        assert!(!stripe.info.from_cache);
        let (_, github) = platform_plugin(&config, "github").await.unwrap().unwrap();
        assert_eq!(github.info.file, plugins.join("renamed.wasm"));
        assert!(!github.info.from_cache);
        assert!(platform_plugin(&config, "absent").await.unwrap().is_none());
        assert!(
            platform_plugin(&config, "../plugins/stripe")
                .await
                .unwrap()
                .is_none()
        );

        let left: Vec<_> = std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["planted.cwasm"]);
        assert!(!root.path().join("data/plugin-cache.key").exists());
    }

    #[test]
    fn headers_parse_and_refuse_garbage() {
        assert_eq!(
            parse_header("X-GitHub-Event: push").unwrap(),
            ("x-github-event".into(), b"push".to_vec())
        );
        assert_eq!(
            parse_header("a:b:c").unwrap(),
            ("a".into(), b"b:c".to_vec())
        );
        assert!(parse_header("no colon").is_err());
        assert!(parse_header(": empty name").is_err());
        assert!(parse_header("bad name: x").is_err());
    }

    #[test]
    fn nonces_are_hex_and_differ() {
        let (a, b) = (nonce(), nonce());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
