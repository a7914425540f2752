//! `auditrail prove --event-id` of a record whose bytes were changed after it was
//! sealed (its chain fields kept) is refused, naming the record and pointing to
//! `auditrail verify`, and writes no bundle. Before, prove checked its bundle only
//! against the signed tree head, which is built from the chain fields, not from the
//! record's bytes: it exited 0 and wrote a bundle that `verify --proof` then refused
//! ("the record does not match its chain hash").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::proof_support;
use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use proof_support::prove;
use retention_support::{post_day, run, write_config};
use serve_support::{new_id, start};

#[test]
fn a_changed_record_is_refused_and_no_bundle_is_written() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2025-01-01", 13, 1);
    assert_eq!(tamper_support::stop(server), 0);
    let store = dir.path().join("data/store");
    let event = new_id(5, 1);
    prove(dir.path(), &["--event-id", &event], "before.json");

    // One letter of the record's message changed, its chain fields left as they were.
    let segment = auditrail_testkit::store::record_files(&store)
        .into_iter()
        .find(|f| std::fs::read_to_string(f).unwrap().contains(&event))
        .unwrap();
    let text = std::fs::read_to_string(&segment).unwrap();
    let changed = text.replace("\"authUser\":\"user5\"", "\"authUser\":\"user6\"");
    assert_ne!(text, changed);
    std::fs::write(&segment, changed).unwrap();
    let file = segment.strip_prefix(&store).unwrap().display().to_string();

    for how in [
        vec!["--config", "server.toml"],
        vec!["--store", "data/store"],
        vec!["--data-dir", "data"],
    ] {
        let out_file = dir.path().join("after.json");
        let mut args = vec!["prove", "--event-id", &event, "--out", "after.json"];
        args.extend_from_slice(&how);
        let (code, out) = run(dir.path(), &args);
        assert_eq!(code, 1, "{how:?}: {out}");
        assert!(
            out.contains("does not match its chain hash")
                && out.contains("run `auditrail verify")
                && out.contains(&file),
            "{how:?}: names the record, why and what to run: {out}"
        );
        assert!(!out_file.exists(), "{how:?}: no bundle is written: {out}");
    }
}
