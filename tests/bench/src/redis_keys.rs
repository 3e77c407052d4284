//! Deleting a scenario's keys from Redis once it is done. A scenario that stores tens of
//! thousands of events (hundreds of MiB) under a prefix of its own would otherwise leave them
//! in a Redis that others use, and in its AOF. The bench speaks the few commands this needs
//! (`AUTH`, `SELECT`, `SCAN`, `UNLINK`) over a plain socket itself rather than depend on a
//! Redis client crate for a clean-up step.

use anyhow::{Context, bail};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Where a `redis://` URL points.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    host: String,
    port: u16,
    user: Option<String>,
    password: Option<String>,
    db: u32,
}

/// Reads `redis://[user[:password]@]host[:port][/db]`. TLS (`rediss://`) and Unix sockets
/// are refused: the clean-up is then skipped, which costs only space.
fn parse(url: &str) -> anyhow::Result<Target> {
    let Some(rest) = url.strip_prefix("redis://") else {
        bail!("only redis:// URLs are cleaned up");
    };
    // The userinfo ends at the last '@' (a password may hold '/' or '@' percent-encoded or not).
    let (userinfo, rest) = match rest.rsplit_once('@') {
        Some((u, r)) => (Some(u), r),
        None => (None, rest),
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().context("the port")?),
        None => (authority, 6379),
    };
    let db = match path.split(['?', '#']).next().unwrap_or("") {
        "" => 0,
        n => n.parse().context("the database number")?,
    };
    let (user, password) = match userinfo {
        None => (None, None),
        Some(u) => match u.split_once(':') {
            Some((name, pass)) => (
                Some(decode(name)).filter(|n| !n.is_empty()),
                Some(decode(pass)),
            ),
            None => (Some(decode(u)).filter(|n| !n.is_empty()), None),
        },
    };
    Ok(Target {
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port,
        user,
        password,
        db,
    })
}

/// Percent-decoding of a URL's userinfo.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A reply, as far as these commands need one.
#[derive(Debug)]
enum Reply {
    /// `+OK` and the like: a success whose text nothing here needs.
    Status,
    Integer(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

fn command(stream: &mut TcpStream, args: &[&[u8]]) -> anyhow::Result<()> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    stream.write_all(&out)?;
    Ok(())
}

fn read_reply(reader: &mut BufReader<TcpStream>) -> anyhow::Result<Reply> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let line = line.trim_end_matches(['\r', '\n']);
    let (kind, rest) = line
        .split_at_checked(1)
        .context("Redis closed the connection")?;
    match kind {
        "+" => Ok(Reply::Status),
        "-" => bail!("Redis: {rest}"),
        ":" => Ok(Reply::Integer(rest.parse()?)),
        "$" => {
            let len: i64 = rest.parse()?;
            if len < 0 {
                return Ok(Reply::Bulk(None));
            }
            let mut data = vec![0; len as usize + 2];
            reader.read_exact(&mut data)?;
            data.truncate(len as usize);
            Ok(Reply::Bulk(Some(data)))
        }
        "*" => {
            let len: i64 = rest.parse()?;
            (0..len.max(0))
                .map(|_| read_reply(reader))
                .collect::<anyhow::Result<_>>()
                .map(Reply::Array)
        }
        other => bail!("unexpected Redis reply type {other:?}"),
    }
}

fn call(
    stream: &mut TcpStream,
    reader: &mut BufReader<TcpStream>,
    args: &[&[u8]],
) -> anyhow::Result<Reply> {
    command(stream, args)?;
    read_reply(reader)
}

/// Deletes every key whose name starts with `prefix` from the Redis at `url`; returns how
/// many there were. Blocking (a few round trips per thousand keys): call it off the runtime.
pub fn delete_prefix(url: &str, prefix: &str) -> anyhow::Result<u64> {
    let target = parse(url)?;
    let mut stream = TcpStream::connect((target.host.as_str(), target.port))
        .with_context(|| format!("connecting to {}:{}", target.host, target.port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    match (&target.user, &target.password) {
        (Some(user), Some(pass)) => {
            call(
                &mut stream,
                &mut reader,
                &[b"AUTH", user.as_bytes(), pass.as_bytes()],
            )?;
        }
        (None, Some(pass)) => {
            call(&mut stream, &mut reader, &[b"AUTH", pass.as_bytes()])?;
        }
        _ => {}
    }
    if target.db != 0 {
        call(
            &mut stream,
            &mut reader,
            &[b"SELECT", target.db.to_string().as_bytes()],
        )?;
    }
    // SCAN's MATCH is a glob: the prefix's own special characters must match themselves.
    let mut pattern = String::new();
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('*');
    let mut cursor = b"0".to_vec();
    let mut deleted = 0u64;
    loop {
        let reply = call(
            &mut stream,
            &mut reader,
            &[
                b"SCAN",
                &cursor,
                b"MATCH",
                pattern.as_bytes(),
                b"COUNT",
                b"1000",
            ],
        )?;
        let Reply::Array(mut parts) = reply else {
            bail!("SCAN answered {reply:?}");
        };
        let (Some(Reply::Array(keys)), Some(Reply::Bulk(Some(next)))) = (parts.pop(), parts.pop())
        else {
            bail!("SCAN answered an unexpected shape");
        };
        let keys: Vec<Vec<u8>> = keys
            .into_iter()
            .filter_map(|k| match k {
                Reply::Bulk(Some(k)) => Some(k),
                _ => None,
            })
            .collect();
        if !keys.is_empty() {
            let mut args: Vec<&[u8]> = vec![b"UNLINK"];
            args.extend(keys.iter().map(Vec::as_slice));
            match call(&mut stream, &mut reader, &args)? {
                Reply::Integer(n) => deleted += n.max(0) as u64,
                other => bail!("UNLINK answered {other:?}"),
            }
        }
        if next == b"0" {
            return Ok(deleted);
        }
        cursor = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_with_their_credentials_and_database() {
        let t = parse("redis://127.0.0.1:6399/0").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.db), ("127.0.0.1", 6399, 0));
        assert_eq!((t.user, t.password), (None, None));
        let t = parse("redis://:p%40ss@redis/3").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.db), ("redis", 6379, 3));
        assert_eq!((t.user, t.password.as_deref()), (None, Some("p@ss")));
        let t = parse("redis://bench:a/b@h:1").unwrap();
        assert_eq!(
            (t.user.as_deref(), t.password.as_deref(), t.host.as_str()),
            (Some("bench"), Some("a/b"), "h")
        );
        assert!(parse("rediss://h").is_err());
    }
}
