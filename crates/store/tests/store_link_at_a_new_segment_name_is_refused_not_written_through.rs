//! A symbolic link put at the name of a segment the open store has not written yet
//! (segment names are predictable): the batch was appended through the link to the
//! file it points to, outside the store, and acknowledged as stored. The walk at the
//! next start refuses such a link, but the records were elsewhere. The writer now
//! refuses the link too (`O_NOFOLLOW`): that partition's events are refused for now,
//! naming it, the file it points
//! to is untouched, and once the link is gone the batch is stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use serde_json::json;
use store_support::removed_folder::*;
use store_support::*;

#[cfg(unix)]
#[test]
fn the_batch_is_refused_and_the_links_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    t.send_blocking(&on_day(23, 1, 3)).unwrap();
    // A segment is named by the chain number of its first record: day 24's first one,
    // which starts with record 4, is `...04.jsonl`, below day 24's folder as day 23's
    // is below day 23's.
    let first = auditrail_testkit::store::stored_in(&root)
        .into_iter()
        .map(|(path, _)| path)
        .find(|p| p.starts_with(day_folder(&root, 23)))
        .unwrap();
    assert_eq!(first.file_name().unwrap(), "00000000000000000001.jsonl");
    let rel = first.strip_prefix(day_folder(&root, 23)).unwrap();
    let link = day_folder(&root, 24)
        .join(rel)
        .with_file_name("00000000000000000004.jsonl");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    let outside = dir.path().join("outside");
    std::fs::write(&outside, "not the store's\n").unwrap();
    std::os::unix::fs::symlink(&outside, &link).unwrap();

    // Day 24's events are refused for now: the operator removes the link.
    let r = t.send_blocking(&on_day(24, 4, 2));
    assert_refused_for_now_for_a_link(r, &[0, 1]);
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "not the store's\n"
    );

    std::fs::remove_file(&link).unwrap();
    t.send_blocking(&on_day(24, 4, 2)).unwrap();
    assert_eq!(stored_under(&root, &day_folder(&root, 24)), vec![4, 5]);
    assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
}
