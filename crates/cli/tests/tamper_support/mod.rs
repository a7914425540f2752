//! Helpers of the tamper tests: a server run that leaves a store with several signed
//! checkpoints, a start that may be refused, and `verify` / `store accept` runs.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::serve_support::{event_line, new_id, post_events, start, ServerProc};

/// A checkpoint every 10 records.
pub(crate) const CONFIG: &str =
    "[checkpoints]\nevery_records = 10\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n";

/// Writes `server.toml` in `dir`, runs the server, sends 5 batches of 10 events
/// (checkpoints at 10, 20, ..., 50), stops it. Returns the trusted public key (a
/// copy taken before any attack) and the store folder.
pub(crate) fn fifty_records(dir: &Path) -> (String, PathBuf) {
    std::fs::write(dir.join("server.toml"), CONFIG).unwrap();
    let server = start(dir, &["--config", "server.toml", "--data-dir", "data"]);
    for b in 0..5u64 {
        let body: String = (0..10u64)
            .map(|i| {
                let n = b * 10 + i + 1;
                event_line(&new_id(n, 77), "n1", n).replace("alice", &format!("user{n}")) + "\n"
            })
            .collect();
        let (status, answer) = post_events(&server.addr, &body, None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(server.terminate(), 0);
    let key = std::fs::read_to_string(dir.join("data/signing.pub")).unwrap();
    (key.trim().to_string(), dir.join("data/store"))
}

/// Starts the server on `dir`'s data; `Err((exit code, stderr))` when it exits
/// instead of listening.
pub(crate) fn try_start(dir: &Path) -> Result<ServerProc, (i32, String)> {
    try_start_as(dir, false)
}

/// [`try_start`] as a user that file modes stop (see [`UNPRIVILEGED`]; give it the
/// folder first, [`give_to_unprivileged`]).
pub(crate) fn try_start_unprivileged(dir: &Path) -> Result<ServerProc, (i32, String)> {
    try_start_as(dir, true)
}

fn try_start_as(dir: &Path, unprivileged: bool) -> Result<ServerProc, (i32, String)> {
    use std::io::BufRead;
    use std::os::unix::process::CommandExt;
    let stderr_path = dir.join(format!(
        "stderr-{}.log",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_auditrail"));
    if unprivileged && as_root() {
        cmd.uid(UNPRIVILEGED).gid(UNPRIVILEGED);
    }
    let mut child = cmd
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--config",
            "server.toml",
            "--data-dir",
            "data",
        ])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => {
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    return Ok(ServerProc {
                        child,
                        addr: addr.trim().to_owned(),
                        stdout: rx,
                        stderr_path,
                    });
                }
            }
            Err(_) => {
                if let Some(status) = child.try_wait().unwrap() {
                    let err =
                        strip_ansi(&std::fs::read_to_string(&stderr_path).unwrap_or_default());
                    return Err((status.code().unwrap_or(-1), err));
                }
                if Instant::now() > until {
                    let _ = child.kill();
                    panic!("the server neither listened nor exited");
                }
            }
        }
    }
}

/// Removes terminal colour sequences from a log.
pub(crate) fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `auditrail verify data --public-key KEY --json` in `dir`: exit code and report.
pub(crate) fn verify(dir: &Path, key: &str) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["verify", "data", "--public-key", key, "--json"])
        .current_dir(dir)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!("not JSON: {}", String::from_utf8_lossy(&out.stderr));
    });
    (out.status.code().unwrap_or(-1), report)
}

/// The kinds of the error-severity problems of the first store.
pub(crate) fn error_kinds(report: &serde_json::Value) -> Vec<String> {
    report["stores"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["severity"] == "error")
        .map(|p| p["kind"].as_str().unwrap().to_string())
        .collect()
}

/// `auditrail store accept --data-dir data --reason REASON` in `dir`: exit code and
/// stdout + stderr.
pub(crate) fn accept(dir: &Path, reason: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["store", "accept", "--data-dir", "data", "--reason", reason])
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// The checkpoint number and chain number the store's high-water mark records.
pub(crate) fn marked(dir: &Path) -> (u64, u64) {
    let text = std::fs::read_to_string(dir.join("data/high-water.jsonl")).unwrap();
    let line = text.lines().next().unwrap();
    let m = auditrail_integrity::HighWaterMark::parse_line(line.as_bytes()).unwrap();
    (m.checkpoint, m.link.seq)
}

