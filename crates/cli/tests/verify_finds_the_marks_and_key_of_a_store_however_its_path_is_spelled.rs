//! `auditrail verify` looks for the data dir's `high-water.jsonl` and `signing.pub` in
//! the store's folder and up to three folders above it, as the file system resolves
//! the path given: `.` inside the store, `..` from a partition folder, a symbolic link
//! to the store, a trailing slash and a relative path all find the marks and key that
//! `verify DATA/store` finds. The parents of the path as typed were searched: those
//! spellings found nothing and a store whose checkpoint log was cut back passed
//! ("verdict: OK") without a word about the mark. A store folder that is itself a
//! link in the data dir still finds the data dir's files. A verification that finds no
//! marks file says so in its notes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use crate::tamper_support;

use tamper_support::{fifty_records, log_lines};

/// `auditrail verify TARGET --json [ARGS]` run in `cwd`: exit code and report.
fn verify_in(cwd: &Path, target: &str, args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["verify", target, "--json"])
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "{target} in {}: not JSON: {}",
            cwd.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

fn kinds(report: &serde_json::Value) -> Vec<String> {
    report["stores"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_spelling_of_a_rolled_back_stores_path_reports_the_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    // The attacker cuts the checkpoint log back by its last line (records untouched).
    let lines = log_lines(&store);
    std::fs::write(
        store.join("checkpoints.jsonl"),
        lines[..lines.len() - 1]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let partition = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    std::os::unix::fs::symlink(&store, dir.path().join("storelink")).unwrap();
    let data = dir.path().join("data");
    let cases: [(&Path, &str); 7] = [
        (dir.path(), "data/store"),
        (&store, "."),
        (&partition, ".."),
        (&partition, "../../store"),
        (dir.path(), "storelink"),
        (dir.path(), "storelink/"),
        (&data, "store/"),
    ];
    for (cwd, target) in cases {
        let shown = format!("verify {target} in {}", cwd.display());
        let (code, report) = verify_in(cwd, target, &["--public-key", &key]);
        assert_eq!(code, 1, "{shown}: {report:#}");
        assert!(
            kinds(&report).contains(&"rolled-back".to_string()),
            "{shown}: {report:#}"
        );
        // Without --public-key the data dir's signing.pub is found too.
        let (code, report) = verify_in(cwd, target, &[]);
        assert_eq!(code, 1, "{shown}: {report:#}");
        assert!(
            report["keySource"]
                .as_str()
                .unwrap()
                .ends_with("data/signing.pub"),
            "{shown}: {report:#}"
        );
        assert_eq!(report["trustedKey"], key.as_str(), "{shown}: {report:#}");
        assert!(
            kinds(&report).contains(&"rolled-back".to_string()),
            "{shown}: {report:#}"
        );
    }

    // The store moved to another disk, a link left at its place in the data dir
    // (docs/operations.md): the folders above the link are the data dir's.
    let moved = dir.path().join("other-disk");
    std::fs::create_dir(&moved).unwrap();
    std::fs::rename(&store, moved.join("store")).unwrap();
    std::os::unix::fs::symlink(moved.join("store"), &store).unwrap();
    for target in ["data/store", "data/store/"] {
        let (code, report) = verify_in(dir.path(), target, &[]);
        assert_eq!(code, 1, "{target}: {report:#}");
        assert_eq!(report["trustedKey"], key.as_str(), "{target}: {report:#}");
        assert!(
            kinds(&report).contains(&"rolled-back".to_string()),
            "{target}: {report:#}"
        );
    }
}

#[test]
fn a_verify_that_finds_no_marks_file_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _store) = fifty_records(dir.path());
    let has_note = |report: &serde_json::Value| {
        report["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("no high-water marks file"))
    };
    let (code, report) = verify_in(dir.path(), "data/store", &["--public-key", &key]);
    assert_eq!(code, 0, "{report:#}");
    assert!(!has_note(&report), "the marks are there: {report:#}");

    std::fs::remove_file(dir.path().join("data/high-water.jsonl")).unwrap();
    let (code, report) = verify_in(dir.path(), "data/store", &["--public-key", &key]);
    assert_eq!(code, 0, "nothing in the store changed: {report:#}");
    assert!(has_note(&report), "{report:#}");
    let note = report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .find(|n| n.contains("no high-water marks file"))
        .unwrap();
    // It names where it looked: the data dir among them.
    let data = dir.path().join("data").canonicalize().unwrap();
    assert!(note.contains(&format!("{}, ", data.display())), "{note}");
}
