//! `auditrail store prune --data-dir` (no config) on a store written with another
//! layout than the default (here `partitioning = "day"`) finds the layout from the
//! store's folders and deletes what `--before` covers; it answered "nothing to
//! delete" with exit 0, since it decoded the folders as hourly ones.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{days, post_day, run, write_config};
use serve_support::start;

#[test]
fn a_day_partitioned_store_is_pruned_without_its_config() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let store = dir.path().join("data/store");
    let server = start(dir.path(), &["--config", "server.toml"]);
    for (i, day) in ["2025-01-01", "2025-01-02", "2025-01-03"]
        .iter()
        .enumerate()
    {
        post_day(&server, day, 10, i as u64 + 1);
    }
    assert_eq!(tamper_support::stop(server), 0);
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();

    let (code, out) = run(
        dir.path(),
        &[
            "store",
            "prune",
            "--data-dir",
            "data",
            "--before",
            "2025-01-03",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("deleted 4 partitions (20 records"), "{out}");
    assert_eq!(days(&store), ["2025/01/03"]);
    let (code, report) = tamper_support::verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["stores"][0]["deletedRecords"], 20, "{report:#}");
}