/// Stops a server started a moment ago: one request first, so that its SIGTERM handler
/// (set up right after it prints its address) is in place.
pub(crate) fn stop(server: ServerProc) -> i32 {
    let _ = crate::serve_support::request(&server.addr, "GET", "/v1/health", &[], b"");
    server.terminate()
}

/// Rolls the store back as a restored older copy of it would be: keeps the checkpoint
/// lines that vouch for at most `seq` records, and the records up to the last of them.
/// Returns that line's checkpoint number and chainSeq.
pub(crate) fn roll_back(store: &Path, seq: u64) -> (u64, u64) {
    let log = store.join("checkpoints.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["chainSeq"]
                .as_u64()
                .unwrap()
                <= seq
        })
        .collect();
    let last: serde_json::Value = serde_json::from_str(kept.last().unwrap()).unwrap();
    let (index, kept_seq) = (
        last["checkpoint"].as_u64().unwrap(),
        last["chainSeq"].as_u64().unwrap(),
    );
    std::fs::write(
        &log,
        kept.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    auditrail_testkit::store::keep_records_upto(store, kept_seq);
    (index, kept_seq)
}

/// A server started in `dir` with [`CONFIG`] (data dir `data`) that stored 20 events
/// of node `n1` (seqs 1 to 20, ids salted with `salt`), still running.
pub(crate) fn server_with_twenty(dir: &Path, salt: u64) -> ServerProc {
    std::fs::write(dir.join("server.toml"), CONFIG).unwrap();
    let server = start(dir, &["--config", "server.toml", "--data-dir", "data"]);
    let body: String = (1..=20u64)
        .map(|n| event_line(&new_id(n, salt), "n1", n) + "\n")
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    server
}

/// Sends 10 more events (node `n1`, sequence numbers from `first`) to a running
/// server; each is answered 200.
pub(crate) fn post_ten(server: &ServerProc, first: u64) {
    let body: String = (first..first + 10)
        .map(|n| event_line(&new_id(n, 78), "n1", n) + "\n")
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
}

/// The lines of the store's checkpoint log.
pub(crate) fn log_lines(store: &Path) -> Vec<String> {
    std::fs::read_to_string(store.join("checkpoints.jsonl"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// Copies every record file of the store `from` into the store `to`, at the same
/// places: what an attacker who can write `to` but holds no key puts there (the first
/// record chains from the genesis link, as in any store).
pub(crate) fn copy_records(from: &Path, to: &Path) {
    for file in auditrail_testkit::store::record_files(from) {
        let target = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&file, &target).unwrap();
    }
}

/// The user that [`run_unprivileged`] runs commands as when the tests run as root
/// (`nobody`), since no file mode stops root.
pub(crate) const UNPRIVILEGED: u32 = 65534;

fn as_root() -> bool {
    rustix::process::geteuid().as_raw() == 0
}

/// Makes `dir` (a test's folder) usable by the user of [`run_unprivileged`]: as root,
/// gives it and everything below it to that user; otherwise it is the tests' own.
pub(crate) fn give_to_unprivileged(dir: &Path) {
    if !as_root() {
        return;
    }
    let user = Some(rustix::fs::Uid::from_raw(UNPRIVILEGED));
    let group = Some(rustix::fs::Gid::from_raw(UNPRIVILEGED));
    rustix::fs::chown(dir, user, group).unwrap();
    if dir.is_dir() {
        for entry in std::fs::read_dir(dir).unwrap() {
            give_to_unprivileged(&entry.unwrap().path());
        }
    }
}

/// `auditrail ARGS` in `dir` as a user that file modes stop (see [`UNPRIVILEGED`]):
/// exit code and stdout + stderr, colours removed.
pub(crate) fn run_unprivileged(dir: &Path, args: &[&str]) -> (i32, String) {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_auditrail"));
    cmd.args(args).current_dir(dir);
    if as_root() {
        cmd.uid(UNPRIVILEGED).gid(UNPRIVILEGED);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        strip_ansi(
            &(String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr)),
        ),
    )
}

/// Puts a FIFO (named pipe) at `path` in place of its file, which is moved to `aside`
/// (`put_back` restores it).
pub(crate) fn replace_with_fifo(path: &Path, aside: &Path) {
    std::fs::rename(path, aside).unwrap();
    make_fifo(path);
}

/// Makes a FIFO (named pipe) at `path`, where nothing is.
pub(crate) fn make_fifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
}

