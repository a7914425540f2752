//! While `auditrail send --stdin` runs (as root, say), someone who may write the audit
//! folder replaces `audit.log` by a symbolic link to a file elsewhere (`/etc/passwd`).
//! The later events must not be appended through the link: they are acknowledged only
//! once in a regular `audit.log` in the audit folder, where the readers look, the
//! linked file is left as it was, and the log says a link was found (not that the
//! file was deleted).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use auditrail_testkit::server::wait_until;

const OUTSIDE: &str = "root:x:0:0:root:/root:/bin/bash\n";

#[test]
fn send_never_writes_audit_lines_through_a_symbolic_link_put_at_audit_log() {
    let node = common::Node::with_file_target("");
    let outside = node.path().join("outside.txt");
    std::fs::write(&outside, OUTSIDE).unwrap();
    let active = node.path().join("audit").join("audit.log");
    let mut send = common::StreamingSend::start(&node, &[]);
    send.write_logins(2);
    assert!(
        wait_until(Duration::from_secs(30), || node.audit_lines().len() == 2),
        "the first events did not reach the file\n{}",
        std::fs::read_to_string(&send.log).unwrap_or_default()
    );

    std::fs::remove_file(&active).unwrap();
    std::os::unix::fs::symlink(&outside, &active).unwrap();
    send.write_logins(3);
    // The regular file at the path holds the three later events (seq 3 to 5), each
    // once. It may also hold the first two again: the test sees them in the file before
    // `send` has confirmed their write (fsync, then the file still at its path), and a
    // write whose file left its path meanwhile is written again into the file now at
    // the path (docs/targets/file.md; events carry unique ids).
    let regular_with_three = || {
        if !std::fs::symlink_metadata(&active).is_ok_and(|m| m.is_file()) {
            return false;
        }
        let Ok(text) = std::fs::read_to_string(&active) else {
            return false;
        };
        let mut seqs: Vec<u64> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["seq"].as_u64())
            .collect();
        seqs.sort_unstable();
        seqs == [3, 4, 5] || seqs == [1, 2, 3, 4, 5]
    };
    let written_through = || std::fs::read_to_string(&outside).unwrap() != OUTSIDE;
    assert!(
        wait_until(Duration::from_secs(30), || regular_with_three()
            || written_through()),
        "the later events reached neither file\n{}",
        std::fs::read_to_string(&send.log).unwrap_or_default()
    );

    let log = send.log.clone();
    let out = send.stop("-TERM");
    let (stdout, _) = common::text(&out);
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        OUTSIDE,
        "audit lines were written through the link\n{stderr}"
    );
    assert!(regular_with_three(), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["acknowledged"], 5, "{summary}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert!(
        !stderr.contains("was deleted by another program"),
        "{stderr}"
    );
}
