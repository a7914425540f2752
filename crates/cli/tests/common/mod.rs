//! Shared helpers for the CLI's process tests: a node folder with a config whose file
//! target writes under it, and a way to run the real `auditrail` binary there.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs `auditrail ARGS` with `env` in `cwd`, no input: `Err` with what it printed when
/// it has not ended within `limit` (it is then killed): for a run that could hang, or a
/// server that should have refused to start.
pub(crate) fn run_within(
    cwd: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    limit: std::time::Duration,
) -> Result<Output, Output> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ended =
        auditrail_testkit::server::wait_until(limit, || child.try_wait().unwrap().is_some());
    if !ended {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    if ended {
        Ok(out)
    } else {
        Err(out)
    }
}

/// A node folder: config, run dir and audit files all live in one temp dir.
pub(crate) struct Node {
    pub dir: tempfile::TempDir,
}

impl Node {
    /// A node whose only target is a local file target (fsynced), plus `extra` TOML.
    pub(crate) fn with_file_target(extra: &str) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "node = \"cli-test-node\"\nrun_dir = \"run\"\n\n[[targets]]\ntype = \"file\"\ndir = \"audit\"\n{extra}\n"
        );
        std::fs::write(dir.path().join("node.toml"), config).unwrap();
        Node { dir }
    }

    /// A node `node` whose only target is an `eventserver` target named `central` that
    /// sends to `url`, plus `extra` TOML lines of that target.
    pub(crate) fn with_eventserver_target(node: &str, url: &str, extra: &str) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "node = \"{node}\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\n\
             name = \"central\"\nurl = \"{url}\"\n{extra}\n"
        );
        std::fs::write(dir.path().join("node.toml"), config).unwrap();
        Node { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `auditrail send` of one `generic` `login` event with the node's `node.toml`,
    /// waiting at most `timeout` seconds for its delivery.
    pub(crate) fn send_login(&self, timeout: &str) -> Output {
        self.run(
            &[
                "send",
                "--config",
                "node.toml",
                "--topic",
                "generic",
                "--msg-type",
                "login",
                "--timeout",
                timeout,
            ],
            "",
        )
    }

    /// Runs `auditrail ARGS` in the node folder, feeding `stdin`.
    pub(crate) fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_auditrail"));
        cmd.args(args).current_dir(self.path());
        output_fed(cmd, stdin)
    }

    /// Runs `auditrail ARGS` in the node folder with the file `input` as its stdin
    /// (`auditrail send --stdin < file`: a file larger than a test wants in memory).
    pub(crate) fn run_from(&self, args: &[&str], input: &Path) -> Output {
        Command::new(env!("CARGO_BIN_EXE_auditrail"))
            .args(args)
            .current_dir(self.path())
            .stdin(std::fs::File::open(input).unwrap())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap()
    }

    /// Runs `auditrail ARGS` in the node folder with no input, `None` when it has not
    /// ended within `limit` (it is then killed): for a run that could hang.
    pub(crate) fn run_within(&self, args: &[&str], limit: std::time::Duration) -> Option<Output> {
        run_within(self.path(), args, &[], limit).ok()
    }

    /// Every event line of the node's audit files, parsed as JSON.
    pub(crate) fn audit_lines(&self) -> Vec<serde_json::Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.path().join("audit"))
            .map(|rd| rd.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .flat_map(|f| {
                std::fs::read_to_string(f)
                    .unwrap()
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect::<Vec<serde_json::Value>>()
            })
            .collect()
    }
}

/// `auditrail send --stdin` of ten `login` events (users `{user}0` to `{user}9`) with
/// the node's `node.toml`, which must succeed (exit 0: delivered).
pub(crate) fn send_logins(node: &Node, user: &str) {
    let lines: String = (0..10)
        .map(|i| format!("{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"{user}{i}\"}}}}\n"))
        .collect();
    let out = node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--stdin",
            "--timeout",
            "30",
        ],
        &lines,
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
}

