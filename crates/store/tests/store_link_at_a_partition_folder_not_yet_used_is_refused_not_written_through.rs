//! A symbolic link put at a partition folder the open store has not used yet (a day
//! folder: the names are predictable), pointing to a folder outside the store: the
//! writer made the folders with `create_dir_all`, which follows links at any level, so
//! the next day's first segment was created in the folder the link points to and its
//! records acknowledged as stored, outside the store (refusing a link at the segment's
//! own name, `O_NOFOLLOW`, does not see a link above it). Now the folders are made and
//! checked one level at a time: that partition's events are refused naming the link
//! (the rest of the batch is written), nothing is written
//! where it points, and once the link is gone the batch is stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use serde_json::json;
use store_support::removed_folder::*;
use store_support::*;

#[cfg(unix)]
#[test]
fn the_batch_is_refused_and_nothing_is_written_where_the_link_points() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    t.send_blocking(&on_day(23, 1, 3)).unwrap();
    let day24 = day_folder(&root, 24);
    std::fs::create_dir_all(day24.parent().unwrap()).unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, &day24).unwrap();

    // Day 24's events are refused for now (the operator removes the link); day 23's
    // in the same batch are written.
    let mut batch = on_day(24, 4, 2);
    batch.extend(on_day(23, 6, 1));
    let r = t.send_blocking(&batch);
    assert_refused_for_now_for_a_link(r, &[0, 1]);
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        0,
        "nothing was written through the link"
    );

    std::fs::remove_file(&day24).unwrap();
    // (Read once the link is gone: the store's walker refuses links inside it.)
    assert_eq!(
        stored_under(&root, &day_folder(&root, 23)),
        vec![1, 2, 3, 6]
    );
    t.send_blocking(&on_day(24, 4, 2)).unwrap();
    assert_eq!(stored_under(&root, &day24), vec![4, 5]);
    assert!(std::fs::symlink_metadata(&day24).unwrap().is_dir());
}
