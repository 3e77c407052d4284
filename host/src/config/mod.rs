//! The TOML configuration: parsed strictly (unknown fields are errors), then validated as a
//! whole so that every problem is reported at once, each with the file and field it concerns.
//! Relative paths are relative to the config file, so a config means the same thing whatever
//! directory the gateway is started from.
//!
//! One file per job, each using only those listed before it:
//!
//! - `error`: what a refused config reports;
//! - `parse`: general parsers for values written as text (addresses, durations, CIDRs,
//!   cron expressions, names);
//! - `secret`: secrets inline, from the environment or from a file, never printed;
//! - `types`: the validated configuration the rest of the gateway reads;
//! - `raw`: the file's shape as read from TOML (`deny_unknown_fields`, the defaults);
//! - `validate`: raw sections to validated ones, gathering every problem with its path;
//! - `action`: an action's `config` table: secret references resolved, templates compiled;
//! - `routes`: the same for `[[routes]]` and `[[schedules]]`.
//!
//! This module is the public surface: [`Config::load`] and [`Config::parse`], and the types
//! re-exported from the files above. Refused configs and their exact messages are pinned by
//! the golden files in `golden/` (see `golden.rs`).

mod action;
mod error;
mod parse;
mod raw;
mod routes;
mod secret;
mod types;
mod validate;

pub use action::{ActionConfig, ConfigRenderError, REDACTED};
pub use error::{ConfigError, Problem};
pub use parse::{Cidr, parse_duration};
pub use secret::{Secret, SecretSpec, redact_url, url_password};
pub use types::{
    AdminConfig, Backend, BreakerConfig, Config, DEFAULT_MAX_IN_FLIGHT, EgressConfig,
    FILTER_FIELDS, MAX_IN_FLIGHT_TOTAL, PluginsConfig, RateLimit, Retention, RouteConfig,
    ScheduleConfig, ServerConfig, SourceConfig, SourceSettings, StorageConfig,
};

use raw::RawConfig;
use std::path::Path;
use validate::Validator;

/// The default config file looked for when `--config` is not given.
pub const DEFAULT_PATH: &str = "hookgate.toml";

impl Config {
    /// Loads and validates `file`.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|e| ConfigError::Read {
            file: file.to_owned(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, file)
    }

    /// Parses and validates config text that was read from `file`.
    pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            file: file.to_owned(),
            message: error::parse_message(text, &e),
        })?;
        let base = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // Section by section in the file's order, which is the order problems are listed in.
        let mut v = Validator::default();
        let server = v.server(raw.server);
        let admin = v.admin(raw.admin, &server);
        let storage = v.storage(raw.storage, base);
        let plugins = v.plugins(raw.plugins, base);
        let egress = v.egress(raw.egress);
        let sources = v.sources(raw.sources, base);
        let routes = routes::routes(&mut v, raw.routes, &sources, base);
        let schedules = routes::schedules(&mut v, raw.schedules, base);
        let problems = v.into_problems();
        if !problems.is_empty() {
            return Err(ConfigError::Invalid {
                file: file.to_owned(),
                problems,
            });
        }
        Ok(Config {
            file: file.to_owned(),
            server,
            admin,
            storage,
            plugins,
            egress,
            sources,
            routes,
            schedules,
        })
    }
}

#[cfg(test)]
mod golden;
#[cfg(test)]
mod tests;
