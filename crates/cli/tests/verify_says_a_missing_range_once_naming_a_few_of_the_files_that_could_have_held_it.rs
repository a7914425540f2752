//! A day removed by hand from a store whose partitions are hours: the records of 24
//! hourly folders are missing as one chain range, which any of the day before's many
//! segments could have held too. `auditrail verify` listed ten of those files on the
//! range's line and ended `verdict: FAILED (1 problems)`. Now the range is said once,
//! with three files named and the others counted (the JSON report's `candidates`
//! still lists every one), and the verdict says `1 problem`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use crate::serve_support::{new_id, post_events, start};

const SALT: u64 = 6701;

/// Days 23, 24 and 25, in that order: 4 events in each hour, the hours of a day
/// shuffled (so that each hour's segment ends at another point of the chain).
fn three_days() -> String {
    let mut lines = Vec::new();
    let mut seq = 0;
    for day in 23..=25 {
        for h in 0..24u32 {
            for minute in 0..4 {
                seq += 1;
                lines.push(
                    serde_json::json!({
                        "id": new_id(seq, SALT),
                        "timestamp": format!("2026-11-{day}T{:02}:{minute:02}:00.000Z", (h * 7) % 24),
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
fn a_removed_day_is_one_range_said_once_with_a_few_files_and_one_problem() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let (status, answer) = post_events(&server.addr, &three_days(), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
    std::fs::remove_dir_all(dir.path().join("data/store/generic/_none/2026/11/24")).unwrap();

    let (code, text) = verify(dir.path(), false);
    assert_eq!(code, Some(1), "{text}");
    let range = "chainSeq 97..192 (96 records) are missing";
    assert_eq!(text.matches(range).count(), 1, "{text}");
    let said = text.lines().find(|l| l.contains(range)).unwrap();
    // The file of the record after the range, where the line is placed, and three of
    // the files that could have held it; the others counted.
    let named = said.matches(".jsonl").count();
    assert!(named <= 5, "{named} files named: {said}");
    assert!(
        said.contains(" more (the JSON report's `candidates` lists each)"),
        "{said}"
    );
    assert_eq!(
        text.lines().last(),
        Some("verdict: FAILED (1 problem)"),
        "{text}"
    );

    // The JSON report keeps every file that could have held the range.
    let (code, json) = verify(dir.path(), true);
    assert_eq!(code, Some(1), "{json}");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let problems = report["stores"][0]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{report:#}");
    let candidates = problems[0]["candidates"].as_array().unwrap();
    assert!(candidates.len() > 10, "{report:#}");
    let counted = format!("one of {} files:", candidates.len());
    assert!(said.contains(&counted), "{counted:?} in {said}");
}
