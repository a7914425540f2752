//! Segment files roll by size; each new segment is named by its first record's chain
//! number, and the chain runs on across segments.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use auditrail_store::chain::parse_line;
use auditrail_store::parse_segment_file_name;
use serde_json::json;
use store_support::*;

#[test]
fn segments_roll_at_the_size_limit_and_are_named_by_their_first_record() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let max = 4096u64;
    let t = open(&root, json!({"segment_max_bytes": max}));
    // Several batches and one large batch that must roll within itself.
    for b in 0..5 {
        t.send_blocking(&events(1 + b * 10, 10)).unwrap();
    }
    t.send_blocking(&events(51, 60)).unwrap();

    let segs = segments(&root);
    assert!(segs.len() >= 10, "only {} segments", segs.len());
    let mut total = 0;
    for seg in &segs {
        let data = std::fs::read(seg).unwrap();
        let first_line = data.split(|b| *b == b'\n').next().unwrap();
        let first_seq = parse_line(first_line).unwrap().link.seq;
        let name = seg.file_name().unwrap().to_str().unwrap();
        assert_eq!(parse_segment_file_name(name), Some(first_seq), "{name}");
        // A segment exceeds the limit by at most its last record.
        let longest = data.split(|b| *b == b'\n').map(<[u8]>::len).max().unwrap() as u64;
        assert!(
            data.len() as u64 <= max + longest,
            "{name}: {} bytes",
            data.len()
        );
        total += data.iter().filter(|b| **b == b'\n').count();
    }
    assert_eq!(total, 110);
    assert_eq!(verify_chain(&root).seq, 110);

    // After reopening, writing goes on in the newest segment (or a new one).
    drop(t);
    let t = open(&root, json!({"segment_max_bytes": max}));
    t.send_blocking(&events(200, 3)).unwrap();
    assert_eq!(verify_chain(&root).seq, 113);
}
