//! `hookgate dlq list|show|replay` and `hookgate plugins list`: a thin client of a running gateway's admin API, so the
//! CLI and the API can never disagree and the store is only ever written by the gateway that
//! owns it. The address and token come from the same config file the gateway runs with
//! (`server.listen`, and the variable named by `admin.token_env`), or from `--url`/`--token`.

use crate::config::{self, Config};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `hookgate dlq ...`.
#[derive(Args)]
pub struct DlqArgs {
    #[command(subcommand)]
    command: DlqCommand,
    #[command(flatten)]
    target: Target,
}

/// Which gateway to talk to.
#[derive(Args)]
struct Target {
    /// The gateway's config file (default: ./hookgate.toml): gives the address and the token
    /// variable.
    #[arg(long, short, global = true)]
    config: Option<PathBuf>,
    /// Base URL of the gateway, e.g. http://127.0.0.1:8080 (overrides the config).
    #[arg(long, global = true)]
    url: Option<String>,
    /// Admin token (default: the variable named by the config's `admin.token_env`).
    #[arg(
        long,
        global = true,
        env = "HOOKGATE_ADMIN_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    /// Print the admin API's JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

/// `hookgate plugins ...`.
#[derive(Args)]
pub struct PluginsArgs {
    #[command(subcommand)]
    command: PluginsCommand,
    #[command(flatten)]
    target: Target,
}

#[derive(Subcommand)]
enum PluginsCommand {
    /// Every loaded plugin with its version, file, hash, load time, calls and failures, and
    /// the last error of every file that failed to load.
    List,
}

/// Runs `hookgate plugins ...`.
pub async fn plugins(args: PluginsArgs) -> anyhow::Result<()> {
    let client = Client::new(args.target)?;
    let PluginsCommand::List = args.command;
    let url = format!("{}/admin/plugins", client.base);
    let answer = client.send(client.http.get(url)).await?;
    if client.json {
        print(&answer);
        return Ok(());
    }
    for p in answer["plugins"].as_array().into_iter().flatten() {
        println!(
            "{:<20} {:<8} {:<8} wit {:<6} calls {:<8} failures {:<6} loaded {}  {}  sha256:{}",
            p["name"].as_str().unwrap_or(""),
            p["kind"].as_str().unwrap_or(""),
            p["version"].as_str().unwrap_or(""),
            p["wit_version"].as_str().unwrap_or(""),
            p["calls"],
            p["failures"],
            p["loaded_at"].as_str().unwrap_or(""),
            p["file"].as_str().unwrap_or(""),
            &p["sha256"].as_str().unwrap_or("")[..12.min(p["sha256"].as_str().unwrap_or("").len())],
        );
    }
    for e in answer["errors"].as_array().into_iter().flatten() {
        println!(
            "rejected {}: {}",
            e["file"].as_str().unwrap_or(""),
            e["error"].as_str().unwrap_or("")
        );
    }
    Ok(())
}

#[derive(Subcommand)]
enum DlqCommand {
    /// List dead-lettered deliveries, newest first.
    List {
        /// Only events of this source.
        #[arg(long)]
        source: Option<String>,
        /// Only this route.
        #[arg(long)]
        route: Option<String>,
        /// Dead-lettered at or after (RFC 3339 or Unix ms).
        #[arg(long)]
        since: Option<String>,
        /// Dead-lettered before (RFC 3339 or Unix ms).
        #[arg(long)]
        until: Option<String>,
        /// Entries per page.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Continue from a previous page's `next_cursor`.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Show one event with its payload, jobs and every attempt.
    Show {
        /// Event id (`evt_...`).
        id: String,
    },
    /// Replay one event (or, with --all or filters, every matching dead letter) through the
    /// current routes.
    Replay {
        /// Event id; omit it with --all or a filter.
        id: Option<String>,
        /// Replay every dead letter.
        #[arg(long)]
        all: bool,
        /// Only events of this source.
        #[arg(long)]
        source: Option<String>,
        /// Only this route.
        #[arg(long)]
        route: Option<String>,
    },
}

/// `http://ADDR` of the gateway a config runs: its `server.listen`, with an unspecified address
/// (`0.0.0.0`, `::`) reached on loopback.
pub(super) fn gateway_base(config: &Config) -> String {
    let mut addr = config.server.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    format!("http://{addr}")
}

/// Dead letters per bulk-replay request: one progress line each.
const REPLAY_PAGE: usize = 200;

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
    json: bool,
}

impl Client {
    fn new(target: Target) -> anyhow::Result<Client> {
        let config = match (&target.url, &target.config) {
            (Some(_), None) => None,
            (_, Some(path)) => Some(Config::load(path)?),
            (None, None) => {
                let default = PathBuf::from(config::DEFAULT_PATH);
                if !default.exists() {
                    bail!("pass --url (and --token), or --config with the gateway's config file");
                }
                Some(Config::load(&default)?)
            }
        };
        let base = match (target.url, &config) {
            (Some(url), _) => url.trim_end_matches('/').to_owned(),
            (None, Some(config)) => gateway_base(config),
            (None, None) => unreachable!("a config is loaded when no URL is given"),
        };
        let token = match (target.token, &config) {
            (Some(token), _) => token,
            (None, Some(config)) => std::env::var(&config.admin.token_env).with_context(|| {
                format!(
                    "the admin token: set {} (admin.token_env) or pass --token",
                    config.admin.token_env
                )
            })?,
            (None, None) => bail!("pass --token or set HOOKGATE_ADMIN_TOKEN"),
        };
        Ok(Client {
            http: reqwest::Client::new(),
            base,
            token,
            json: target.json,
        })
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<serde_json::Value> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("cannot reach the gateway at {}", self.base))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        if !status.is_success() {
            let message = body["error"].as_str().unwrap_or("no details");
            bail!("the gateway answered {status}: {message}");
        }
        Ok(body)
    }
}

