//! A sealed record moved, unchanged, from the end of one segment file to the start of
//! another partition's segment: `verify` names it where it is (`misplaced-record`, file
//! and line) and does not also call it missing, out of chain order, or its checkpoint
//! unmatched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::{new_id, post_events, start, ServerProc};
use crate::tamper_support::verify;

fn post(server: &ServerProc, salt: u64, topic: &str, time: &str) {
    let body: String = (1..=5u64)
        .map(|n| {
            serde_json::json!({
                "id": new_id(n, salt), "timestamp": time, "topic": topic, "node": "n1",
                "seq": salt * 1000 + n, "message": {"msgType": "login", "authUser": "alice"}
            })
            .to_string()
                + "\n"
        })
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
}

#[test]
fn a_moved_record_is_misplaced_not_missing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    post(&server, 1, "generic", "2026-12-04T10:00:00.000Z"); // chainSeq 1..5
    post(&server, 2, "authfail", "2026-12-05T10:00:00.000Z"); // 6..10
    post(&server, 3, "generic", "2026-12-05T11:00:00.000Z"); // 11..15
    assert_eq!(server.terminate(), 0);
    let store = dir.path().join("data/store");
    let in_folder = |folder: &str| {
        auditrail_testkit::store::record_files(&store)
            .into_iter()
            .find(|f| f.to_string_lossy().contains(folder))
            .unwrap()
    };
    let (a, c) = (
        in_folder("generic/_none/2026/12/04"),
        in_folder("generic/_none/2026/12/05"),
    );
    let text_a = std::fs::read_to_string(&a).unwrap();
    let mut lines_a: Vec<&str> = text_a.lines().collect();
    let moved = lines_a.pop().unwrap().to_string();
    assert!(moved.contains("\"chainSeq\":5,"), "{moved}");
    std::fs::write(&a, lines_a.join("\n") + "\n").unwrap();
    let text_c = std::fs::read_to_string(&c).unwrap();
    std::fs::write(&c, format!("{moved}\n{text_c}")).unwrap();
    let rel_c = c
        .strip_prefix(&store)
        .unwrap()
        .to_string_lossy()
        .into_owned();

    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let (code, report) = verify(dir.path(), key.trim());
    assert_eq!(code, 1, "{report:#}");
    let errors: Vec<(String, String, u64)> = report["stores"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["severity"] == "error")
        .map(|p| {
            (
                p["kind"].as_str().unwrap().to_string(),
                p["file"].as_str().unwrap_or("").to_string(),
                p["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [("misplaced-record".to_string(), rel_c, 1)],
        "{report:#}"
    );
}
