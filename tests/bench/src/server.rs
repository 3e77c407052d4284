//! The processes under test: the real gateway binary, or this binary serving a baseline, each
//! pinned to the server core with `taskset` and watched for its peak RSS.

use anyhow::{Context, bail};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server process; killed when dropped.
pub struct Server {
    child: Child,
    addr: SocketAddr,
    /// Time from spawn to the "listening" line.
    pub started_in: Duration,
}

impl Server {
    /// Spawns `command` pinned to `core`; it must print `... listening on http://ADDR` on
    /// stdout once it serves.
    pub fn spawn(command: Command, core: Option<usize>) -> anyhow::Result<Server> {
        Server::spawn_with_stderr(command, core, Stdio::null())
    }

    /// [`Server::spawn`], appending the server's stderr (the gateway's log) to `log`, for a
    /// scenario that must check what the server said (warnings, errors) as well as how fast
    /// it answered.
    pub fn spawn_logged(
        command: Command,
        core: Option<usize>,
        log: &Path,
    ) -> anyhow::Result<Server> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening {}", log.display()))?;
        Server::spawn_with_stderr(command, core, file.into())
    }

    fn spawn_with_stderr(
        command: Command,
        core: Option<usize>,
        stderr: Stdio,
    ) -> anyhow::Result<Server> {
        let mut command = pinned(command, core);
        let started = Instant::now();
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .context("spawning the server")?;
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(addr.trim().parse::<SocketAddr>());
                }
            }
        });
        let addr = loop {
            if let Ok(addr) = rx.try_recv() {
                break addr?;
            }
            if let Some(status) = child.try_wait()? {
                bail!("the server exited with {status} before listening");
            }
            if started.elapsed() > Duration::from_secs(120) {
                let _ = child.kill();
                bail!("the server did not start within 120 s");
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        Ok(Server {
            child,
            addr,
            started_in: started.elapsed(),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The process id (`taskset` execs the server, so it is the server's own).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident memory so far, in MiB (`VmHWM`).
    pub fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time (user + system, every thread) process `pid` has used so far, in seconds: over
/// a span of wall time, how much of its core a pinned server kept busy.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name (field 2) is in parentheses and may hold spaces: count from after it.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15, in clock ticks of 1/100 s (USER_HZ on Linux).
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// `command` under `taskset -c core` (same arguments, environment and directory).
fn pinned(command: Command, core: Option<usize>) -> Command {
    let Some(core) = core else {
        return command;
    };
    let mut pinned = Command::new("taskset");
    pinned.arg("-c").arg(core.to_string());
    pinned.arg(command.get_program());
    pinned.args(command.get_args());
    for (k, v) in command.get_envs() {
        match v {
            Some(v) => pinned.env(k, v),
            None => pinned.env_remove(k),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        pinned.current_dir(dir);
    }
    pinned
}

/// Where the workspace's build output is.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// Builds (or confirms up to date) the release gateway and its plugins; returns the binary.
pub fn build_gateway() -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "-p", "hookgate", "--bin", "hookgate"])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release failed");
    }
    Ok(target_dir().join("release/hookgate"))
}

/// A gateway's directory: config, plugins (every first-party plugin), data.
pub struct GatewayDir {
    /// The temporary directory.
    pub dir: tempfile::TempDir,
}

impl GatewayDir {
    /// Writes a config with `storage` and `body` lines and copies every first-party plugin.
    pub fn new(storage: &str, body: &str) -> anyhow::Result<GatewayDir> {
        let dir = tempfile::tempdir()?;
        let plugins = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins)?;
        let built = target_dir().join("plugins");
        for entry in
            std::fs::read_dir(&built).with_context(|| format!("reading {}", built.display()))?
        {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "wasm") {
                std::fs::copy(&path, plugins.join(path.file_name().expect("file name")))?;
            }
        }
        let gateway = GatewayDir { dir };
        gateway.configure(storage, body)?;
        Ok(gateway)
    }

    /// (Re)writes the config with `storage` and `body` lines. Called again on a directory
    /// whose gateway has stopped, to restart it on the same data with another setting (the
    /// storage settings, `[storage.retention]` among them, are read at start only).
    pub fn configure(&self, storage: &str, body: &str) -> anyhow::Result<()> {
        std::fs::write(
            self.dir.path().join("hookgate.toml"),
            format!(
                "[server]\nlisten = \"127.0.0.1:0\"\n\n[storage]\npath = \"data\"\n{storage}\n\n\
                 [plugins]\ndir = \"plugins\"\n\n{body}\n"
            ),
        )?;
        Ok(())
    }

    /// The SQLite database of a gateway on the SQLite backend.
    pub fn database(&self) -> PathBuf {
        self.dir.path().join("data/hookgate.db")
    }

    /// Deletes every plugin but `keep` (file stems): a scenario whose figures do not depend
    /// on how many plugins are loaded starts in a second instead of compiling all of them
    /// (about 10 s on the 2-core machine for every new directory).
    pub fn keep_plugins(&self, keep: &[&str]) -> anyhow::Result<()> {
        for entry in std::fs::read_dir(self.plugins())? {
            let path = entry?.path();
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            if path.extension().is_some_and(|e| e == "wasm") && !keep.contains(&stem) {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(())
    }

    /// The plugins directory (watched by the gateway).
    pub fn plugins(&self) -> PathBuf {
        self.dir.path().join("plugins")
    }

    /// `hookgate serve` on this directory.
    pub fn command(&self, binary: &Path) -> Command {
        let mut command = Command::new(binary);
        command
            .args(["serve", "--config"])
            .arg(self.dir.path().join("hookgate.toml"))
            .env("HOOKGATE_LOG", "warn");
        command
    }
}
