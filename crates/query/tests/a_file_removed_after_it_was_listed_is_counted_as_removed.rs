//! A query lists its files, then reads them, while retention may delete some in
//! between: a store's retention removes a partition's segment, a file target's
//! `max_files` its oldest file. The file is left out (its events are gone) and the
//! rest of the answer stands, but nothing but a log line per file said so, and the
//! event server's answers said nothing at all: a short answer read as a whole one.
//! The engine now counts such files (`ScanStats::files_removed`) and names them
//! (`Engine::files_removed`), for the CLI and the server to say so.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::fs;

use auditrail_query::Engine;
use serde_json::json;

use crate::common::{event, seqs_read_by, write_audit_file, Store};

#[test]
fn a_segment_removed_between_listing_and_reading_is_counted_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let mut store = Store::new(&root);
    for (seq, hour) in [(1, "10"), (2, "11"), (3, "12")] {
        store.put(&event(
            "n1",
            seq,
            &format!("2026-12-05T{hour}:00:00.000Z"),
            "generic",
            None,
            json!({"msgType": "login"}),
        ));
    }
    store.write();
    let removed = auditrail_testkit::store::segments(&root)
        .into_iter()
        .find(|p| p.to_string_lossy().contains("/05/11/"))
        .expect("the 11:00 segment");
    let engine = Engine::builder().store(&root).build().unwrap();
    let seqs = seqs_read_by(&engine, || fs::remove_file(&removed).unwrap());
    assert_eq!(seqs, vec![1, 3]);
    assert_eq!(engine.stats().files_removed, 1, "{:?}", engine.stats());
    assert_eq!(engine.files_removed(), vec![removed]);
}

#[test]
fn an_audit_file_removed_between_listing_and_reading_is_counted_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("audit");
    fs::create_dir(&dir).unwrap();
    write_audit_file(&dir.join("audit.2026-12-04.log"), 1..4);
    write_audit_file(&dir.join("audit.2026-12-05.log"), 4..7);
    let engine = Engine::builder().audit_dir(&dir).build().unwrap();
    let seqs = seqs_read_by(&engine, || {
        fs::remove_file(dir.join("audit.2026-12-04.log")).unwrap()
    });
    assert_eq!(seqs, vec![4, 5, 6]);
    assert_eq!(engine.stats().files_removed, 1);
    assert_eq!(
        engine.files_removed(),
        vec![dir.join("audit.2026-12-04.log")]
    );
}
