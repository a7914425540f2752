//! While the store is open, an operator moves a partition folder (a day folder, or a
//! folder above it: the month) to another disk and leaves a symbolic link in its place.
//! The writer checked that a partition's current segment was still the file at its
//! path with `stat`, which follows the link and finds the same file: the next batch for
//! that partition was appended to the moved segment through the link and acknowledged,
//! records outside the store's folders (the next start then refuses the store for the
//! link). Now every level from the store's root down to the segment is read without
//! following links: that partition's events are refused for now, naming the link (the
//! rest of the batch is written), nothing is written where it points, and once the
//! folder is back the batch is stored in the store's own folder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crate::store_support;

use serde_json::json;
use store_support::removed_folder::*;
use store_support::*;

/// The bytes of every file under `dir`, by path.
fn contents(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(contents(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out.sort();
    out
}

/// Moves `folder` (day 23's folder or one above it) to another disk behind a link, and
/// checks a batch for day 23 is refused for now and written nowhere through the link.
fn moved_behind_a_link_is_refused(folder: impl Fn(&Path) -> std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    t.send_blocking(&on_day(23, 1, 3)).unwrap();
    let moved = folder(&root);
    let other_disk = dir.path().join("other-disk");
    std::fs::create_dir(&other_disk).unwrap();
    let elsewhere = other_disk.join("moved");
    std::fs::rename(&moved, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &moved).unwrap();
    let before = contents(&other_disk);

    let mut batch = on_day(23, 5, 2);
    // Another month's event in the same batch is written.
    batch.push(event("generic", None, "2026-12-10T10:00:00.000Z", 7));
    let r = t.send_blocking(&batch);
    assert_refused_for_now_for_a_link(r, &[0, 1]);
    assert_eq!(
        contents(&other_disk),
        before,
        "nothing is written through the link"
    );

    // The operator puts the folder back.
    std::fs::remove_file(&moved).unwrap();
    std::fs::rename(&elsewhere, &moved).unwrap();
    t.send_blocking(&on_day(23, 5, 2)).unwrap();
    assert_eq!(
        stored_under(&root, &day_folder(&root, 23)),
        vec![1, 2, 3, 5, 6]
    );
    assert_eq!(
        stored_under(&root, &root.join("generic/_none/2026/12/10")),
        vec![7]
    );
}

#[cfg(unix)]
#[test]
fn a_day_folder_moved_behind_a_link_is_refused_not_written_through() {
    moved_behind_a_link_is_refused(|root| day_folder(root, 23));
}

#[cfg(unix)]
#[test]
fn a_month_folder_moved_behind_a_link_is_refused_not_written_through() {
    moved_behind_a_link_is_refused(|root| day_folder(root, 23).parent().unwrap().to_path_buf());
}

/// The current segment itself moved to another disk behind a link: the store leaves it
/// and starts a new segment in the folder; nothing is appended through the link.
#[cfg(unix)]
#[test]
fn a_segment_moved_behind_a_link_gets_a_new_segment_not_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    t.send_blocking(&on_day(23, 1, 3)).unwrap();
    let segment = segments(&root).into_iter().next().unwrap();
    let other_disk = dir.path().join("other-disk");
    std::fs::create_dir(&other_disk).unwrap();
    let elsewhere = other_disk.join("moved.jsonl");
    std::fs::rename(&segment, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &segment).unwrap();
    let before = contents(&other_disk);

    t.send_blocking(&on_day(23, 4, 2)).unwrap();
    assert_eq!(
        contents(&other_disk),
        before,
        "nothing is written through the link"
    );
    std::fs::remove_file(&segment).unwrap();
    assert_eq!(stored_under(&root, &day_folder(&root, 23)), vec![4, 5]);
}