/// Undoes [`replace_with_fifo`].
pub(crate) fn put_back(path: &Path, aside: &Path) {
    std::fs::remove_file(path).unwrap();
    std::fs::rename(aside, path).unwrap();
}

/// The one segment file of `store` (the records of [`fifty_records`] share one
/// partition folder) and its path relative to the store, as verify names it.
pub(crate) fn only_segment(store: &Path) -> (PathBuf, String) {
    let files = auditrail_testkit::store::record_files(store);
    assert_eq!(files.len(), 1, "{files:?}");
    let rel = files[0]
        .strip_prefix(store)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    (files[0].clone(), rel)
}

/// Replaces line `n` (from 1) of `file` with what `edit` makes of it.
pub(crate) fn edit_line(file: &Path, n: usize, edit: impl FnOnce(&str) -> String) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[n - 1] = edit(&lines[n - 1]);
    std::fs::write(file, lines.join("\n") + "\n").unwrap();
}

/// Where the first store's problems of `kind` are: (file, line) of each.
pub(crate) fn problems_at(report: &serde_json::Value, kind: &str) -> Vec<(String, u64)> {
    report["stores"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == kind)
        .map(|p| {
            (
                p["file"].as_str().unwrap_or_default().to_string(),
                p["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

/// Two stores: `a` takes topic `generic`, `b` topic `authfail`.
pub(crate) const TWO_STORES: &str = "[[destinations]]\nname = \"a\"\ntype = \"store\"\npath = \"a\"\ntopics = [\"generic\"]\n[[destinations]]\nname = \"b\"\ntype = \"store\"\npath = \"b\"\ntopics = [\"authfail\"]\n";

/// Writes `server.toml` ([`TWO_STORES`]) in `dir`, runs the server, sends one batch of 5
/// events to store `a` and two batches of 5 to store `b`, stops it. Returns the
/// trusted public key (a copy taken before any attack).
pub(crate) fn two_stores(dir: &Path) -> String {
    std::fs::write(dir.join("server.toml"), TWO_STORES).unwrap();
    let server = start(dir, &["--config", "server.toml", "--data-dir", "data"]);
    for (b, topic) in [(0u64, "generic"), (1, "authfail"), (2, "authfail")] {
        let body: String = (1..=5u64)
            .map(|i| {
                let n = b * 5 + i;
                event_line(&new_id(n, 78), "n1", n).replace("\"generic\"", &format!("\"{topic}\""))
                    + "\n"
            })
            .collect();
        let (status, answer) = post_events(&server.addr, &body, None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(server.terminate(), 0);
    let key = std::fs::read_to_string(dir.join("data/signing.pub")).unwrap();
    key.trim().to_string()
}

/// The report of the store whose path ends in `/name`.
pub(crate) fn store_named<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"].as_str().unwrap().ends_with(&format!("/{name}")))
        .unwrap_or_else(|| panic!("no store {name} in {report:#}"))
}

/// The config of two stores, `a` and `b`, taking the routing keys `svc-a` and `svc-b`
/// (the held-store tests hold one and check the other serves).
pub(crate) const TWO_KEYED_STORES: &str = "\
[[destinations]]
name = \"a\"
type = \"store\"
path = \"a\"
routing_keys = [\"svc-a\"]
[[destinations]]
name = \"b\"
type = \"store\"
path = \"b\"
routing_keys = [\"svc-b\"]
";

/// Event `n` of `key` from a node of its own (`n-<key>`), a line of a batch.
pub(crate) fn keyed_event(key: &str, n: u64, salt: u64) -> String {
    serde_json::json!({
        "id": crate::serve_support::new_id(n, salt), "timestamp": "2026-11-25T16:55:49.123Z",
        "topic": "generic", "routingKey": key, "node": format!("n-{key}"),
        "seq": n, "message": {"msgType": "login", "authUser": "alice"}
    })
    .to_string()
        + "\n"
}

/// Ten events of `key` (sequence numbers from `first` of a node of its own).
pub(crate) fn ten(key: &str, first: u64, salt: u64) -> String {
    (first..first + 10)
        .map(|n| keyed_event(key, n, salt))
        .collect()
}

/// Every file under `dir` with its bytes (a store left untouched compares equal).
pub(crate) fn file_bytes(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut found = std::collections::BTreeMap::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                found.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    found
}
