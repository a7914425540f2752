//! `sql --audit-dir` reads the events of a file target whatever its valid `file_name`
//! (`audit.jsonl`, `events`, `x.y.z`: "a plain name") and rotation (size, never, daily,
//! hourly). It used to look only for `*.log` names and answered 0 events, exit 0, no
//! warning, for any other name.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common;

#[test]
fn every_file_name_and_rotation_is_read() {
    for (file_name, rotation) in [
        ("audit.jsonl", "size"),
        ("events", "daily"),
        ("x.y.z", "hourly"),
        ("audit.jsonl", "never"),
        ("x.y.z", "size"),
        ("audit.log", "daily"),
    ] {
        let node = common::Node::with_file_target(&format!(
            "file_name = \"{file_name}\"\nrotation = \"{rotation}\""
        ));
        for i in 0..5 {
            let user = format!("alice{i}");
            let out = node.run(
                &[
                    "send",
                    "--config",
                    "node.toml",
                    "--topic",
                    "generic",
                    "--msg-type",
                    "login",
                    "--user",
                    &user,
                ],
                "",
            );
            assert_eq!(out.status.code(), Some(0), "{:?}", common::text(&out));
        }
        assert_eq!(node.audit_lines().len(), 5, "{file_name} {rotation}");

        let (n, out) = common::count_in_audit_dir(&node, "audit");
        let (stdout, stderr) = common::text(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{file_name} {rotation}: {stderr}"
        );
        assert_eq!(n, Some(5), "{file_name} {rotation}: {stdout}\n{stderr}");
        assert!(stderr.is_empty(), "{file_name} {rotation}: {stderr}");
    }
}
