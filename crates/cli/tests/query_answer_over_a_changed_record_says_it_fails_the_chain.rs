//! A stored record whose message was changed by hand in the middle of a store (its
//! chain fields kept) is a readable event: the server's start does not see it (its
//! checks compare the last checkpoint with the last record), and a query answered it
//! as stored audit without a word. The scan now checks each record's hash against the
//! record just before it in its file: `/v1/query` says `recordsFailingChain`, and
//! `auditrail sql` warns, naming the file; nothing is said over an intact store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use crate::query_support;
use crate::serve_support::*;

#[test]
fn a_record_changed_by_hand_is_said_in_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let lines: Vec<String> = (1..=5)
        .map(|seq| event_line(&new_id(seq, 94), "n1", seq))
        .collect();
    assert_eq!(
        post_events(&server.addr, &lines.join("\n"), None)
            .unwrap()
            .0,
        200
    );
    let sql = "SELECT count(*) AS n FROM events WHERE \"authUser\" = 'alice'";
    let (status, whole) = query_support::query(&server.addr, sql);
    assert_eq!(status, 200, "{whole}");
    assert_eq!(whole["rows"][0]["n"], 5, "{whole}");
    assert!(whole.get("recordsFailingChain").is_none(), "{whole}");
    assert_eq!(server.terminate(), 0);

    // The third record's user changed (same length), its chain fields kept.
    let segment = query_support::files_under(&dir.path().join("data"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "jsonl") && p.iter().any(|c| c == "generic"))
        .expect("a segment file");
    let text = std::fs::read_to_string(&segment).unwrap();
    let mut records: Vec<String> = text.split('\n').map(str::to_owned).collect();
    assert!(records[2].contains("\"alice\""), "{}", records[2]);
    records[2] = records[2].replace("\"alice\"", "\"mallo\"");
    std::fs::write(&segment, records.join("\n")).unwrap();

    // The start's checks pass (the last record is untouched): the store is served.
    let server = start(dir.path(), &["--data-dir", "data"]);
    let (status, answer) = query_support::query(&server.addr, sql);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rows"][0]["n"], 4, "{answer}");
    assert_eq!(
        answer["recordsFailingChain"], 1,
        "an answer holding a changed record must say so: {answer}"
    );
    assert_eq!(server.terminate(), 0);

    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["sql", "--store", "data/store", sql])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("1 record(s) in the answer fail their store's hash chain")
            && stderr.contains(&segment.file_name().unwrap().to_string_lossy().into_owned()),
        "{stderr}"
    );
}
