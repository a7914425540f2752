//! Records cut from the end of a segment file while the server runs (the server then
//! goes on in a new segment of the same folder): `verify` names the file they were cut
//! from and the line after which they were, not a removed partition folder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::{event_line, new_id, post_events, start, ServerProc};
use crate::tamper_support::verify;

fn post(server: &ServerProc, first: u64) {
    let body: String = (first..first + 5)
        .map(|n| event_line(&new_id(n, 93), "n1", n) + "\n")
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
}

#[test]
fn records_cut_from_a_segments_end_are_named_at_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    post(&server, 1);
    post(&server, 6);
    let store = dir.path().join("data/store");
    let files = auditrail_testkit::store::record_files(&store);
    assert_eq!(files.len(), 1, "{files:?}");
    let seg = &files[0];
    // Keep lines 1..8: chainSeq 9 and 10 cut off.
    let text = std::fs::read(seg).unwrap();
    let keep: usize = text
        .split_inclusive(|b| *b == b'\n')
        .take(8)
        .map(<[u8]>::len)
        .sum();
    std::fs::OpenOptions::new()
        .write(true)
        .open(seg)
        .unwrap()
        .set_len(keep as u64)
        .unwrap();
    post(&server, 11);
    assert_eq!(server.terminate(), 0);
    assert_eq!(auditrail_testkit::store::record_files(&store).len(), 2);
    let rel = seg
        .strip_prefix(&store)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let (code, report) = verify(dir.path(), key.trim());
    assert_eq!(code, 1, "{report:#}");
    let missing: Vec<&serde_json::Value> = report["stores"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "missing-records")
        .collect();
    assert_eq!(missing.len(), 1, "{report:#}");
    let msg = missing[0]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("chainSeq 9..10 (2 records) are missing: deleted from")
            && msg.contains(&format!("{rel} after its last line, 8")),
        "{msg}"
    );
    assert_eq!(missing[0]["file"], rel.as_str(), "{report:#}");
    assert_eq!(missing[0]["line"], 9, "{report:#}");
    assert!(!msg.contains("removed partition folder"), "{msg}");
}
