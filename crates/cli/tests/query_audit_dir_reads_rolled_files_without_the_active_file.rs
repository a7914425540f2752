//! A size-rolled audit folder whose active file is gone (an operator removed the empty
//! `audit.log` after a roll, or copied only the rolled files for an investigation):
//! `sql --audit-dir` still reads every event of `audit.log.1` … `audit.log.N`. It used
//! to find the rolled files only through the active file's name, and answered 0
//! events, exit 0, nothing on stderr.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common;

#[test]
fn rolled_files_are_read_when_the_active_file_is_removed() {
    // 300-byte messages and 20 kB files: each send of 100 events rolls the file.
    let node = common::Node::with_file_target("max_bytes = 20000\nmax_files = 10");
    let pad = "x".repeat(300);
    let lines: String = (0..100)
        .map(|i| {
            format!(
                "{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"user{i}\",\"pad\":\"{pad}\"}}}}\n"
            )
        })
        .collect();
    for _ in 0..3 {
        let out = node.run(&["send", "--config", "node.toml", "--stdin"], &lines);
        assert_eq!(out.status.code(), Some(0), "{:?}", common::text(&out));
    }

    let audit = node.path().join("audit");
    assert!(
        audit.join("audit.log.2").is_file(),
        "the target did not roll"
    );
    let (before, out) = common::count_in_audit_dir(&node, "audit");
    assert_eq!(before, Some(300), "{:?}", common::text(&out));
    // The active file (empty right after a roll; whatever it holds goes with it).
    std::fs::remove_file(audit.join("audit.log")).unwrap();
    let kept: usize = std::fs::read_dir(&audit)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x != "lock"))
        .map(|p| std::fs::read_to_string(p).unwrap().lines().count())
        .sum();

    let (after, out) = common::count_in_audit_dir(&node, "audit");
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(after, Some(kept as u64), "{stdout}\n{stderr}");
    assert!(kept > 0, "no rolled file holds events");
    assert!(stderr.is_empty(), "{stderr}");
}
