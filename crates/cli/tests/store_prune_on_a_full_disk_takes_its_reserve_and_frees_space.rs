//! `auditrail store prune` on a full disk, the usual remedy for a full audit disk: a
//! prune records each deletion before it removes anything (the signed line, the
//! high-water mark rewritten whole, `.deleted-seqs.jsonl`), which needs new blocks, so
//! it failed with `high-water.jsonl: No space left on device` and deleted nothing. The
//! server's start made a prune reserve (`.prune-reserve` in the store's folder, real
//! blocks); the prune releases it, records and deletes, says so, and makes the reserve
//! again; `verify` then passes. Run again with the reserve gone and the disk full, the
//! prune says the file system is full and what to do.
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::Tmpfs;
use crate::retention_support::{prune_a_full_disk, run, FullDiskPrune};
use crate::serve_support::segment_files;

#[test]
fn the_prune_releases_its_reserve_deletes_and_verify_passes() {
    let Some(fs) = Tmpfs::mount("8m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let dir = fs.path();
    let FullDiskPrune {
        before,
        store,
        reserve,
        code,
        out,
    } = prune_a_full_disk(dir, || fs.fill(), 53, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("released the prune reserve"), "{out}");
    let after = segment_files(&store);
    assert!(after < before, "{before} -> {after} segment files: {out}");
    // The pass freed more than the reserve: it is made again.
    assert!(reserve.is_file(), "the reserve was not made again: {out}");
    let (code, out) = run(dir, &["verify", "data", "--public-key", "data/signing.pub"]);
    assert_eq!(code, 0, "{out}");

    // Full again, and no reserve: said as a full disk, with what to do.
    std::fs::remove_file(&reserve).unwrap();
    fs.fill();
    let (code, out) = run(
        dir,
        &["store", "prune", "--data-dir", "data", "--max-bytes", "1"],
    );
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("the file system is full"), "{out}");
    assert!(out.contains("there was no prune reserve"), "{out}");
    assert!(
        out.contains("free space elsewhere on that file system"),
        "{out}"
    );
}
