//! A file put at the name of a segment the open store has not started yet (segment
//! names are predictable: the chain number of their first record): the writer opened
//! it as its own and appended after its bytes, the first record glued to their last
//! line (a record no reader takes), and acknowledged the batch. A new segment is now
//! made, never found (`O_EXCL`): that partition's events are refused for now, naming
//! the file, whose bytes are left as they were; the other partitions' events are
//! written, and once the file is moved away the refused ones are stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use serde_json::json;
use store_support::removed_folder::*;
use store_support::*;

#[test]
fn the_partitions_events_are_refused_for_now_and_the_file_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    t.send_blocking(&on_day(23, 1, 3)).unwrap();
    let first = auditrail_testkit::store::stored_in(&root)
        .into_iter()
        .map(|(path, _)| path)
        .find(|p| p.starts_with(day_folder(&root, 23)))
        .unwrap();
    // Day 24's first record is record 4: its segment is `...04.jsonl`.
    let rel = first.strip_prefix(day_folder(&root, 23)).unwrap();
    let taken = day_folder(&root, 24)
        .join(rel)
        .with_file_name("00000000000000000004.jsonl");
    std::fs::create_dir_all(taken.parent().unwrap()).unwrap();
    std::fs::write(&taken, "not the store's").unwrap();

    let mut batch = on_day(24, 4, 2);
    batch.extend(on_day(23, 6, 1));
    let Err(auditrail_core::TargetError::PartlyTaken {
        retry_later,
        rejected,
    }) = t.send_blocking(&batch)
    else {
        panic!("day 24's events must be refused for now, day 23's taken");
    };
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(
        retry_later.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        vec![0, 1]
    );
    for (_, why) in &retry_later {
        assert!(why.contains(&taken.display().to_string()), "{why}");
        assert!(why.contains("a file of 15 bytes is already there"), "{why}");
        assert!(why.contains("move it out of the store"), "{why}");
    }
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "not the store's");
    assert_eq!(
        stored_under(&root, &day_folder(&root, 23)),
        vec![1, 2, 3, 6]
    );

    std::fs::rename(&taken, dir.path().join("moved-away")).unwrap();
    t.send_blocking(&on_day(24, 4, 2)).unwrap();
    assert_eq!(stored_under(&root, &day_folder(&root, 24)), vec![4, 5]);
}
