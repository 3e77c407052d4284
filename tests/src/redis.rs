//! A real `redis-server` for tests, on a free loopback port.
//!
//! [`RedisServer::shared`] uses `REDIS_URL` when it is set (a CI service, a developer's own
//! server) and otherwise starts a private server; [`RedisServer::private`] always starts one,
//! for tests that kill, restart or misconfigure it. Either way every test takes its own key
//! prefix from [`unique_prefix`], so tests running in parallel on one server never see each
//! other's keys, and nothing is ever flushed.
//!
//! A private server runs with the settings hookgate relies on for durable acks
//! (`appendonly yes`, `appendfsync always`, no RDB snapshots) in a temporary directory that
//! outlives [`RedisServer::kill`], so [`RedisServer::restart`] brings the same data back on the
//! same port. Readiness is polled with `PING`, never waited for with a fixed sleep. The server
//! is killed when the guard drops.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a starting server may take to answer `PING` (it replays its AOF first).
const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// Persistence settings of a private server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// `appendonly yes`, `appendfsync always`: every write is on disk before its reply.
    Durable,
    /// `appendonly no`: writes live in memory only (what hookgate must warn about).
    InMemory,
    /// `appendonly yes`, `appendfsync everysec`, and `CONFIG` renamed away as managed services
    /// do: the settings cannot be read, and before Redis 7.2 nothing makes an ack durable.
    ConfigHidden,
}

/// A running `redis-server` (or the one `REDIS_URL` names).
#[derive(Debug)]
pub struct RedisServer {
    url: String,
    private: Option<Private>,
}

#[derive(Debug)]
struct Private {
    port: u16,
    persistence: Persistence,
    child: Option<Child>,
    dir: tempfile::TempDir,
    tls: Option<Tls>,
}

/// A TLS listener of a private server, with the ACL user its clients log in as.
#[derive(Debug, Clone)]
struct Tls {
    port: u16,
    user: String,
    password: String,
}

impl RedisServer {
    /// The server named by `REDIS_URL`, or a private durable one when it is unset.
    pub fn shared() -> RedisServer {
        match std::env::var("REDIS_URL") {
            Ok(url) if !url.is_empty() => RedisServer { url, private: None },
            _ => RedisServer::private(Persistence::Durable),
        }
    }

    /// A server of this process's own, started now.
    pub fn private(persistence: Persistence) -> RedisServer {
        ensure_installed();
        let mut dir = tempfile::Builder::new()
            .prefix("hookgate-redis-")
            .tempdir()
            .expect("temporary directory for redis-server");
        // A port that was free a moment ago; if another process takes it in between, the
        // server fails to bind and we try another.
        for _ in 0..5 {
            let port = free_port();
            let mut private = Private {
                port,
                persistence,
                child: None,
                dir,
                tls: None,
            };
            match private.spawn() {
                Ok(()) => {
                    return RedisServer {
                        url: format!("redis://127.0.0.1:{port}/0"),
                        private: Some(private),
                    };
                }
                Err(e) => {
                    eprintln!("redis-server on port {port} did not start ({e}); trying another");
                    dir = private.dir;
                }
            }
        }
        panic!("could not start redis-server on a free loopback port (see the messages above)");
    }

    /// A private durable server that also listens with TLS, on certificates generated for it
    /// now (a CA of its own and a server certificate for 127.0.0.1, by `openssl`), with an ACL
    /// user `user` / `password` allowed everything. [`RedisServer::url`] is then the
    /// `rediss://user:password@127.0.0.1:port/0` URL and [`RedisServer::ca_file`] the CA; the
    /// plain port stays for the harness's readiness check only.
    pub fn private_tls(user: &str, password: &str) -> RedisServer {
        let mut server = RedisServer::private(Persistence::Durable);
        let private = server.private.as_mut().expect("private");
        generate_certificates(private.dir.path());
        private.tls = Some(Tls {
            port: free_port(),
            user: user.to_owned(),
            password: password.to_owned(),
        });
        private
            .spawn_again()
            .unwrap_or_else(|e| panic!("redis-server with TLS did not start: {e}"));
        let tls = private.tls.as_ref().expect("tls");
        server.url = format!(
            "rediss://{}:{}@127.0.0.1:{}/0",
            tls.user, tls.password, tls.port
        );
        server
    }

    /// The CA certificate (PEM) of a [`RedisServer::private_tls`] server.
    pub fn ca_file(&self) -> PathBuf {
        self.private
            .as_ref()
            .expect("a private server")
            .dir
            .path()
            .join("ca.pem")
    }

    /// Connection URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether this guard started the server (and so may kill or restart it).
    pub fn is_private(&self) -> bool {
        self.private.is_some()
    }

    /// Kills the server at once (SIGKILL: no shutdown save, like a crash or power loss of the
    /// process). Its data directory stays for [`RedisServer::restart`].
    pub fn kill(&mut self) {
        let private = self
            .private
            .as_mut()
            .expect("only a private server can be killed");
        private.stop();
    }

