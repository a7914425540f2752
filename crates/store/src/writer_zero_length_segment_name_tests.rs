//! A partition's current segment that holds none of the store's records (zero bytes
//! written to it) and that someone appended bytes to, found by the check before the
//! next append: the next segment of the partition takes the same name (named after the
//! same first record, the chain did not move), so the foreign bytes go to its `.cut`
//! sidecar and the file is made again at its name (`free_a_foreign_segment_name`),
//! instead of that name being refused (`SegmentNameTaken`) for this batch and every
//! later one of the partition.
//!
//! No flow of the writer leaves such a segment current today (a segment made for a
//! batch whose write met foreign bytes is freed by the batch's undo, and the undo puts
//! the partition's segment back as it was before the batch; recovery removes empty
//! segments): the state is set up here as that undo's would be without the freeing, so
//! that the check before an append keeps doing its part should a flow reach it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::PathBuf;

use auditrail_testkit::store::{events, stored_in};

use super::Segment;
use crate::layout::segment_file_name;

#[test]
fn a_current_segment_holding_only_foreign_bytes_gives_its_name_back() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap().join("store");
    let config: crate::StoreConfig =
        serde_json::from_value(serde_json::json!({"path": "store"})).unwrap();
    let t = crate::StoreTarget::open(&root, &config, "store").unwrap();
    t.send_blocking(&events(1, 10)).unwrap();
    let first: PathBuf = stored_in(&root).first().unwrap().0.clone();
    let folder = first.parent().unwrap().to_path_buf();
    let rel = folder.strip_prefix(&root).unwrap().to_path_buf();

    // The partition's current segment: made by the store for record 11, none of its
    // records in it; then someone appends a byte.
    let next = folder.join(segment_file_name(11));
    {
        let handle = t.handle();
        let mut settled = handle.cell.settled_writer();
        let writer = settled.writer.as_mut().unwrap();
        std::fs::File::create_new(&next).unwrap();
        writer
            .segments
            .insert(rel.clone(), Segment::existing(next.clone(), 0));
    }
    std::fs::OpenOptions::new()
        .append(true)
        .open(&next)
        .unwrap()
        .write_all(b"x")
        .unwrap();

    t.send_blocking(&events(11, 10))
        .expect("the partition's next segment is made at the name its foreign bytes held");
    t.send_blocking(&events(21, 10)).unwrap();

    let stored = stored_in(&root);
    let mut seqs: Vec<u64> = stored.iter().map(|(_, e)| e.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=30).collect::<Vec<_>>());
    assert_eq!(t.handle().stats().refused_events, 0);
    // The foreign byte is kept beside the name, the segment there holds records 11..
    let mut cut = next.clone().into_os_string();
    cut.push(".cut");
    assert_eq!(std::fs::read(PathBuf::from(cut)).unwrap(), b"x");
    assert!(stored.iter().any(|(path, e)| *path == next && e.seq == 11));
}
