//! `<data_dir>/auditrail.lock` removed while `auditrail serve` runs (a cleanup job's
//! "stale lock file", an operator's `rm`): the server's `flock` then held an unlinked
//! file, and a second server with another store in the same data dir created a new
//! lock file, locked it and started. Both then signed with one key and rewrote one
//! `high-water.jsonl`: the first server found the file "changed by someone else" and
//! left it, so its store's mark stopped advancing. And an operator command (`keys
//! rotate`) went as far as writing its next key under the running server. The data dir
//! folder is now locked too, and a removed lock file frees nothing: the second server
//! and the command are refused, saying the data dir is in use.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{post_day, run};
use serve_support::{exit_of_refused_start, start};

#[test]
fn a_second_server_and_an_operator_command_are_refused_after_the_lock_file_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    retention_support::write_config(dir.path(), "");
    let data = dir.path().join("data");
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2026-11-30", 5, 1);
    std::fs::remove_file(data.join("auditrail.lock")).unwrap();

    // Another store in the same data dir: the store's own lock does not stop it.
    std::fs::write(
        dir.path().join("other.toml"),
        "data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\npath = \"other\"\n",
    )
    .unwrap();
    let mut second = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"));
    second.args(["serve", "--listen", "127.0.0.1:0", "--config", "other.toml"]);
    let (code, out, err) = exit_of_refused_start(
        &mut second,
        dir.path(),
        "a second server started on the data dir a running server holds",
    );
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("is in use by"), "{err}");
    assert!(
        err.contains("was removed or replaced while it ran"),
        "{err}"
    );
    assert!(!data.join("other").exists(), "{err}");

    let (code, out) = run(dir.path(), &["keys", "rotate", "--data-dir", "data"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("is in use by"), "{out}");
    assert!(!data.join("signing.key.next").exists(), "{out}");

    assert_eq!(tamper_support::stop(server), 0);
    // Stopped, the data dir is free again (a new lock file is made).
    let server = start(dir.path(), &["--config", "other.toml"]);
    assert_eq!(tamper_support::stop(server), 0);
}
