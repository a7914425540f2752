//! The release binaries the process benchmarks run (`auditrail serve`, the load
//! generators), and child processes that are stopped however the bench ends.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Where cargo puts release builds: `$CARGO_TARGET_DIR/release` when set (relative to
/// the workspace root, where [`crate::run::cargo`] runs cargo), else `target/release`.
pub(crate) fn release_dir() -> PathBuf {
    let root = crate::run::workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    root.join(target).join("release")
}

/// Builds the `auditrail` binary (default features) and the given examples of
/// `auditrail-eventserver` in release mode; returns the release folder.
pub(crate) fn build_release(examples: &[&str]) -> Result<PathBuf, String> {
    build_cli(&[])?;
    let mut args = vec!["build", "--release", "-p", "auditrail-eventserver"];
    for example in examples {
        args.extend(["--example", example]);
    }
    crate::run::cargo(&args)?;
    Ok(release_dir())
}

/// Builds the `auditrail` binary in release mode with the CLI's default features plus
/// `features` (e.g. `kafka` for the Kafka source), and copies it to `copy_as` in the
/// release folder; returns that copy's path. The copy is the point: every build of the
/// CLI, whatever its features (and whichever worktree shares the target folder), writes
/// the same `release/auditrail`, so a bench that needs a feature runs its own copy and a
/// later build by someone else cannot swap the binary under it.
pub(crate) fn build_cli_with_features(features: &[&str], copy_as: &str) -> Result<PathBuf, String> {
    build_cli(features)?;
    let built = release_dir().join("auditrail");
    let copy = release_dir().join(copy_as);
    std::fs::copy(&built, &copy)
        .map_err(|e| format!("copying {} to {}: {e}", built.display(), copy.display()))?;
    Ok(copy)
}

/// The one release build of the `auditrail` binary: the CLI's default features plus
/// `features`.
fn build_cli(features: &[&str]) -> Result<(), String> {
    let features = features.join(",");
    let mut args = vec![
        "build",
        "--release",
        "-p",
        "auditrail-cli",
        "--bin",
        "auditrail",
    ];
    if !features.is_empty() {
        args.extend(["--features", &features]);
    }
    crate::run::cargo(&args)
}

/// A child process that is killed when dropped, so that no server outlives its bench.
pub(crate) struct Guard(pub Child);

impl Guard {
    /// Sends process `pid` (this child, or a process this child started, e.g. under
    /// `strace`) the signal named `signal` (`TERM`, `INT`), and waits up to `timeout` for
    /// this child to exit.
    pub(crate) fn stop(
        self,
        pid: u32,
        signal_name: &str,
        timeout: Duration,
    ) -> Result<ExitStatus, String> {
        signal(pid, signal_name)?;
        self.wait(pid, timeout)
    }

    /// Waits up to `timeout` for this child to exit (after a signal was sent to process
    /// `pid`, this child or one it started).
    pub(crate) fn wait(mut self, pid: u32, timeout: Duration) -> Result<ExitStatus, String> {
        let until = Instant::now() + timeout;
        loop {
            match self.0.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(50)),
                Ok(None) => return Err(format!("process {pid} did not stop within {timeout:?}")),
                Err(e) => return Err(format!("waiting for process {pid}: {e}")),
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends a signal by name with `kill(1)`: std has no signal API, and xtask stays std
/// only.
pub(crate) fn signal(pid: u32, name: &str) -> Result<(), String> {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .map_err(|e| format!("cannot run kill: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("kill -{name} {pid} failed ({status})"))
    }
}

/// A running `auditrail serve`.
pub(crate) struct Serve {
    /// The spawned process (the server, or the tool wrapping it).
    pub guard: Guard,
    /// The server's own process id.
    pub pid: u32,
    /// Its base URL, as it printed it.
    pub url: String,
}

/// Starts `auditrail serve` on a free loopback port with its data under `data_dir`:
/// with `config` when given, else with its built-in defaults. `wrapper` (e.g. `strace
/// ...`) runs the server under another program; the server's pid is then that
/// program's child.
pub(crate) fn start(
    release: &Path,
    config: Option<&Path>,
    data_dir: &Path,
    wrapper: &[String],
) -> Result<Serve, String> {
    start_binary(
        &release.join("auditrail"),
        config,
        data_dir,
        wrapper,
        Stdio::null(),
    )
}

/// [`start`] of a given `auditrail` binary, with its stderr (its log) sent to `stderr`.
pub(crate) fn start_binary(
    binary: &Path,
    config: Option<&Path>,
    data_dir: &Path,
    wrapper: &[String],
    stderr: Stdio,
) -> Result<Serve, String> {
    let binary = binary.to_path_buf();
    let mut cmd = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(&binary);
            c
        }
        None => Command::new(&binary),
    };
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir);
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    let mut guard = Guard(
        cmd.stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?,
    );
    let stdout = guard.0.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("listening on ").map(str::to_owned))
        .ok_or("the server did not say where it listens")?;
    // Keep reading: a closed pipe would make the server's next println fail.
    std::thread::spawn(move || lines.for_each(drop));
    let pid = if wrapper.is_empty() {
        guard.0.id()
    } else {
        first_child(guard.0.id())?
    };
    Ok(Serve { guard, pid, url })
}

/// The first child process of `pid` (Linux `/proc/PID/task/PID/children`).
pub(crate) fn first_child(pid: u32) -> Result<u32, String> {
    let path = format!("/proc/{pid}/task/{pid}/children");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("reading {path}: {e}"))?;
    text.split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("process {pid} has no child"))
}

/// Events/s from the Markdown table `auditrail-loadgen` prints (fourth column).
pub(crate) fn loadgen_events_per_s(text: &str) -> Option<f64> {
    loadgen_column(text, 4)
}

/// Non-200 answers from the same table (ninth column).
pub(crate) fn loadgen_errors(text: &str) -> Option<f64> {
    loadgen_column(text, 9)
}

fn loadgen_column(text: &str, column: usize) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with('|') && !l.contains("---") && !l.contains("events/s"))
        .find_map(|l| {
            l.split('|')
                .nth(column)
                .and_then(|c| c.trim().parse::<f64>().ok())
        })
}
