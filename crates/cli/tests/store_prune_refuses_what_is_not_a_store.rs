//! `auditrail store prune` given a data dir that does not exist, or a `--store` that
//! is not a store, fails naming the path (it answered "nothing to delete" and exit 0,
//! and opening the missing folder as a store created an empty one).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use retention_support::run;

#[test]
fn a_missing_data_dir_or_a_folder_that_is_no_store_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run(
        dir.path(),
        &[
            "store",
            "prune",
            "--data-dir",
            "no-such-dir",
            "--before",
            "30d",
        ],
    );
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("data dir no-such-dir does not exist"), "{out}");
    assert!(!dir.path().join("no-such-dir").exists());

    std::fs::create_dir_all(dir.path().join("data/not-a-store/generic")).unwrap();
    for (store, says) in [
        ("data/not-a-store", "data/not-a-store is not a store"),
        ("data/missing", "store data/missing does not exist"),
    ] {
        let (code, out) = run(
            dir.path(),
            &[
                "store",
                "prune",
                "--data-dir",
                "data",
                "--store",
                store,
                "--before",
                "30d",
            ],
        );
        assert_ne!(code, 0, "{store}: {out}");
        assert!(out.contains(says), "{out}");
    }
    assert!(!dir.path().join("data/missing").exists());

    let (code, out) = run(
        dir.path(),
        &["store", "prune", "--data-dir", "data", "--before", "30d"],
    );
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("no store under data"), "{out}");
}