/// The `authUser` of every event `server` stored, sorted.
pub(crate) fn stored_users(server: &auditrail_testkit::server::ServerProcess) -> Vec<String> {
    let mut users: Vec<String> = server
        .stored()
        .iter()
        .map(|(_, e)| {
            e.message
                .get("authUser")
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    users.sort();
    users
}

/// stdout and stderr as text, for assertion messages.
pub(crate) fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The value of `key=value` on the last line of the log file `log` that contains
/// `message` (the fmt layer writes a tracing event's fields that way).
pub(crate) fn logged_field(log: &Path, message: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let line = text.lines().rev().find(|l| l.contains(message))?;
    let prefix = format!("{key}=");
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(prefix.as_str()))
        .map(str::to_owned)
}

/// `auditrail send --config node.toml --stdin EXTRA...` running in a node folder, its
/// stdin a pipe that stays open and its stderr in `<node>/stderr.log`.
pub(crate) struct StreamingSend {
    pub child: std::process::Child,
    pub input: std::process::ChildStdin,
    pub log: PathBuf,
}

impl StreamingSend {
    pub(crate) fn start(node: &Node, extra: &[&str]) -> StreamingSend {
        let log = node.path().join("stderr.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
            .args(["send", "--config", "node.toml", "--stdin"])
            .args(extra)
            .current_dir(node.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        StreamingSend { child, input, log }
    }

    /// Writes `n` login events (users `u0`...) and flushes; the pipe stays open.
    pub(crate) fn write_logins(&mut self, n: usize) {
        for i in 0..n {
            writeln!(
                self.input,
                "{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"u{i}\"}}}}"
            )
            .unwrap();
        }
        self.input.flush().unwrap();
    }

    /// What the process wrote to stderr so far.
    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends `signal` (`-TERM`, `-INT`) and waits for the process to end.
    pub(crate) fn stop(self, signal: &str) -> Output {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap()
            .success());
        let out = self.child.wait_with_output().unwrap();
        drop(self.input);
        out
    }
}

/// `auditrail sql --audit-dir DIR --format json "SELECT count(*) ..."` in the node
/// folder: the count (`None` when the command printed none) and the whole output.
pub(crate) fn count_in_audit_dir(node: &Node, dir: &str) -> (Option<u64>, Output) {
    let out = node.run(
        &[
            "sql",
            "--audit-dir",
            dir,
            "--format",
            "json",
            "SELECT count(*) AS n FROM events",
        ],
        "",
    );
    let n = serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .ok()
        .and_then(|v| v[0]["n"].as_u64());
    (n, out)
}

/// Runs a command to its end, fed on its standard input (shared with the testkit's
/// power-cut namespace).
pub(crate) use auditrail_testkit::process::output_fed;

/// `auditrail send` of one `login` event of `alice` with the node folder's `node.toml`
/// (arguments for [`Node::run`] and [`Node::run_within`]).
pub(crate) const SEND_A_LOGIN: &[&str] = &[
    "send",
    "--config",
    "node.toml",
    "--topic",
    "generic",
    "--msg-type",
    "login",
    "--user",
    "alice",
];

pub(crate) use auditrail_testkit::tmpfs::Tmpfs;

/// A node folder whose `node.toml` (node `n1`) sends to the event server at `addr`
/// with its run folder (spool, sequence file, dead letters) in `run_dir`:
/// for the tests of a node on a full disk.
pub(crate) fn node_sending_to(addr: std::net::SocketAddr, run_dir: &Path) -> tempfile::TempDir {
    let node = tempfile::tempdir().unwrap();
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"n1\"\nrun_dir = \"{}\"\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\nurl = \"http://{addr}\"\n",
            run_dir.display()
        ),
    )
    .unwrap();
    node
}

/// `count` bare messages (`msgType` x, numbered `k`, ~330 bytes each) as stdin lines
/// for `send --topic`.
pub(crate) fn bare_messages(count: usize) -> String {
    (0..count)
        .map(|k| {
            format!(
                "{{\"msgType\":\"x\",\"k\":{k},\"pad\":\"{}\"}}\n",
                "z".repeat(300)
            )
        })
        .collect()
}

