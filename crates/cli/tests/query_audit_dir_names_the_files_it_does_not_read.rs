//! Files in an audit folder that are not audit files (notes, a compressed copy, a
//! hidden file, an empty file nothing names) are not read, and `query` and `sql`
//! say so on stderr, naming each and counting them, once however many queries a
//! report runs; the audit files' events are all in the answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common;

#[test]
fn files_that_are_not_audit_files_are_named_on_stderr() {
    let node = common::Node::with_file_target("");
    common::send_logins(&node, "alice");
    let audit = node.path().join("audit");
    std::fs::write(audit.join("notes.txt"), "who did what, by hand\n").unwrap();
    std::fs::write(audit.join("audit.log.2.gz"), [0x1f, 0x8b, 8, 0]).unwrap();
    std::fs::write(audit.join(".DS_Store"), "x").unwrap();
    std::fs::write(audit.join("empty"), "").unwrap();

    let (n, out) = common::count_in_audit_dir(&node, "audit");
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(n, Some(10), "{stdout}\n{stderr}");
    assert!(stderr.contains("4 file(s)"), "{stderr}");
    for name in ["notes.txt", "audit.log.2.gz", ".DS_Store", "empty"] {
        assert_eq!(
            stderr.matches(&format!("audit/{name} (")).count(),
            1,
            "{name}: {stderr}"
        );
    }
    assert!(!stderr.contains("audit/audit.log ("), "{stderr}");

    // A report runs several queries: each file is still named once.
    let out = node.run(&["query", "last-activity", "--audit-dir", "audit"], "");
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("alice9"), "{stdout}");
    assert_eq!(stderr.matches("notes.txt").count(), 1, "{stderr}");
    assert!(stderr.contains("4 file(s)"), "{stderr}");
}
