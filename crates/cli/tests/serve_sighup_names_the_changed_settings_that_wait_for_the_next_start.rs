//! A reload applies keys, stats keys, the read policy, TLS files and the log level;
//! every other setting is read at start only. A SIGHUP after such a setting changed
//! names it (warning: `max_body_bytes, max_concurrent_batches changed since the start; applied at
//! the next start only`) instead of saying "other settings take effect at the next
//! start" whatever changed, so that an operator who edited a limit knows it is not in
//! force. Changes to reloaded settings are not listed, and a setting changed back to
//! its start value no longer is.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::*;

const REST: &str = "data_dir = \"data\"\nlog_level = \"info\"\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n";
const PENDING: &str = "applied at the next start only";

#[test]
fn sighup_names_each_changed_setting_that_only_a_start_applies() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    std::fs::write(&file, format!("max_body_bytes = 1048576\n{REST}")).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);

    std::fs::write(
        &file,
        format!("max_body_bytes = 2097152\nmax_concurrent_batches = 7\nrequire_auth_for_stats = false\n{REST}"),
    )
    .unwrap();
    hangup(&server);
    wait_for_log(&server, PENDING);
    let log = server.stderr();
    let line = log.lines().find(|l| l.contains(PENDING)).unwrap();
    assert!(
        line.contains("max_body_bytes, max_concurrent_batches changed since the start"),
        "{line}"
    );
    assert!(!line.contains("require_auth_for_stats"), "{line}");

    // Back to the start's values: nothing waits any more.
    std::fs::write(&file, format!("max_body_bytes = 1048576\n{REST}")).unwrap();
    hangup(&server);
    wait_for_log_count(&server, "reloaded (keys", 2);
    assert_eq!(
        server.stderr().matches(PENDING).count(),
        1,
        "{}",
        server.stderr()
    );
    assert_eq!(server.terminate(), 0);
}
