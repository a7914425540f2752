//! `auditrail verify` on a folder that does not exist, or with `--config` whose store
//! destination's folder does not exist, fails naming the folder (it reported the
//! empty result as verified, exit 0).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use retention_support::run;

#[test]
fn a_missing_store_folder_is_an_error_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run(dir.path(), &["verify", "no-such-store"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("no-such-store: does not exist"), "{out}");

    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\npath = \"gone\"\n",
    )
    .unwrap();
    let (code, out) = run(dir.path(), &["verify", "--config", "server.toml"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("data/gone") && out.contains("does not exist"),
        "{out}"
    );
}