/// `auditrail keys ARGS --data-dir DATA_DIR`: (exit code, stdout, stderr).
pub(crate) fn keys(data_dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .arg("keys")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// The public key (`ed25519:<64 hex>`) that ends the first line of `keys rotate
/// --prepare`'s output (`next signing key staged: ...`, or `... already staged: ...`).
pub(crate) fn staged_key(stdout: &str) -> String {
    let first = stdout.lines().next().unwrap_or_default();
    let key = first.rsplit(' ').next().unwrap_or_default();
    assert!(
        key.starts_with("ed25519:") && key.len() == "ed25519:".len() + 64,
        "no staged key on the first line: {stdout}"
    );
    key.to_owned()
}

/// A data dir `data` that a real server started on and stopped, with the next key
/// staged by `keys rotate --prepare`: the staged public key (`ed25519:<64 hex>`).
pub(crate) fn stopped_server_with_a_staged_key(data: &Path) -> String {
    let mut server = auditrail_testkit::server::ServerProcess::start(data, None);
    assert_eq!(server.stop(), Some(0));
    let (code, out, err) = keys(data, &["rotate", "--prepare"]);
    assert_eq!(code, 0, "{out}{err}");
    staged_key(&out)
}

/// `auditrail send --stdin --timeout 120 < in.jsonl` in a node whose file target
/// cannot write (its `audit.log` is a folder) until [`HeldSend::release`]: the target
/// answers no batch, so reading stops for room after about 10 000 lines (8 batches in
/// flight, one being filled, 1000 queued, the read buffer) and the test can change
/// the input file while the run is known not to have read it to its end. Stdout and
/// stderr go to files (a pipe nobody reads would fill up and stop the run).
pub(crate) struct HeldSend {
    pub node: Node,
    child: std::process::Child,
}

impl HeldSend {
    /// Starts the run on `input` (written to `in.jsonl`) and returns once the target
    /// has failed a first batch (its retry is logged): reading then waits for room.
    pub(crate) fn start(input: &[u8]) -> HeldSend {
        let node = Node::with_file_target("");
        std::fs::create_dir_all(node.path().join("audit/audit.log")).unwrap();
        std::fs::write(node.input(), input).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
            .args([
                "send",
                "--config",
                "node.toml",
                "--stdin",
                "--timeout",
                "120",
            ])
            .current_dir(node.path())
            .stdin(std::fs::File::open(node.input()).unwrap())
            .stdout(std::fs::File::create(node.path().join("stdout.log")).unwrap())
            .stderr(std::fs::File::create(node.path().join("stderr.log")).unwrap())
            .spawn()
            .unwrap();
        let held = HeldSend { node, child };
        let failed =
            auditrail_testkit::server::wait_until(std::time::Duration::from_secs(60), || {
                held.stderr().contains("retryable error")
            });
        assert!(failed, "no retry logged: {}", held.stderr());
        held.wait_until_reading_waits();
        held
    }

    /// Waits until the run reads no more (it waits for room), so that what the test
    /// does to the input next happens "before the run reads on". The first retry is
    /// logged while reading still goes on: a cut made then could be read half done
    /// (CI once failed so on a loaded machine, reading the file cut but not yet
    /// written again). The run's offset in stdin (its reader's duplicate shares it)
    /// tells: unchanged for 2 s, reading waits. A wait that ends early only makes the
    /// test fail, never pass wrongly; it gives up after 60 s.
    fn wait_until_reading_waits(&self) {
        let fdinfo = format!("/proc/{}/fdinfo/0", self.child.id());
        let offset = || {
            std::fs::read_to_string(&fdinfo).ok().and_then(|info| {
                info.lines()
                    .find_map(|l| l.strip_prefix("pos:"))
                    .and_then(|pos| pos.trim().parse::<u64>().ok())
            })
        };
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut last = offset();
        let mut unchanged_since = std::time::Instant::now();
        while std::time::Instant::now() < give_up {
            std::thread::sleep(std::time::Duration::from_millis(100));
            let now = offset();
            if now != last {
                last = now;
                unchanged_since = std::time::Instant::now();
            } else if unchanged_since.elapsed() >= std::time::Duration::from_secs(2) {
                return;
            }
        }
    }

    /// The input file (`in.jsonl` in the node folder).
    pub(crate) fn input(&self) -> PathBuf {
        self.node.input()
    }

    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(self.node.path().join("stderr.log")).unwrap_or_default()
    }

    /// Lets the target write again and waits for the run to end (a generous guard
    /// against a hang, never a measure): its exit code and summary.
    pub(crate) fn release(mut self) -> (Option<i32>, serde_json::Value, String, Node) {
        std::fs::remove_dir(self.node.path().join("audit/audit.log")).unwrap();
        let ended =
            auditrail_testkit::server::wait_until(std::time::Duration::from_secs(120), || {
                self.child.try_wait().unwrap().is_some()
            });
        if !ended {
            let _ = self.child.kill();
        }
        let status = self.child.wait().unwrap();
        let stderr = self.stderr();
        assert!(ended, "send still running after 120 s\n{stderr}");
        let stdout = std::fs::read_to_string(self.node.path().join("stdout.log")).unwrap();
        let summary = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
        (status.code(), summary, stderr, self.node)
    }
}

impl Node {
    fn input(&self) -> PathBuf {
        self.path().join("in.jsonl")
    }
}

/// `count` event lines of `LINE_BYTES` bytes each, newline included (`i` zero-padded),
/// so line N starts at byte `(N - 1) * LINE_BYTES`.
pub(crate) fn fixed_width_events(count: usize) -> String {
    (1..=count)
        .map(|i| {
            format!(
                "{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"t\",\"i\":\"{i:06}\"}}}}\n"
            )
        })
        .collect()
}

/// The bytes of each line of [`fixed_width_events`].
pub(crate) const LINE_BYTES: u64 = 59;
