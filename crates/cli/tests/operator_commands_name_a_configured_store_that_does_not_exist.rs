//! An operator command given the server's `--config` whose `data_dir` is not the one
//! the server runs with (`serve --data-dir` overrides it) finds no store at the
//! configured path. It said "… is not a store (it has neither checkpoints.jsonl nor
//! store-id)", which names neither that the folder does not exist nor where the path
//! came from; now it says both, and what to give instead.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{post_day, run};
use serve_support::start;

#[test]
fn a_configured_store_that_does_not_exist_is_named_with_its_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    let server = start(
        dir.path(),
        &["--config", "server.toml", "--data-dir", "elsewhere"],
    );
    post_day(&server, "2026-11-30", 2, 1);
    assert_eq!(tamper_support::stop(server), 0);
    assert!(dir
        .path()
        .join("elsewhere/store/checkpoints.jsonl")
        .is_file());

    let (code, out) = run(dir.path(), &["keys", "rotate", "--config", "server.toml"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("does not exist"), "{out}");
    assert!(
        out.contains("data_dir") && out.contains("--data-dir"),
        "{out}"
    );
    // Nothing was changed where the store really is.
    let log =
        std::fs::read_to_string(dir.path().join("elsewhere/store/checkpoints.jsonl")).unwrap();
    assert!(!log.contains("nextKey"), "{log}");
}
