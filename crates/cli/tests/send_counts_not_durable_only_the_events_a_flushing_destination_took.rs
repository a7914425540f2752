//! An event server with a durable store for topic `generic` and a store with a flush
//! policy for topic `authfail` answered a batch of both `durable: false`, and
//! `auditrail send` counted EVERY event of it in `notDurable`, the ones the durable
//! store had fsynced too. The server's answer now counts the events that are not on
//! its stable storage (`notDurable`, signed in the `auditrail-answer-v4` text), and the
//! node counts exactly those: a mix of 4 `generic` and 3 `authfail` events is 7
//! acknowledged, 3 not durable, exit status 5. Through a spooling target without
//! `server_keys` (the count at face value, as the rest of its answers) and through a
//! direct one (`spool = false`) that pins the server's key (the count taken only as
//! signed). A real server, real stores, real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_testkit::server::ServerProcess;

const GENERIC: usize = 4;
const AUTHFAIL: usize = 3;

/// Sends 4 `generic` and 3 `authfail` events, interleaved, through a node whose target
/// has `extra` (`{key}` replaced by the server's public key) to a server whose
/// `generic` store fsyncs and whose `authfail` store runs a flush policy; returns the
/// exit status, the summary and stderr.
fn send_mix(extra: &str) -> (Option<i32>, serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n\
             [[destinations]]\ntype = \"store\"\nname = \"synced\"\npath = \"synced\"\n\
             topics = [\"generic\"]\n\n\
             [[destinations]]\ntype = \"store\"\nname = \"lazy\"\npath = \"lazy\"\n\
             topics = [\"authfail\"]\n\
             flush = {{ every_bytes = 1048576, every_seconds = 3600 }}\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let server = ServerProcess::start(&data, Some(&config));
    let (code, key, err) = common::keys(&data, &["export"]);
    assert_eq!(code, 0, "{err}");
    let extra = extra.replace("{key}", key.trim());
    let node = common::Node::with_eventserver_target("node-mix", &server.url, &extra);
    let mut lines = String::new();
    for k in 0..GENERIC.max(AUTHFAIL) {
        for (topic, n) in [("generic", GENERIC), ("authfail", AUTHFAIL)] {
            if k < n {
                lines.push_str(&format!(
                    "{{\"topic\":\"{topic}\",\"message\":{{\"msgType\":\"login\",\"k\":{k}}}}}\n"
                ));
            }
        }
    }
    let out = node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--stdin",
            "--timeout",
            "20",
        ],
        &lines,
    );
    let (stdout, stderr) = common::text(&out);
    let summary: serde_json::Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    let stored = |store: &str| auditrail_testkit::store::stored_events(&data.join(store)).len();
    assert_eq!(
        (stored("synced"), stored("lazy")),
        (GENERIC, AUTHFAIL),
        "{stdout}\n{stderr}"
    );
    drop(server);
    (out.status.code(), summary, stderr)
}

fn assert_counts_the_flushing_stores_events(
    (status, summary, stderr): (Option<i32>, serde_json::Value, String),
) {
    assert_eq!(status, Some(5), "{summary}\n{stderr}");
    assert_eq!(summary["sent"], GENERIC + AUTHFAIL, "{summary}");
    assert_eq!(summary["acknowledged"], GENERIC + AUTHFAIL, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");
    assert_eq!(summary["notDurable"], AUTHFAIL, "{summary}\n{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("target central (eventserver)"))
        .unwrap_or_else(|| panic!("no target line: {stderr}"));
    assert!(
        line.contains(&format!("{AUTHFAIL} NOT DURABLE at the event server")),
        "{line}"
    );
}

#[test]
fn through_a_spooling_target_only_the_flushing_stores_events_are_not_durable() {
    assert_counts_the_flushing_stores_events(send_mix(""));
}

#[test]
fn through_a_direct_target_pinning_the_servers_key_only_the_signed_count_is_taken() {
    assert_counts_the_flushing_stores_events(send_mix("spool = false\nserver_keys = [\"{key}\"]"));
}
