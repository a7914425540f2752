//! A forged record that chains correctly onto the last record (anyone who can write
//! the folder can compute it), put before the server's own record of that chainSeq:
//! `verify` names the forged line as inserted, and the genuine record (the one the
//! records after it chain from, or the one a checkpoint line signs) and the records
//! after it as intact. Before, the first line of the chainSeq was taken as genuine:
//! the server's record was called "inserted or forged" and the untouched next record
//! "changed".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use crate::serve_support::{event_line, new_id, post_events, start, ServerProc};
use crate::tamper_support::verify;
use auditrail_store::chain::{parse_line, Chain};

fn post(server: &ServerProc, first: u64, salt: u64) {
    let body: String = (first..first + 5)
        .map(|n| event_line(&new_id(n, salt), "n1", n) + "\n")
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
}

/// The store's one segment file.
fn segment(store: &Path) -> PathBuf {
    let files = auditrail_testkit::store::record_files(store);
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

/// A record of a "FORGED" login chained onto the record on line `after` (1-based) of
/// `seg`, as a line.
fn forged_after(seg: &Path, after: usize) -> Vec<u8> {
    let text = std::fs::read(seg).unwrap();
    let line = text.split(|b| *b == b'\n').nth(after - 1).unwrap();
    let link = parse_line(line).unwrap().link;
    let body = r#"{"clientEvent":{"id":"ffffffff-0000-7000-8000-000000000001","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":99,"message":{"msgType":"login","authUser":"FORGED"}},"origAddress":"127.0.0.1","serverTimestamp":"2026-11-25T16:55:50.000Z","keyId":null"#;
    let mut out = Vec::new();
    Chain::resume(link).seal(body.as_bytes(), &mut out);
    out
}

/// Problems of the first store: (kind, file:line, message).
fn problems(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["stores"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["severity"] == "error")
        .map(|p| {
            (
                p["kind"].as_str().unwrap().to_string(),
                format!("{}:{}", p["file"].as_str().unwrap_or(""), p["line"]),
                p["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_forged_line_is_named_and_the_servers_own_records_are_intact() {
    // While the server runs: chainSeq 1..5, a forged 6 appended, then the server's
    // own 6..10 (sealed at 10), in a new segment.
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    post(&server, 1, 61);
    let store = dir.path().join("data/store");
    let seg = segment(&store);
    let forged = forged_after(&seg, 5);
    let mut f = std::fs::OpenOptions::new().append(true).open(&seg).unwrap();
    std::io::Write::write_all(&mut f, &forged).unwrap();
    drop(f);
    post(&server, 6, 61);
    assert_eq!(server.terminate(), 0);
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let rel = seg
        .strip_prefix(&store)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let (code, report) = verify(dir.path(), key.trim());
    assert_eq!(code, 1, "{report:#}");
    let found = problems(&report);
    assert_eq!(found.len(), 1, "{report:#}");
    let (kind, at, msg) = &found[0];
    assert_eq!(kind, "inserted-record");
    assert_eq!(at, &format!("{rel}:6"));
    // The server's own 6..10 went to a segment of their own: the store does not
    // append after bytes it did not write (a file longer than it wrote is a change).
    let own: Vec<String> = auditrail_testkit::store::record_files(&store)
        .into_iter()
        .filter(|f| *f != seg)
        .map(|f| {
            f.strip_prefix(&store)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(own.len(), 1, "{own:?}");
    let own = &own[0];
    assert!(
        msg.starts_with("chainSeq 6: an inserted or forged line")
            && msg.contains(&format!("the record at {own}:1"))
            && msg.contains(&format!("chainSeq 7 at {own}:2 chains from it")),
        "{msg}"
    );

    // Offline, before a record a checkpoint line signs (the seal of chainSeq 5): the
    // signature decides.
    let text = std::fs::read(&seg).unwrap();
    let mut lines: Vec<&[u8]> = text.split_inclusive(|b| *b == b'\n').collect();
    lines.remove(5); // the forged line of the first part
    let forged = forged_after(&seg, 4);
    lines.insert(4, &forged);
    std::fs::write(&seg, lines.concat()).unwrap();
    let (code, report) = verify(dir.path(), key.trim());
    assert_eq!(code, 1, "{report:#}");
    let found = problems(&report);
    assert_eq!(found.len(), 1, "{report:#}");
    let (kind, at, msg) = &found[0];
    assert_eq!(kind, "inserted-record");
    assert_eq!(at, &format!("{rel}:5"));
    assert!(
        msg.contains("checkpoints.jsonl:") && msg.contains(&format!("the record at {rel}:6")),
        "{msg}"
    );
}
