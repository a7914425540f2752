//! A day removed by hand whose records were written between those of the days around
//! it (one event of each day in turn): every record of it is a missing range of its
//! own between two records of the others. `auditrail verify` printed one long line per
//! range, 96 here, each naming up to ten files. Now the first three ranges are said in
//! full and the others together on one line (how many, how many records, a few of them
//! and the folders around them); the JSON report still details every range.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use crate::serve_support::{new_id, post_events, start};

const SALT: u64 = 6702;

/// Four rounds over the 24 hours, each hour an event of day 23, 24 and 25 in turn.
fn interleaved_days() -> String {
    let mut lines = Vec::new();
    let mut seq = 0;
    for minute in 0..4 {
        for h in 0..24 {
            for day in 23..=25 {
                seq += 1;
                lines.push(
                    serde_json::json!({
                        "id": new_id(seq, SALT),
                        "timestamp": format!("2026-11-{day}T{h:02}:{minute:02}:00.000Z"),
                        "topic": "generic", "node": "n1", "seq": seq,
                        "message": {"msgType": "login", "authUser": "alice"}
                    })
                    .to_string(),
                );
            }
        }
    }
    lines.join("\n")
}

fn verify(dir: &std::path::Path, json: bool) -> (Option<i32>, String) {
    let mut args = vec!["verify", "data"];
    if json {
        args.push("--json");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(&args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_ranges_of_a_removed_interleaved_day_take_a_few_lines_and_the_json_has_each() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let (status, answer) = post_events(&server.addr, &interleaved_days(), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
    std::fs::remove_dir_all(dir.path().join("data/store/generic/_none/2026/11/24")).unwrap();

    // The JSON report: a range per removed record, each with its place.
    let (code, json) = verify(dir.path(), true);
    assert_eq!(code, Some(1), "{json}");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let problems = report["stores"][0]["problems"].as_array().unwrap();
    let missing: Vec<u64> = problems
        .iter()
        .filter(|p| p["kind"] == "missing-records")
        .map(|p| {
            assert_eq!(p["firstSeq"], p["lastSeq"], "{p:#}");
            p["firstSeq"].as_u64().unwrap()
        })
        .collect();
    // Day 24 is the second event of each turn: chainSeq 2, 5, 8, ...
    let expected: Vec<u64> = (0..96).map(|i| 2 + 3 * i).collect();
    assert_eq!(missing, expected, "{report:#}");

    let (code, text) = verify(dir.path(), false);
    assert_eq!(code, Some(1), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() <= 10, "{} lines:\n{text}", lines.len());
    let said: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("[missing-records]"))
        .collect();
    assert_eq!(said.len(), 4, "{text}");
    assert!(
        said[3].contains("and 93 more missing ranges (93 records in all, between chainSeq 11 and 287): chainSeq 11, 14, 17 and 90 more"),
        "{}",
        said[3]
    );
    assert_eq!(
        text.lines().last(),
        Some("verdict: FAILED (96 problems)"),
        "{text}"
    );
}
