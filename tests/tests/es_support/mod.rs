//! Shared parts of the eventserver end-to-end tests: the real server process
//! (`auditrail serve`), node processes (`es-node`), node configs, and reading back
//! stores, local audit files, dead-letter files and process memory.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub(crate) use auditrail_testkit::server;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) use server::{wait_until, ServerProcess};

/// Where one node keeps its config, run folder and local audit files.
pub(crate) struct NodeDir {
    pub name: String,
    pub dir: PathBuf,
}

impl NodeDir {
    /// Writes `<root>/<name>/node.toml`: a `file` target and an `eventserver` target
    /// (`extra` is appended to the eventserver entry, one `key = value` per line).
    pub(crate) fn new(root: &Path, name: &str, url: &str, extra: &str) -> NodeDir {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let config = format!(
            r#"node = "{name}"
run_dir = "{run}"
shutdown_timeout_s = 60

[[targets]]
type = "file"
name = "local"
dir = "{audit}"

[[targets]]
type = "eventserver"
name = "central"
url = "{url}"
backoff_initial_ms = 20
backoff_max_ms = 300
request_timeout_ms = 3000
shutdown_drain_ms = 25000
{extra}
"#,
            run = dir.join("run").display(),
            audit = dir.join("audit").display(),
        );
        std::fs::write(dir.join("node.toml"), config).unwrap();
        NodeDir {
            name: name.to_owned(),
            dir,
        }
    }

    pub(crate) fn config(&self) -> PathBuf {
        self.dir.join("node.toml")
    }

    pub(crate) fn spool_dir(&self) -> PathBuf {
        self.dir.join("run/spool/central")
    }

    /// Event ids in the node's local audit files.
    pub(crate) fn local_ids(&self) -> Vec<String> {
        let out =
            auditrail::target_file::read_audit_dir(self.dir.join("audit"), "audit.log").unwrap();
        out.events.iter().map(|e| e.id.to_string()).collect()
    }

    /// Lines of the eventserver target's dead-letter file.
    pub(crate) fn dead_letters(&self) -> Vec<serde_json::Value> {
        let path = self.dir.join("run/deadletter/central.jsonl");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Starts `es-node` for this node.
    pub(crate) fn spawn(&self, args: &[&str]) -> NodeProcess {
        NodeProcess::spawn(
            Command::new(es_node()),
            &self.config(),
            args,
            &self.dir.join("node.log"),
        )
    }
}

/// The `es-node` binary.
pub(crate) fn es_node() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_es-node"))
}

impl NodeProcess {
    /// Runs `command` (`es-node`, or a command that execs it, such as
    /// `auditrail_testkit::ext4::Ext4::command`) with `--config CONFIG ARGS`, its
    /// stderr appended to `log`, and reads what it acknowledges.
    pub(crate) fn spawn(
        mut command: Command,
        config: &Path,
        args: &[&str],
        log: &Path,
    ) -> NodeProcess {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut child = command
            .arg("--config")
            .arg(config)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let acked = Arc::new(Mutex::new(Vec::new()));
        let failed = Arc::new(Mutex::new(Vec::new()));
        let finished = Arc::new(Mutex::new(None));
        let (a, f, fin) = (acked.clone(), failed.clone(), finished.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("acked ") {
                    let id = rest.split(' ').next().unwrap_or_default().to_owned();
                    a.lock().unwrap().push(id);
                } else if line.starts_with("failed ") {
                    f.lock().unwrap().push(line);
                } else if let Some(rest) = line.strip_prefix("done ") {
                    *fin.lock().unwrap() = Some(rest.to_owned());
                }
            }
        });
        NodeProcess {
            child: Some(child),
            acked,
            failed,
            finished,
        }
    }
}

/// A running `es-node`.
pub(crate) struct NodeProcess {
    child: Option<Child>,
    pub acked: Arc<Mutex<Vec<String>>>,
    pub failed: Arc<Mutex<Vec<String>>>,
    pub finished: Arc<Mutex<Option<String>>>,
}

impl NodeProcess {
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    pub(crate) fn acked(&self) -> Vec<String> {
        self.acked.lock().unwrap().clone()
    }

    /// Waits for the process to exit (bounded); true if it exited successfully.
    pub(crate) fn wait(&mut self, timeout: Duration) -> bool {
        let Some(child) = self.child.as_mut() else {
            return false;
        };
        let ok = wait_until(timeout, || matches!(child.try_wait(), Ok(Some(_))));
        if !ok {
            return false;
        }
        // Let the stdout reader see the last lines.
        wait_until(Duration::from_secs(5), || {
            self.finished.lock().unwrap().is_some()
        });
        matches!(self.child.take().map(|mut c| c.wait()), Some(Ok(s)) if s.success())
    }

    /// `kill -9`.
    pub(crate) fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Resident memory of a process, in KiB (`VmRSS` of /proc/<pid>/status).
pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Bytes of the files in a folder (not recursive).
pub(crate) fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|it| {
            it.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Store contents as id -> number of copies.
pub(crate) fn copies(server: &ServerProcess) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for (_, e) in server.stored() {
        *m.entry(e.id.to_string()).or_insert(0) += 1;
    }
    m
}

/// Asserts every id in `expected` is stored exactly once and nothing is stored twice.
pub(crate) fn assert_exactly_once(server: &ServerProcess, expected: &HashSet<String>) {
    let c = copies(server);
    let twice: Vec<_> = c.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    let missing: Vec<_> = expected.iter().filter(|id| !c.contains_key(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged events missing, e.g. {:?}",
        missing.len(),
        missing.iter().take(3).collect::<Vec<_>>()
    );
}

/// `n` events of `node` with sequence numbers from `first` (the server de-duplicates by
/// id and seq), for tests that drive an `eventserver` target in-process.
pub(crate) fn node_events(node: &str, first: u64, n: u64) -> Vec<Arc<auditrail::Event>> {
    let node = auditrail::NodeId::new(node).unwrap();
    (first..first + n)
        .map(|i| {
            Arc::new(
                auditrail::EventDraft::new(auditrail::topics::GENERIC, "e2e")
                    .field("i", i)
                    .complete(&node, || i + 1)
                    .unwrap(),
            )
        })
        .collect()
}

/// Builds an in-process `eventserver` target named `central` of `node`, with its run
/// folder under `run_dir`.
pub(crate) fn eventserver_target(
    config: auditrail::target_eventserver::EventServerConfig,
    node: &str,
    run_dir: &Path,
) -> Result<auditrail::target_eventserver::EventServerTarget, auditrail::BuildError> {
    let ctx = auditrail::BuildContext::new(
        auditrail::NodeId::new(node).unwrap(),
        "central",
        run_dir,
        run_dir.join("deadletter"),
        tokio::runtime::Handle::current(),
    );
    auditrail::target_eventserver::EventServerTarget::new(config, &ctx)
}
