//! `hookgate dlq list|show|replay`, `hookgate events list|show` and `hookgate plugins list`: a
//! thin client of a running gateway's admin API, so the CLI and the API can never disagree and
//! the store is only ever written by the gateway that owns it. The address and token come from
//! the same config file the gateway runs with (`server.listen`, and the variable named by
//! `admin.token_env`), or from `--url`/`--token`.
//!
//! Answers are read into the types the server builds them from ([`crate::server::api`]), so
//! a field renamed on one side breaks the build, not the table. `--json` (and `show`) print
//! the server's JSON itself, never a re-serialization of what this client understood of it.

use super::tables::{BulkTotal, dlq_lines, event_lines, plugin_lines};
use crate::config::{self, Config};
use crate::server::api::{BulkReplayRequest, BulkReplayed, ErrorBody, Replayed};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::Serialize;
use serde::de::DeserializeOwned;
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
    for line in plugin_lines(&read(answer)?) {
        println!("{line}");
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
    base_of(config.server.listen)
}

/// `http://ADDR` of the admin API a config runs: `admin.listen`, else `server.listen`.
fn admin_base(config: &Config) -> String {
    base_of(config.admin.listen.unwrap_or(config.server.listen))
}

fn base_of(mut addr: std::net::SocketAddr) -> String {
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
            (None, Some(config)) => admin_base(config),
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

    /// Sends `request` with the token; the answer's JSON as the server wrote it (for `--json`
    /// and `show`; [`read`] turns it into its type), or the server's error message.
    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<serde_json::Value> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("cannot reach the gateway at {}", self.base))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        if !status.is_success() {
            let message = serde_json::from_value::<ErrorBody>(body)
                .map_or_else(|_| "no details".to_owned(), |e| e.error);
            bail!("the gateway answered {status}: {message}");
        }
        Ok(body)
    }
}

/// An answer read into its type.
fn read<T: DeserializeOwned>(answer: serde_json::Value) -> anyhow::Result<T> {
    serde_json::from_value(answer)
        .context("the gateway's answer is not what this hookgate expects (another version?)")
}

/// Prints JSON, pretty. Through [`serde_json::Value`], whose objects keep their keys sorted:
/// the output has always been that, whatever order the server wrote.
fn print(value: &impl Serialize) {
    let value = serde_json::to_value(value).unwrap_or_default();
    println!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
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
            for line in dlq_lines(&read(page)?) {
                println!("{line}");
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
            let answer: Replayed = read(answer)?;
            println!("replay of {id} queued along {}", answer.routes.join(", "));
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
            let mut total = BulkTotal::default();
            let mut cursor: Option<String> = None;
            let started = std::time::Instant::now();
            loop {
                let body = BulkReplayRequest {
                    source: source.clone(),
                    route: route.clone(),
                    all,
                    limit: Some(REPLAY_PAGE),
                    cursor: cursor.take(),
                    ..BulkReplayRequest::default()
                };
                let answer = client.send(client.http.post(&url).json(&body)).await?;
                let page: BulkReplayed = read(answer)?;
                cursor = total.add(page);
                if cursor.is_none() {
                    break;
                }
                eprintln!("{}", total.progress(started.elapsed()));
            }
            if client.json {
                print(&total);
                return Ok(());
            }
            for line in total.lines() {
                println!("{line}");
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
            for line in event_lines(&read(page)?) {
                println!("{line}");
            }
        }
    }
    Ok(())
}
