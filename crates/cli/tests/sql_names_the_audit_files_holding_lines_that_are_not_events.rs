//! `auditrail sql --audit-dir` with lines that are not events in an audit file names
//! the file and how many lines it skipped there. It said "`auditrail verify` names
//! them", but verify reads stores only: on an audit folder it named nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use retention_support::run;

#[test]
fn the_audit_file_with_skipped_lines_is_named_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit");
    std::fs::create_dir(&audit).unwrap();
    let event = r#"{"severity":"INFO","logger":"audit.generic","id":"00000000-0000-7000-8000-000000000001","timestamp":"2026-12-01T10:00:00.000Z","topic":"generic","node":"n1","seq":1,"message":{"msgType":"login"}}"#;
    std::fs::write(
        audit.join("audit.log"),
        format!("{event}\nnot an event\n{{\"json\":\"but no event\"}}\n"),
    )
    .unwrap();
    std::fs::write(audit.join(".audit.log.lock"), "").unwrap();
    let (code, out) = run(
        dir.path(),
        &[
            "sql",
            "SELECT count(*) AS n FROM events",
            "--audit-dir",
            "audit",
            "--format",
            "csv",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("n\n1\n"), "{out}");
    assert!(!out.contains("auditrail verify"), "{out}");
    assert!(out.contains("in 1 audit file(s)"), "{out}");
    assert!(out.contains("audit.log (2 line(s))"), "{out}");
}
