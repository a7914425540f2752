//! `auditrail store prune --archive file://...` on a full disk: a prune with an archive
//! records each deletion before it removes anything (the signed line naming the
//! archived objects, the high-water mark rewritten whole, `.deleted-seqs.jsonl`), as
//! one without does, and wrote it without the prune reserve: it failed with
//! `No space left on device` and deleted nothing, on the disk it was run to free. It
//! now releases the reserve (`.prune-reserve`, made by the server's start), archives,
//! records and deletes, says so, and makes the reserve again; `verify` then passes.
//! The archive is a folder on another file system (the usual place for one).
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::Tmpfs;
use crate::retention_support::{prune_a_full_disk, run, FullDiskPrune};
use crate::serve_support::segment_files;

#[test]
fn the_prune_archives_releases_its_reserve_deletes_and_verify_passes() {
    let Some(fs) = Tmpfs::mount("8m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let dir = fs.path();
    let archive = tempfile::tempdir().unwrap();
    let url = format!("file://{}", archive.path().display());
    let FullDiskPrune {
        before,
        store,
        reserve,
        code,
        out,
    } = prune_a_full_disk(dir, || fs.fill(), 54, &["--archive", &url]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("released the prune reserve"), "{out}");
    assert!(out.contains(&format!("in {url}")), "{out}");
    let after = segment_files(&store);
    assert!(after < before, "{before} -> {after} segment files: {out}");
    // What went is in the archive, with the log that names it.
    assert_eq!(
        segment_files(archive.path()),
        before - after,
        "the archive holds other than what was deleted: {out}"
    );
    assert!(archive.path().join("checkpoints.jsonl").is_file(), "{out}");
    // The pass freed more than the reserve: it is made again.
    assert!(reserve.is_file(), "the reserve was not made again: {out}");
    let (code, out) = run(dir, &["verify", "data", "--public-key", "data/signing.pub"]);
    assert_eq!(code, 0, "{out}");
}
