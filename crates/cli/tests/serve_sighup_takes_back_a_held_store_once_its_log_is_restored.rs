//! A store held at start (its checkpoint log cut) is taken back on SIGHUP once the
//! operator restored its log from a copy: without a restart, the store answers `200`
//! again, `/readyz` no longer names it, and it is taken back as a start takes a store:
//! its events stored before the hold are duplicates of their resend, and the per-node
//! statistics count them. Before, a held store stayed held until the server was
//! started again (every store, every connection).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::{new_id, post_events, request, start, wait_for_log};
use crate::tamper_support::{log_lines, stop, try_start};

/// Two stores, `a` and `b`, each taking one routing key.
const CONFIG: &str = crate::tamper_support::TWO_KEYED_STORES;

/// Events `seqs` of `key` from a node of its own (`n-<key>`).
fn events(key: &str, seqs: std::ops::RangeInclusive<u64>, salt: u64) -> String {
    seqs.map(|n| {
        serde_json::json!({
            "id": new_id(n, salt), "timestamp": "2026-11-25T16:55:49.123Z",
            "topic": "generic", "routingKey": key, "node": format!("n-{key}"),
            "seq": n, "message": {"msgType": "login", "authUser": "alice"}
        })
        .to_string()
            + "\n"
    })
    .collect()
}

fn get(addr: &str, path: &str) -> serde_json::Value {
    let (_, body) = request(addr, "GET", path, &[], b"").unwrap();
    serde_json::from_str(&body).unwrap()
}

#[test]
fn a_held_store_whose_log_is_restored_is_taken_back_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = start(
        dir.path(),
        &["--config", "server.toml", "--data-dir", "data"],
    );
    for (key, salt) in [("svc-a", 611), ("svc-b", 612)] {
        let (status, answer) = post_events(&server.addr, &events(key, 1..=10, salt), None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(server.terminate(), 0);
    // Store b's checkpoint log cut to its first line, a copy kept: held at the start.
    let log = dir.path().join("data/b/checkpoints.jsonl");
    let saved = std::fs::read(&log).unwrap();
    let lines = log_lines(&dir.path().join("data/b"));
    std::fs::write(&log, format!("{}\n", lines[0])).unwrap();

    let server = try_start(dir.path()).unwrap_or_else(|(code, log)| panic!("exit {code}: {log}"));
    let (status, answer) = post_events(&server.addr, &events("svc-b", 11..=11, 612), None).unwrap();
    assert_eq!(
        (status, &answer["error"]),
        (503, &"store_held".into()),
        "{answer}"
    );
    let ready = get(&server.addr, "/readyz");
    assert_eq!(ready["held"][0]["destination"], "b", "{ready}");

    // The operator restores the log, then sends SIGHUP.
    std::fs::write(&log, &saved).unwrap();
    server.hangup();
    wait_for_log(&server, "server.toml reloaded");
    let ready = get(&server.addr, "/readyz");
    assert!(ready.get("held").is_none(), "still listed as held: {ready}");
    // Its events stored before the hold are known: their resend is all duplicates.
    let (status, answer) = post_events(&server.addr, &events("svc-b", 1..=10, 612), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (&answer["accepted"], &answer["duplicates"]),
        (&0.into(), &10.into()),
        "{answer}"
    );
    let (status, answer) = post_events(&server.addr, &events("svc-b", 11..=11, 612), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 1, "{answer}");
    // The statistics count them with the new one.
    let stats = get(&server.addr, "/v1/stats");
    let node = &stats["nodes"]["n-svc-b"];
    assert_eq!(node["count"], 11, "{stats:#}");
    assert_eq!(node["highestContiguousSeq"], 11, "{stats:#}");
    assert_eq!(stats["nodes"]["n-svc-a"]["count"], 10, "{stats:#}");
    let log_text = server.stderr();
    assert!(log_text.contains("store taken back"), "{log_text}");
    assert_eq!(stop(server), 0);

    // The store's log goes on from the restored one: the data dir verifies.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["verify", "data"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
