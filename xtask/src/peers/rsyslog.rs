//! rsyslog as the peer: its config (TCP in, one file out synced per batch) and the
//! daemon run in the foreground from a temp folder, owning nothing system-wide (no
//! `/dev/log`, no pid file in `/run`, no system config).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::serve::Guard;

/// How long rsyslogd may take to open its TCP port.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// `rsyslogd -v`'s first line (e.g. `rsyslogd  8.2302.0 (aka 2023.02) compiled with:`),
/// trimmed to the version.
pub(super) fn version(rsyslogd: &Path) -> String {
    let out = Command::new(rsyslogd).arg("-v").output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let first = text.lines().next().unwrap_or("unknown").trim();
    first
        .split(" compiled")
        .next()
        .unwrap_or(first)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// rsyslog's batch settings (see [`config`]).
pub(super) struct Tuning {
    /// `main_queue(queue.dequeueBatchSize)`: messages per batch at most.
    pub batch: u64,
    /// omfile's `ioBufferSize` (rsyslog size syntax, e.g. `1m`).
    pub io_buffer: String,
}

/// The config: `imptcp` on `127.0.0.1:port` into its own ruleset, whose only action
/// writes every message to `output` and syncs it. rsyslog's own messages (start,
/// errors) stay in the default ruleset, which has no action, so the output file holds
/// exactly the messages received. docs/benchmarks.md ("Peers: rsyslog") explains each
/// setting with rsyslog's documentation, and what its defaults do instead.
pub(super) fn config(port: u16, work: &Path, output: &Path, tuning: &Tuning) -> String {
    format!(
        r#"# Written by `cargo xtask bench peers`.
global(workDirectory="{work}")
# Messages per batch at most (8.2302's default: 256).
main_queue(queue.dequeueBatchSize="{batch}")
module(load="imptcp")
input(type="imptcp" address="127.0.0.1" port="{port}" ruleset="bench")
ruleset(name="bench") {{
    # sync="on": "rsyslog does a sync to the data file as well as the directory it
    #   resides after processing each batch" (omfile docs, parameter sync). It syncs
    #   after every write of its buffer, so:
    # ioBufferSize: when a whole batch fits the buffer, a batch is one write and one
    #   sync (the default, 4 KiB, writes and syncs every ~12 messages of ~330 bytes).
    # flushOnTXEnd="on": the buffer is written at the end of each batch (default on).
    # asyncWriting="off": the queue worker writes and syncs the batch itself, no
    #   background writer thread (default off).
    action(type="omfile" file="{output}" template="RSYSLOG_FileFormat"
           sync="on" ioBufferSize="{io_buffer}" flushOnTXEnd="on" asyncWriting="off")
}}
"#,
        work = work.display(),
        output = output.display(),
        batch = tuning.batch,
        io_buffer = tuning.io_buffer,
    )
}

/// A running rsyslogd.
pub(super) struct Running {
    /// The spawned process (rsyslogd, or the tool wrapping it).
    pub guard: Guard,
    /// rsyslogd's own process id.
    pub pid: u32,
    /// Where it listens.
    pub port: u16,
    /// The file it writes the messages to.
    pub output: PathBuf,
}

/// Starts `rsyslogd -n` (foreground) with its config, work folder, pid file and output
/// under `dir`, on a free loopback port; returns once the port accepts connections.
/// `wrapper` runs it under another program (e.g. strace).
pub(super) fn start(
    rsyslogd: &Path,
    tuning: &Tuning,
    dir: &Path,
    wrapper: &[String],
) -> Result<Running, String> {
    let work = dir.join("work");
    std::fs::create_dir_all(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;
    let port = free_port()?;
    let output = dir.join("messages.log");
    let conf = dir.join("rsyslog.conf");
    std::fs::write(&conf, config(port, &work, &output, tuning))
        .map_err(|e| format!("writing {}: {e}", conf.display()))?;
    let log = dir.join("rsyslogd.log");
    let log_file =
        std::fs::File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
    let log_err = log_file.try_clone().map_err(|e| e.to_string())?;
    let mut cmd = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(rsyslogd);
            c
        }
        None => Command::new(rsyslogd),
    };
    cmd.arg("-n")
        .arg("-f")
        .arg(&conf)
        .arg("-i")
        .arg(dir.join("rsyslogd.pid"))
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err);
    let mut guard = Guard(
        cmd.spawn()
            .map_err(|e| format!("cannot start {}: {e}", rsyslogd.display()))?,
    );
    let until = Instant::now() + START_TIMEOUT;
    // An empty connection opened and closed: rsyslog logs nothing for it.
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        let exited = guard.0.try_wait().map_err(|e| e.to_string())?;
        if exited.is_some() || Instant::now() > until {
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(format!(
                "rsyslogd did not open 127.0.0.1:{port} ({}); its output:\n{said}",
                match exited {
                    Some(status) => format!("it exited, {status}"),
                    None => format!("not within {START_TIMEOUT:?}"),
                }
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = if wrapper.is_empty() {
        guard.0.id()
    } else {
        crate::serve::first_child(guard.0.id())?
    };
    Ok(Running {
        guard,
        pid,
        port,
        output,
    })
}

/// A loopback port nobody listens on right now (the OS picks it; it is released again
/// for rsyslogd, which has no "port 0" of its own to report back).
fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("binding a free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}
