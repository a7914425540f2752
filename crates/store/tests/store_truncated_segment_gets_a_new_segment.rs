//! A partition's current segment truncated in place while the store is open (`: >
//! file`, logrotate's `copytruncate`, or a cut in the middle of a line), its file still
//! held open by the writer: late events for that partition go to a new segment in the
//! same folder, whole. Appended to the cut file, the first of them was glued to the
//! fragment the cut left (a damaged line: an acknowledged record that no reader finds),
//! and the file's length no longer matched what the writer tracked. The cut file is
//! left as the operator left it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use auditrail_store::chain::{parse_line, verify_link};
use serde_json::json;
use store_support::removed_folder::*;
use store_support::*;

#[test]
fn late_events_for_a_truncated_segment_land_whole_in_a_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    t.send_blocking(&on_day(23, 1, 10)).unwrap();
    t.send_blocking(&on_day(24, 11, 10)).unwrap();
    let folder = day_folder(&root, 23);
    let cut_file = segments(&root)
        .into_iter()
        .find(|p| p.starts_with(&folder))
        .unwrap();
    let bytes = std::fs::read(&cut_file).unwrap();
    // Cut in the middle of a line: the records before it stay whole.
    let cut = bytes.len() / 2;
    let whole = bytes[..cut].iter().filter(|&&b| b == b'\n').count() as u64;
    assert!(bytes[cut - 1] != b'\n' && whole > 0);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&cut_file)
        .unwrap()
        .set_len(cut as u64)
        .unwrap();

    t.send_blocking(&on_day(23, 21, 5)).unwrap();
    t.send_blocking(&on_day(23, 26, 5)).unwrap();

    assert_eq!(
        std::fs::read(&cut_file).unwrap(),
        &bytes[..cut],
        "nothing was appended to the truncated file"
    );
    let expected: Vec<u64> = (1..=whole).chain(21..=30).collect();
    assert_eq!(
        stored_under(&root, &folder),
        expected,
        "every late event is stored whole"
    );
    // The new segment holds the late records, each line a record linked to the one
    // before it.
    let new_file = segments(&root)
        .into_iter()
        .find(|p| p.starts_with(&folder) && *p != cut_file)
        .expect("a new segment in the partition's folder");
    let text = std::fs::read_to_string(&new_file).unwrap();
    let links: Vec<_> = text
        .lines()
        .map(|l| parse_line(l.as_bytes()).unwrap())
        .collect();
    assert_eq!(
        links.iter().map(|p| p.link.seq).collect::<Vec<_>>(),
        (21..=30).collect::<Vec<_>>()
    );
    for pair in links.windows(2) {
        assert!(
            verify_link(&pair[0].link, &pair[1]),
            "chain broken in the new file"
        );
    }
    assert_eq!(t.handle().head().seq, 30);
}
