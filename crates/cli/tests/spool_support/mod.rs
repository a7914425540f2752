//! Set-up shared by the tests of a node's spool through the `auditrail` binary: a
//! node whose eventserver target's server is not up yet, ten events spooled by a
//! `send` while it is down, the spool's segment file, and one more `send`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::common;
use auditrail_testkit::port::Port;

/// A node `name` (config `node.toml`, run folder `run`) with one eventserver target
/// `central` sending to 127.0.0.1:`port` (held by the test: refused until a server
/// takes it, see `auditrail_testkit::port`).
pub(crate) fn spooling_node(name: &str, port: &Port) -> common::Node {
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"{name}\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\nurl = \"http://127.0.0.1:{port}\"\nshutdown_drain_ms = 300\n"
        ),
    )
    .unwrap();
    node
}

/// Sends `user1` .. `user10` while the server is down: `send` exits 3 (spooled).
pub(crate) fn spool_ten(node: &common::Node) -> Output {
    let ten: String = (1..=10)
        .map(|i| {
            format!("{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"user{i}\"}}}}\n")
        })
        .collect();
    let out = node.run(
        &["send", "--config", "node.toml", "--stdin", "--timeout", "1"],
        &ten,
    );
    assert_eq!(out.status.code(), Some(3), "{:?}", common::text(&out));
    out
}

/// The segment file of target `central`'s spool, and its id.
pub(crate) fn segment(node: &common::Node) -> (PathBuf, u64) {
    let spool = node.path().join("run/spool/central");
    let seg: PathBuf = std::fs::read_dir(&spool)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "seg"))
        .expect("a spool segment");
    let id: u64 = seg.file_stem().unwrap().to_str().unwrap().parse().unwrap();
    (seg, id)
}

/// `auditrail send` of one `login` event of `user`.
pub(crate) fn send_one(node: &common::Node, user: &str) -> Output {
    node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--topic",
            "generic",
            "--msg-type",
            "login",
            "--user",
            user,
        ],
        "",
    )
}

/// Sends `n` events (`msgType` t, numbered `i`) while the server is down: `send` exits
/// 3 (spooled).
pub(crate) fn spool_many(node: &common::Node, n: usize) -> Output {
    let lines: String = (0..n)
        .map(|i| format!("{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"t\",\"i\":{i}}}}}\n"))
        .collect();
    let out = node.run(
        &["send", "--config", "node.toml", "--stdin", "--timeout", "1"],
        &lines,
    );
    assert_eq!(out.status.code(), Some(3), "{:?}", common::text(&out));
    out
}

/// `auditrail spool resend --config node.toml EXTRA... FILE` started in the node
/// folder, its stderr in `<node>/resend.log` ([`resend_log`]): a file, since the
/// dead-lettering at its end logs a line per event, which fills a pipe nobody reads
/// until the process ends.
pub(crate) fn start_resend(node: &common::Node, extra: &[&str], file: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["spool", "resend", "--config", "node.toml"])
        .args(extra)
        .arg(file)
        .current_dir(node.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(node.path().join("resend.log")).unwrap())
        .spawn()
        .unwrap()
}

/// What the `spool resend` of [`start_resend`] wrote to stderr so far.
pub(crate) fn resend_log(node: &common::Node) -> String {
    std::fs::read_to_string(node.path().join("resend.log")).unwrap_or_default()
}

/// Waits for `child` to end, within a bound that only guards against a hang (never a
/// measure): whether it ended (it is killed otherwise), and its output.
pub(crate) fn ended_within_a_guard(mut child: Child) -> (bool, Output) {
    let ended = auditrail_testkit::server::wait_until(Duration::from_secs(120), || {
        child.try_wait().unwrap().is_some()
    });
    if !ended {
        let _ = child.kill();
    }
    (ended, child.wait_with_output().unwrap())
}

/// The last lines of `log`, for an assertion's message (the dead-lettering of a run
/// logs thousands).
pub(crate) fn tail(log: &str) -> String {
    let mut last: Vec<&str> = log.lines().rev().take(6).collect();
    last.reverse();
    last.join("\n")
}

/// Events the sender of the `send` logging to `log` has read from its spool and tried
/// to send: the `events` of each batch's first try the server did not take
/// (`attempt=1`), summed.
pub(crate) fn first_tries(log: &Path) -> u64 {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter(|l| l.contains("event server unavailable"))
        .filter(|l| l.split_whitespace().any(|w| w == "attempt=1"))
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("events="))
                .and_then(|n| n.parse::<u64>().ok())
        })
        .sum()
}

/// Adds `lines` (TOML) to the eventserver target of [`spooling_node`]'s config.
pub(crate) fn add_to_target(node: &common::Node, lines: &str) {
    let path = node.path().join("node.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    config.push_str(lines);
    std::fs::write(&path, config).unwrap();
}

/// The summary line `send` printed, its stderr and its exit status, once `send`, whose
/// input is closed now, ended (within a guard against a hang).
pub(crate) fn finish(send: common::StreamingSend) -> (Option<i32>, serde_json::Value, String) {
    let common::StreamingSend { child, input, log } = send;
    drop(input);
    let (ended, out) = ended_within_a_guard(child);
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(ended, "send did not end: {stderr}");
    let summary = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {:?} {stderr}", common::text(&out)));
    (out.status.code(), summary, stderr)
}
