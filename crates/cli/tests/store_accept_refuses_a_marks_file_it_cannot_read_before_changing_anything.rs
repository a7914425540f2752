//! `auditrail store accept` on a data dir whose `high-water.jsonl` it cannot read
//! (mode 000, as a restore by another user leaves it) refuses before it changes
//! anything, naming the file and the OS error. It used to sign and append its
//! acceptance line to the store's checkpoint log first (its findings even quoting the
//! unreadable marks), then fail writing the mark: the command reported a failure, but
//! the store's evidence held a signed acceptance that no mark names.
//!
//! Runs the command as a user the file's mode stops (`tamper_support`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use std::os::unix::fs::PermissionsExt;

use tamper_support::{fifty_records, give_to_unprivileged, run_unprivileged};

#[test]
fn an_unreadable_marks_file_is_named_and_nothing_is_signed() {
    let dir = tempfile::tempdir().unwrap();
    let (_key, store) = fifty_records(dir.path());
    give_to_unprivileged(dir.path());
    let marks = dir.path().join("data/high-water.jsonl");
    let log = std::fs::read(store.join("checkpoints.jsonl")).unwrap();
    std::fs::set_permissions(&marks, std::fs::Permissions::from_mode(0o000)).unwrap();

    let (code, out) = run_unprivileged(
        dir.path(),
        // As the server's refusal words it (naming the store: without `--store`, the
        // stores are found through the marks file, and its read fails first).
        &[
            "store",
            "accept",
            "--data-dir",
            "data",
            "--store",
            "data/store",
            "--reason",
            "test",
        ],
    );
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("high-water.jsonl: Permission denied"),
        "names the file and the OS error: {out}"
    );
    assert_eq!(
        std::fs::read(store.join("checkpoints.jsonl")).unwrap(),
        log,
        "no acceptance line was signed into the checkpoint log"
    );
    assert!(!dir.path().join("data/acceptances.jsonl").exists());
}