fn print(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// Runs `hookgate dlq ...`.
pub async fn dlq(args: DlqArgs) -> anyhow::Result<()> {
    let client = Client::new(args.target)?;
    match args.command {
        DlqCommand::List {
            source,
            route,
            since,
            until,
            limit,
            cursor,
        } => {
            let mut query = vec![("limit", limit.to_string())];
            for (key, value) in [
                ("source", source),
                ("route", route),
                ("since", since),
                ("until", until),
                ("cursor", cursor),
            ] {
                if let Some(value) = value {
                    query.push((key, value));
                }
            }
            let url = format!("{}/admin/dlq", client.base);
            let page = client.send(client.http.get(url).query(&query)).await?;
            if client.json {
                print(&page);
                return Ok(());
            }
            let items = page["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                println!("the dead-letter queue is empty");
            }
            for item in &items {
                println!(
                    "{}  {}  route={} source={} type={} attempts={}  {}",
                    item["dead_lettered_at"].as_str().unwrap_or(""),
                    item["event_id"].as_str().unwrap_or(""),
                    item["route"].as_str().unwrap_or("- (not normalized)"),
                    item["source"].as_str().unwrap_or(""),
                    item["type"].as_str().unwrap_or(""),
                    item["attempts"],
                    item["error"].as_str().unwrap_or(""),
                );
            }
            if let Some(next) = page["next_cursor"].as_str() {
                println!("more: --cursor {next}");
            }
        }
        DlqCommand::Show { id } => {
            let url = format!("{}/admin/events/{id}", client.base);
            print(&client.send(client.http.get(url)).await?);
        }
        DlqCommand::Replay {
            id: Some(id),
            all: false,
            source: None,
            route: None,
        } => {
            let url = format!("{}/admin/dlq/{id}/replay", client.base);
            let answer = client.send(client.http.post(url)).await?;
            if client.json {
                print(&answer);
                return Ok(());
            }
            println!(
                "replay of {id} queued along {}",
                answer["routes"]
                    .as_array()
                    .map(|r| r
                        .iter()
                        .filter_map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default()
            );
        }
        DlqCommand::Replay {
            id: None,
            all,
            source,
            route,
        } if all || source.is_some() || route.is_some() => {
            // Page by page, so a large queue shows progress (on stderr; stdout keeps the
            // result, and with --json only the JSON).
            let url = format!("{}/admin/dlq/replay", client.base);
            let (mut replayed, mut failed, mut ids) = (0u64, Vec::new(), Vec::new());
            let mut cursor: Option<String> = None;
            let started = std::time::Instant::now();
            loop {
                let body = serde_json::json!({
                    "all": all, "source": source, "route": route,
                    "limit": REPLAY_PAGE, "cursor": cursor,
                });
                let answer = client.send(client.http.post(&url).json(&body)).await?;
                replayed += answer["replayed"].as_u64().unwrap_or(0);
                ids.extend(
                    answer["event_ids"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .cloned(),
                );
                failed.extend(answer["failed"].as_array().into_iter().flatten().cloned());
                cursor = answer["next_cursor"].as_str().map(str::to_owned);
                if cursor.is_none() {
                    break;
                }
                eprintln!(
                    "replaying… {replayed} event(s) queued, {} not replayable, {:.1} s",
                    failed.len(),
                    started.elapsed().as_secs_f64()
                );
            }
            if client.json {
                print(&serde_json::json!({
                    "status": "queued", "replayed": replayed, "event_ids": ids, "failed": failed,
                }));
                return Ok(());
            }
            println!("{replayed} event(s) queued for replay");
            for failure in &failed {
                println!(
                    "  not replayed: {} ({})",
                    failure["event_id"].as_str().unwrap_or(""),
                    failure["error"].as_str().unwrap_or("")
                );
            }
        }
        DlqCommand::Replay { .. } => {
            bail!("give either an event id, or --all / --source / --route (not both)")
        }
    }
    Ok(())
}

/// `hookgate events ...`.
#[derive(Args)]
pub struct EventsArgs {
    #[command(subcommand)]
    command: EventsCommand,
    #[command(flatten)]
    target: Target,
}

#[derive(Subcommand)]
enum EventsCommand {
    /// List stored events, newest first, with their deliveries' progress.
    List {
        /// Only events of this source.
        #[arg(long)]
        source: Option<String>,
        /// Only this normalized type.
        #[arg(long = "type")]
        event_type: Option<String>,
        /// Received at or after (RFC 3339 or Unix ms).
        #[arg(long)]
        since: Option<String>,
        /// Received before (RFC 3339 or Unix ms).
        #[arg(long)]
        until: Option<String>,
        /// Entries per page.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Continue from a previous page's `next_cursor`.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Show one event with its payload, jobs and every attempt.
    Show {
        /// Event id (`evt_...`).
        id: String,
    },
}

/// Runs `hookgate events ...`.
pub async fn events(args: EventsArgs) -> anyhow::Result<()> {
    let client = Client::new(args.target)?;
    match args.command {
        EventsCommand::Show { id } => {
            let url = format!("{}/admin/events/{id}", client.base);
            print(&client.send(client.http.get(url)).await?);
        }
        EventsCommand::List {
            source,
            event_type,
            since,
            until,
            limit,
            cursor,
        } => {
            let mut query = vec![("limit", limit.to_string())];
            for (key, value) in [
                ("source", source),
                ("type", event_type),
                ("since", since),
                ("until", until),
                ("cursor", cursor),
            ] {
                if let Some(value) = value {
                    query.push((key, value));
                }
            }
            let url = format!("{}/admin/events", client.base);
            let page = client.send(client.http.get(url).query(&query)).await?;
            if client.json {
                print(&page);
                return Ok(());
            }
            let items = page["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                println!("no events");
            }
            println!(
                "{:<24}  {:<36}  {:<12}  {:<28}  deliveries",
                "received", "id", "source", "type"
            );
            for e in &items {
                println!(
                    "{:<24}  {:<36}  {:<12}  {:<28}  {}/{} delivered, {} dead{}",
                    e["received_at"].as_str().unwrap_or(""),
                    e["id"].as_str().unwrap_or(""),
                    e["source"].as_str().unwrap_or(""),
                    e["type"].as_str().unwrap_or(""),
                    e["delivered"],
                    e["jobs"],
                    e["dead_lettered"],
                    if e["status"] == "dead_lettered" {
                        " (not normalized)"
                    } else {
                        ""
                    },
                );
            }
            if let Some(next) = page["next_cursor"].as_str() {
                println!("more: --cursor {next}");
            }
        }
    }
    Ok(())
}
