//! `--json` is `--format json`: given with another `--format`, one of the two was
//! silently ignored (`--json --format csv` printed JSON to a script that asked for
//! CSV). Both together are refused before anything is read, for `sql`, `query events`
//! and the reports alike; each alone is taken.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

#[test]
fn json_with_another_format_is_refused_for_every_command_with_rows() {
    let node = common::Node::with_file_target("");
    common::send_logins(&node, "alice");
    for command in [
        &["sql", "SELECT 1"][..],
        &["query", "events"][..],
        &["query", "last-activity"][..],
    ] {
        for format in ["csv", "table", "ndjson", "json"] {
            let mut args: Vec<&str> = command.to_vec();
            args.extend(["--audit-dir", "audit", "--json", "--format", format]);
            let out = node.run(&args, "");
            let (stdout, stderr) = common::text(&out);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stdout}{stderr}");
            assert!(
                stderr.contains("--json") && stderr.contains("--format"),
                "{args:?}: {stderr}"
            );
        }
    }
}