    /// Starts the server again on the same port with the same data directory, and waits until
    /// it answers `PING` (its AOF replayed).
    pub fn restart(&mut self) {
        let private = self
            .private
            .as_mut()
            .expect("only a private server can be restarted");
        private.stop();
        private
            .spawn()
            .unwrap_or_else(|e| panic!("redis-server did not come back on its port: {e}"));
    }
}

impl Private {
    fn spawn_again(&mut self) -> Result<(), String> {
        self.stop();
        self.spawn()
    }

    fn spawn(&mut self) -> Result<(), String> {
        let log = self.dir.path().join("redis.log");
        let aof = match self.persistence {
            Persistence::Durable => ["--appendonly", "yes", "--appendfsync", "always"],
            Persistence::InMemory => ["--appendonly", "no", "--appendfsync", "everysec"],
            Persistence::ConfigHidden => ["--appendonly", "yes", "--appendfsync", "everysec"],
        };
        let hidden: &[&str] = match self.persistence {
            Persistence::ConfigHidden => &["--rename-command", "CONFIG", ""],
            _ => &[],
        };
        let dir = self.dir.path();
        let tls: Vec<String> = match &self.tls {
            Some(tls) => vec![
                "--tls-port".into(),
                tls.port.to_string(),
                "--tls-cert-file".into(),
                dir.join("server.pem").display().to_string(),
                "--tls-key-file".into(),
                dir.join("server.key").display().to_string(),
                "--tls-ca-cert-file".into(),
                dir.join("ca.pem").display().to_string(),
                "--tls-auth-clients".into(),
                "no".into(),
                // One argument per word: redis-server joins them into the config line.
                "--user".into(),
                tls.user.clone(),
                "on".into(),
                format!(">{}", tls.password),
                "~*".into(),
                "&*".into(),
                "+@all".into(),
            ],
            None => Vec::new(),
        };
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(aof)
            .args(hidden)
            .args(&tls)
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--save", "", "--daemonize", "no", "--logfile"])
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run redis-server: {e}"))?;
        self.child = Some(child);
        let started = Instant::now();
        loop {
            if ping(self.port) {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(format!("exited with {status}: {}", tail(&log)));
            }
            if started.elapsed() > READY_TIMEOUT {
                self.stop();
                return Err(format!("no PONG within {READY_TIMEOUT:?}: {}", tail(&log)));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(private) = self.private.as_mut() {
            private.stop();
        }
    }
}

/// A CA and a server certificate for 127.0.0.1 signed by it, in `dir` (`ca.pem`, `server.pem`,
/// `server.key`), valid for two days.
fn generate_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl (Debian's openssl package) generates the test certificates");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(dir.join("san.cnf"), "subjectAltName=IP:127.0.0.1\n").expect("san.cnf");
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=hookgate test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.cnf",
    ]);
}

/// A key prefix no other test (in this process or another) uses: `hgtest:<pid>:<n>:<nanos>:`.
pub fn unique_prefix() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "hgtest:{}:{}:{nanos}:",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// True when something on `port` answers `PING` with `PONG` (a server still loading its data
/// answers `-LOADING`, which is not ready).
fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    let mut read = 0;
    while read < reply.len() {
        match stream.read(&mut reply[read..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    reply.starts_with(b"+PONG")
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

/// Installs Debian's `redis-server` when it is missing (CI machines start bare), once per
/// process; fails with a clear message when that is not possible.
fn ensure_installed() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        if find_in_path("redis-server").is_some() {
            return;
        }
        eprintln!("redis-server not found; installing Debian's redis-server package");
        let install = || {
            Command::new("apt-get")
                .args(["install", "-y", "--no-install-recommends", "redis-server"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status()
                .is_ok_and(|s| s.success())
        };
        if !install() {
            let _ = Command::new("apt-get").arg("update").status();
            install();
        }
    });
    assert!(
        find_in_path("redis-server").is_some(),
        "the Redis tests need redis-server: install it (apt-get install redis-server) or set \
         REDIS_URL to a server they may use"
    );
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_server_answers_survives_a_restart_and_is_gone_after_drop() {
        let mut server = RedisServer::private(Persistence::Durable);
        let port = server.private.as_ref().unwrap().port;
        assert!(ping(port));
        assert!(server.url().ends_with(&format!(":{port}/0")));
        server.kill();
        assert!(!ping(port), "killed");
        server.restart();
        assert!(ping(port), "restarted on the same port");
        drop(server);
        assert!(!ping(port), "gone after drop");
    }

    #[test]
    fn prefixes_are_unique() {
        let a = unique_prefix();
        assert_ne!(a, unique_prefix());
        assert!(a.starts_with("hgtest:") && a.ends_with(':'));
    }
}
