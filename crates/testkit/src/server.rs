//! The real event server as a child process (`auditrail serve`), and reading back
//! what its store holds (through [`crate::store`]).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use auditrail_core::Event;

use crate::port::Port;

/// The `auditrail` binary: `AUDITRAIL_BIN` if set; else the one in this test's target
/// folder (`cargo test --workspace` builds it, with the features of that run); built
/// with cargo only when missing. Rebuilding an existing one here would replace it with
/// other features under the feet of the CLI's own tests.
pub fn auditrail_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("AUDITRAIL_BIN") {
            return PathBuf::from(p);
        }
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap().to_owned(); // target/<profile>
        let target_dir = profile_dir.parent().unwrap();
        let bin = profile_dir.join("auditrail");
        if bin.exists() {
            return bin;
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args([
            "build",
            "-q",
            "-p",
            "auditrail-cli",
            "--bin",
            "auditrail",
            "--target-dir",
        ])
        .arg(target_dir);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("cargo build of the auditrail binary");
        assert!(status.success(), "cannot build the auditrail binary");
        bin
    })
    .clone()
}

/// A running `auditrail serve`.
#[derive(Debug)]
pub struct ServerProcess {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The server's data dir.
    pub data_dir: PathBuf,
    config: Option<PathBuf>,
    log: PathBuf,
    /// The server's port, held by the test for the server's whole life and across
    /// restarts (see [`crate::port`]).
    port: Port,
}

impl ServerProcess {
    /// Starts a server on a new loopback port with its data under `data_dir`.
    pub fn start(data_dir: &Path, config: Option<&Path>) -> ServerProcess {
        Self::start_on(data_dir, config, Port::new())
    }

    /// Starts a server on `port`, which the test may have named to clients before
    /// (a node's config): the server takes the port's socket (socket activation), so
    /// no other socket can take the port in between, and keeps it for restarts.
    pub fn start_on(data_dir: &Path, config: Option<&Path>, port: Port) -> ServerProcess {
        Self::start_limited(data_dir, config, port, &[])
    }

    /// Starts a server whose open-file limit (`RLIMIT_NOFILE`, soft and hard) is
    /// `nofile`, through `prlimit` (util-linux): the server process itself runs with
    /// the low limit, as under `ulimit -n`.
    pub fn start_with_nofile(data_dir: &Path, config: Option<&Path>, nofile: u64) -> ServerProcess {
        // prlimit sets the limit on itself, then execs the server (same pid).
        let limit = format!("--nofile={nofile}:{nofile}");
        Self::start_through(data_dir, config, &["prlimit", &limit, "--"])
    }

    /// Starts a server through `wrapper`, a command that runs the rest of its arguments
    /// (the server's command line), e.g. `["nsenter", "-t", PID, "-m", "--"]` to run it
    /// in another process's mount namespace. The wrapper should exec the server, so
    /// that [`ServerProcess::pid`] is the server's.
    pub fn start_through(
        data_dir: &Path,
        config: Option<&Path>,
        wrapper: &[&str],
    ) -> ServerProcess {
        Self::start_limited(data_dir, config, Port::new(), wrapper)
    }

    fn start_limited(
        data_dir: &Path,
        config: Option<&Path>,
        port: Port,
        wrapper: &[&str],
    ) -> ServerProcess {
        std::fs::create_dir_all(data_dir).unwrap();
        let log = data_dir.with_extension("log");
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        // The server takes the port's socket (LISTEN_FDS); its own `--listen` is port 0,
        // so that a binary that ignored the socket would not take a fixed port (the
        // address check below names the fault).
        let mut cmd = match wrapper.split_first() {
            None => port.hand_to(auditrail_bin()),
            Some((program, args)) => {
                let mut c = port.hand_to(program);
                c.args(args).arg(auditrail_bin());
                c
            }
        };
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir);
        if let Some(c) = config {
            cmd.arg("--config").arg(c);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(stderr)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        // The command holds our copy of the listening socket: once the server is gone
        // the port must refuse connections (a server that is down), not queue them.
        drop(cmd);
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("listening on ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(url.trim().to_owned());
                    }
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the server did not start; its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        let addr = url
            .split("://")
            .nth(1)
            .unwrap()
            .trim_end_matches('/')
            .to_owned();
        assert_eq!(
            addr,
            port.addr().to_string(),
            "the server does not listen on the socket it was given"
        );
        ServerProcess {
            child: Some(child),
            url,
            addr,
            data_dir: data_dir.to_owned(),
            config: config.map(Path::to_owned),
            log,
            port,
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// `kill -9`, and wait for the process to be gone.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL on unix
            let _ = c.wait();
        }
    }

    /// A new server process on the same port (held all along: nothing else can take it
    /// while the server is down) and data folder.
    pub fn restart(&mut self) {
        self.kill9();
        let port = std::mem::take(&mut self.port);
        let again = ServerProcess::start_on(&self.data_dir, self.config.as_deref(), port);
        *self = again;
    }

    /// Every record in the store: (file, event).
    pub fn stored(&self) -> Vec<(PathBuf, Event)> {
        stored_in(&self.data_dir.join("store"))
    }

    /// SIGTERM (graceful shutdown: the final checkpoints are signed), and wait for the
    /// process to end; its exit code.
    pub fn stop(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().ok()?.code()
    }

    /// The server's log (stderr) so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub use crate::store::stored_in;

/// Polls `f` until it returns true or `timeout` passes; returns the last answer.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
