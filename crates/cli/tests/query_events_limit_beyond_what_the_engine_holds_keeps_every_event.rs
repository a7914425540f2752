//! `auditrail query events --limit N` with N above what the query engine keeps as a
//! limit (a signed 64-bit number: 9223372036854775808 up to the largest `usize`) cuts
//! nothing: every matching event is shown, as without `--limit`. Before, the limit
//! wrapped to a negative number in the engine and the command failed with "LIMIT must
//! be >= 0, '-9223372036854775808' was provided", quoting a value nobody gave.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;

#[test]
fn a_limit_past_the_engines_is_every_event() {
    let node = common::Node::with_file_target("");
    common::send_logins(&node, "alice");
    let all = node.run(
        &["query", "events", "--dir", "audit", "--format", "csv"],
        "",
    );
    let (every, stderr) = common::text(&all);
    assert!(all.status.success(), "{stderr}");
    assert!(every.lines().count() > 1, "no event to show: {every}");
    for limit in [
        "9223372036854775808",
        &u64::MAX.to_string(),
        "9223372036854775807",
    ] {
        let out = node.run(
            &[
                "query", "events", "--dir", "audit", "--format", "csv", "--limit", limit,
            ],
            "",
        );
        let (stdout, stderr) = common::text(&out);
        assert!(out.status.success(), "--limit {limit}: {stderr}");
        assert_eq!(stdout, every, "--limit {limit}");
    }
}
