//! `send --timeout 0` took no time at all to mean: the targets were shut down before
//! they took a single event, every line was refused ("the dispatcher is shut down"),
//! the summary still counted them as sent, and no line was named. The time limit is
//! now at least one second: 0 is refused where the arguments are read, saying why,
//! and nothing is sent (`spool resend` reads `--timeout` the same way).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

#[test]
fn a_zero_time_limit_is_refused_before_anything_is_sent() {
    let node = common::Node::with_file_target("");
    for timeout in ["0", "0s"] {
        let out = node.run(
            &[
                "send",
                "--config",
                "node.toml",
                "--stdin",
                "--topic",
                "generic",
                "--timeout",
                timeout,
            ],
            "{\"msgType\":\"a\"}\n{\"msgType\":\"b\"}\n",
        );
        let (stdout, stderr) = common::text(&out);
        assert_eq!(out.status.code(), Some(2), "{timeout}: {stdout}{stderr}");
        assert!(
            stderr.contains(&format!("'{timeout}'"))
                && stderr.contains("the time limit must be at least 1 second"),
            "{timeout}: {stderr}"
        );
        assert!(stdout.is_empty(), "{timeout}: {stdout}");
    }
    assert!(node.audit_lines().is_empty());
    assert!(!node.path().join("run/deadletter").exists());
}
