//! `verify --config` when a store destination's folder does not exist said only "store
//! … (a store destination of …) does not exist": not whether the server ever wrote it
//! (a destination added to the config, not started yet) or whether it was removed
//! (audit data gone), which `verify DATA_DIR` tells from the data dir's signed
//! high-water marks. Now a removed store is reported as `verify DATA_DIR` reports it
//! (gone, with what its mark vouched for; the other stores verified), and one no mark
//! names is an error naming the destination, its `path`, and what that means.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{post_day, run};
use serve_support::start;

const TWO_STORES: &str = "data_dir = \"data\"\n\
    [[destinations]]\ntype = \"store\"\nname = \"main\"\npath = \"store\"\n\
    [[destinations]]\ntype = \"store\"\nname = \"copy\"\npath = \"copy\"\n";

#[test]
fn a_removed_store_is_reported_gone_and_one_never_written_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), TWO_STORES).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2026-11-30", 3, 1);
    assert_eq!(tamper_support::stop(server), 0);

    // Removed whole: gone, as `verify DATA_DIR` says it; the other store is verified.
    std::fs::remove_dir_all(dir.path().join("data/copy")).unwrap();
    let (code, out) = run(dir.path(), &["verify", "--config", "server.toml"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[rolled-back] the store is gone")
            && out.contains("names store \"copy\"")
            && out.contains("vouched for records up to chainSeq 3")
            && out.contains("data/copy does not exist: its folder was removed"),
        "{out}"
    );
    assert!(out.contains("data/store (id"), "{out}");

    // Never written: a destination added to the config, the server not started since.
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\n\
         [[destinations]]\ntype = \"store\"\nname = \"main\"\npath = \"store\"\n\
         [[destinations]]\ntype = \"store\"\nname = \"eu\"\npath = \"eu/store\"\n",
    )
    .unwrap();
    let (code, out) = run(dir.path(), &["verify", "--config", "server.toml"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("store destination \"eu\" (path \"eu/store\" in server.toml)")
            && out.contains("data/eu/store does not exist, and no high-water mark names it")
            && out.contains("has not written this store yet"),
        "{out}"
    );
}
