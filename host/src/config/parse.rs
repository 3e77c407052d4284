//! General parsers for the values the config writes as text: addresses, durations, CIDRs,
//! cron expressions, names. They know nothing of the file's layout; each error is the message
//! the validator files under the field's path, and names the text it refused.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr as _;
use std::time::Duration;

/// Names that appear in URLs and job records: `[a-z0-9_-]+`.
pub(super) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// A TOML table as the JSON that plugins and filters see.
pub(super) fn toml_to_json(table: toml::Table) -> serde_json::Value {
    serde_json::to_value(table).unwrap_or(serde_json::Value::Null)
}

/// Parses a listen address such as `127.0.0.1:8080` or `[::1]:0`: an IP and a port (no host
/// name, so nothing is resolved at start).
pub(super) fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not an address like 127.0.0.1:8080"))
}

/// Parses a cron expression of the 5 standard fields (`minute hour day month weekday`, UTC),
/// or 6 with leading seconds; croner would also take a trailing year, which the README does
/// not promise.
pub(super) fn parse_cron(text: &str) -> Result<croner::Cron, String> {
    match croner::Cron::from_str(text) {
        Ok(cron) if matches!(text.split_whitespace().count(), 5 | 6) => Ok(cron),
        Ok(_) => Err(format!(
            "{text:?} must have the 5 standard fields (minute hour day month weekday), or 6 with leading seconds"
        )),
        Err(e) => Err(format!(
            "{text:?} is not a cron expression like \"*/5 * * * *\": {e}"
        )),
    }
}

/// Parses a delay such as `5s`, `30m`, `2h`, `1d` or `250ms`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like \"5s\", \"30m\" or \"2h\""))?;
    let secs = match unit {
        "ms" => return Ok(Duration::from_millis(n)),
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?} has no unit; use ms, s, m, h or d")),
    };
    Ok(Duration::from_secs(n.saturating_mul(secs)))
}

/// An address block, e.g. `10.0.0.0/8`, parsed once when the config loads; the egress policy
/// uses it as it is. An IPv4-mapped IPv6 block (`::ffff:10.0.0.0/104`) is kept as the IPv4
/// block it carries, since connections to such addresses go out over IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`, `x::y/n` or a bare address (a single host).
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, len) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let ip: IpAddr = addr
            .parse()
            .map_err(|_| format!("{text:?} is not a CIDR like \"127.0.0.1/32\""))?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = match len {
            None => max,
            Some(l) => l
                .parse::<u8>()
                .ok()
                .filter(|l| *l <= max)
                .ok_or_else(|| format!("{text:?} has an invalid prefix length"))?,
        };
        let addr = ip.to_canonical();
        Ok(Cidr {
            addr,
            prefix: if ip.is_ipv6() && addr.is_ipv4() {
                prefix.saturating_sub(96)
            } else {
                prefix
            },
        })
    }

    /// Whether `ip` lies in the block (v4-mapped addresses match their IPv4 blocks).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}
