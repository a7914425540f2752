//! After an archiving prune, someone with write access to the bucket replaces the
//! archive's `store-id` object with another store's id (or removes it). Every later
//! prune of the store is refused ("the prefix belongs to store ..."), and `verify
//! --archive` alone reports the archive as another store's (`store-id-mismatch`); but
//! the check of the store against its archive (`verify DATA --archive URL`, and
//! `verify --config`) said `verdict: OK`. It fails too, with a `store-id-mismatch`
//! error naming the archive's `store-id` object, what it holds, and the store's id.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::s3_support;

use std::path::Path;

use retention_support::prune;

/// `auditrail verify ARGS` with the S3 credentials in the environment.
fn verify(dir: &Path, args: &[&str]) -> (i32, String) {
    s3_support::run(dir, &[&["verify"][..], args].concat())
}

#[test]
fn the_store_checked_against_an_archive_claimed_by_another_id_fails() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = s3_support::start(dir.path());
    retention_support::store_of_two_days(
        dir.path(),
        &s3_support::archive_table(&s3, "eu-1/store", s3_support::SECRET_KEY),
    );
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let key = key.trim();
    let (code, out) = prune(dir.path(), "2025-01-02", &[]);
    assert_eq!(code, 0, "{out}");
    let ours = std::fs::read_to_string(dir.path().join("data/store/store-id")).unwrap();
    let ours = ours.trim();
    let endpoint = s3.endpoint.clone();
    let with_store = [
        "data",
        "--public-key",
        key,
        "--archive",
        "s3://audit/eu-1/store",
        "--archive-endpoint",
        &endpoint,
        "--archive-allow-http",
    ];
    let (code, out) = verify(dir.path(), &with_store);
    assert_eq!(code, 0, "{out}");

    let object = s3.object_file("eu-1/store/store-id");
    let other = "01a245e5-0000-7000-8000-000000000000";
    let says = format!(
        "archive s3://audit/eu-1/store: its eu-1/store/store-id object names store {other}, not this store {ours}"
    );
    std::fs::write(&object, format!("{other}\n")).unwrap();
    for args in [
        &with_store[..],
        &["--config", "server.toml", "--public-key", key],
    ] {
        let (code, out) = verify(dir.path(), args);
        assert_eq!(code, 1, "{args:?}: {out}");
        assert!(
            out.lines()
                .any(|l| l.contains("[store-id-mismatch]") && l.contains(&says)),
            "{args:?}: {out}"
        );
    }

    // Removed: the same, saying so.
    std::fs::remove_file(&object).unwrap();
    let (code, out) = verify(dir.path(), &with_store);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.lines().any(|l| l.contains("[store-id-mismatch]")
            && l.contains("its eu-1/store/store-id object is missing, not this store")),
        "{out}"
    );
}
