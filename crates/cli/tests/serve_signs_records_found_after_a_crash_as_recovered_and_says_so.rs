//! A server killed (`kill -9`) between a batch's fsync and its seal leaves records
//! after the checkpoint log's last line: never acknowledged, but legitimately there.
//! The next start goes on (one crash must not stop collection) and signs them, and
//! says what it vouches for: its line carries `recovered` (the chainSeq range), its
//! log warns naming the store and the range, and `verify` passes with a
//! `recovered-at-start` warning, so an auditor sees which records only the restart
//! vouched for. The state is built directly (the window is too small to hit): a
//! correctly chained record appended to the store of a killed server (also one killed
//! right after a start that followed a clean stop, before any seal of its own).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use auditrail_testkit::store::append_chained;
use tamper_support::*;

#[test]
fn records_after_the_last_seal_of_a_killed_server_are_signed_as_recovered_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let server = tamper_support::server_with_twenty(dir.path(), 88);
    server.kill9();
    let store = dir.path().join("data/store");
    let log = store.join("checkpoints.jsonl");
    let before = std::fs::read_to_string(&log).unwrap();
    assert!(
        !before.contains("cleanStop"),
        "a killed server records no clean stop: {before}"
    );

    // What the crash left: record 21 fsynced, its seal never written.
    let (_, seq) = append_chained(&store, |body| {
        body.replace("\"seq\":20", "\"seq\":21")
            .replacen("-000000000014\"", "-000000000015\"", 1)
    });
    assert_eq!(seq, 21);

    let server = try_start(dir.path()).unwrap_or_else(|(c, e)| panic!("exit {c}: {e}"));
    let logged = strip_ansi(&server.stderr());
    assert_eq!(stop(server), 0);
    let warning = logged
        .lines()
        .find(|l| l.contains("WARN") && l.contains("chainSeq 21..21"))
        .unwrap_or_else(|| panic!("no warning naming the recovered records: {logged}"));
    assert!(
        warning.contains(&store.display().to_string()) && warning.contains("recovered"),
        "{warning}"
    );
    let after = std::fs::read_to_string(&log).unwrap();
    let start_line = after
        .lines()
        .find(|l| l.contains("\"recovered\""))
        .unwrap_or_else(|| panic!("no line says what the start recovered: {after}"));
    assert!(
        start_line.contains("\"chainSeq\":21,")
            && start_line.contains("\"recovered\":{\"fromSeq\":21,\"toSeq\":21}"),
        "{start_line}"
    );

    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let (code, report) = verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");
    let recovered: Vec<&serde_json::Value> = report["stores"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "recovered-at-start")
        .collect();
    assert_eq!(recovered.len(), 1, "{report:#}");
    assert_eq!(recovered[0]["severity"], "warning", "{report:#}");
    assert_eq!(
        (
            recovered[0]["firstSeq"].as_u64(),
            recovered[0]["lastSeq"].as_u64()
        ),
        (Some(21), Some(21)),
        "{report:#}"
    );
}

#[test]
fn a_record_left_by_a_crash_right_after_a_start_that_followed_a_clean_stop_is_signed_as_recovered()
{
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    // Started after the clean stop, killed before it sealed anything of its own.
    let server = try_start(dir.path()).unwrap_or_else(|(c, e)| panic!("exit {c}: {e}"));
    server.kill9();
    let (_, seq) = append_chained(&store, |body| {
        body.replace("\"seq\":50", "\"seq\":51")
            .replacen("-000000000032\"", "-000000000033\"", 1)
    });
    assert_eq!(seq, 51);

    let server = try_start(dir.path())
        .unwrap_or_else(|(c, e)| panic!("one crash must not stop collection: exit {c}: {e}"));
    assert_eq!(stop(server), 0);
    let text = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();
    assert!(
        text.contains("\"recovered\":{\"fromSeq\":51,\"toSeq\":51}"),
        "{text}"
    );
    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 0, "{report:#}");
    let kinds: Vec<&str> = report["stores"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["recovered-at-start"], "{report:#}");
}
