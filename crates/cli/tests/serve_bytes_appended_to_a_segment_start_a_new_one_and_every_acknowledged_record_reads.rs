//! Someone appends a few bytes without a newline to the store's current segment while
//! the server runs (`printf checked >> seg.jsonl`, an editor saving without a final
//! newline). The server used to append its next batch right after them, on the same
//! line, and answer it `200` with a receipt: the batch's first record was then read by
//! no query and called changed by `verify`. Now a segment longer than the server wrote
//! is not appended to: the batch goes into a new segment (a `WARN` names the file, the
//! length written and the length found), every acknowledged record reads, `verify`
//! names the foreign bytes (a torn tail of the first segment) and nothing else, and the
//! next start cuts them aside (into `<segment>.jsonl.cut`) and goes on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;

use crate::serve_support::{event_line, new_id, post_events, start, wait_for_log, ServerProc};
use crate::tamper_support::{error_kinds, verify};

const SALT: u64 = 631;

fn post(server: &ServerProc, first: u64) {
    let body: String = (first..first + 5)
        .map(|n| event_line(&new_id(n, SALT), "n-glued", n) + "\n")
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 5, "{answer}");
}

/// How many of events 1..=`last` read back from the store as events.
fn readable(store: &std::path::Path, last: u64) -> usize {
    let ids: Vec<String> = (1..=last).map(|n| new_id(n, SALT)).collect();
    auditrail_testkit::store::stored_in(store)
        .iter()
        .filter(|(_, e)| ids.contains(&e.id.to_string()))
        .count()
}

#[test]
fn bytes_appended_to_a_segment_leave_every_acknowledged_record_readable() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    post(&server, 1);
    let store = dir.path().join("data/store");
    let files = auditrail_testkit::store::record_files(&store);
    assert_eq!(files.len(), 1, "{files:?}");
    let seg = files[0].clone();
    let written = std::fs::metadata(&seg).unwrap().len();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&seg)
        .unwrap()
        .write_all(b"checked")
        .unwrap();

    post(&server, 6);
    assert_eq!(
        readable(&store, 10),
        10,
        "an acknowledged record reads as no event"
    );
    wait_for_log(&server, "a new segment is started there");
    let stderr = server.stderr();
    assert!(
        stderr.contains(&seg.display().to_string())
            && stderr.contains(&format!(
                "bytes this process did not write were appended to it: it holds {} bytes, \
                 {written} were written to it",
                written + 7
            )),
        "names the file and the lengths: {stderr}"
    );
    assert_eq!(server.terminate(), 0);
    assert_eq!(auditrail_testkit::store::record_files(&store).len(), 2);

    // `verify` names the foreign bytes, at the end of the first segment, and no
    // acknowledged record.
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let (code, report) = verify(dir.path(), key.trim());
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(error_kinds(&report), ["torn-tail"], "{report:#}");
    let rel = seg
        .strip_prefix(&store)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let torn = &report["stores"][0]["problems"][0];
    assert_eq!(torn["file"], rel.as_str(), "{report:#}");

    // The next start cuts them aside and goes on.
    let server = start(dir.path(), &["--data-dir", "data"]);
    post(&server, 11);
    assert_eq!(server.terminate(), 0);
    let mut cut = seg.clone().into_os_string();
    cut.push(".cut");
    assert_eq!(std::fs::read(&cut).unwrap(), b"checked");
    assert_eq!(std::fs::metadata(&seg).unwrap().len(), written);
    assert_eq!(readable(&store, 15), 15);
    let (code, report) = verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");
}
