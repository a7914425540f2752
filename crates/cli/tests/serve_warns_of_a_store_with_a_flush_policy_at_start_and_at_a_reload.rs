//! A store destination with a flush policy (`flush = { every_bytes, every_seconds }`)
//! answers before its fsync, as a `file` destination with `fsync = false` does: its
//! batches are answered `durable: false`. The other destinations that are not durable
//! were named in a WARN at start; a store with a flush policy was not, so an operator
//! learnt it only from the answers' `note`. Now every destination that is not durable
//! is named at start, with why (the policy's values), and again at each reload
//! (SIGHUP), once per destination; a durable store is named at neither.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::{start, wait_for_log};

const WARNING: &str = "destination is not durable";

#[test]
fn a_store_with_a_flush_policy_is_named_at_start_and_at_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\nshutdown_timeout_s = 1\n\
         [[destinations]]\nname = \"lazy\"\ntype = \"store\"\npath = \"lazy\"\nrouting_keys = [\"a\"]\n\
         flush = { every_bytes = 65536, every_seconds = 2 }\n\
         [[destinations]]\nname = \"synced\"\ntype = \"store\"\npath = \"synced\"\nrouting_keys = [\"b\"]\n",
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let log = server.stderr();
    let at_start: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARN") && l.contains(WARNING))
        .collect();
    assert_eq!(at_start.len(), 1, "one WARN, for `lazy` alone: {log}");
    let warning = at_start[0];
    assert!(
        warning.contains("destination=lazy")
            && warning.contains(r#"type="store""#)
            && warning.contains("every_bytes = 65536")
            && warning.contains("2 s after a write")
            && warning.contains("an acknowledgement does not mean on disk"),
        "{warning}"
    );

    server.hangup();
    wait_for_log(&server, "reload: destination is not durable");
    wait_for_log(&server, "reloaded");
    let log = server.stderr();
    let at_reload: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARN") && l.contains(&format!("reload: {WARNING}")))
        .collect();
    assert_eq!(at_reload.len(), 1, "one WARN at the reload: {log}");
    assert!(
        at_reload[0].contains("destination=lazy") && at_reload[0].contains("every_bytes = 65536"),
        "{}",
        at_reload[0]
    );
    server.terminate();
}
