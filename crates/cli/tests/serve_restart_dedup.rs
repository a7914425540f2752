//! De-duplication survives a restart: events stored before are counted as duplicates
//! after the server is stopped and started again on the same data folder.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::serve_support;

use serve_support::*;

#[test]
fn a_retry_after_restart_is_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let batch: String = (1..=100)
        .map(|i| event_line(&new_id(i, 7), "n1", i) + "\n")
        .collect();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let (status, body) = post_events(&server.addr, &batch, None).unwrap();
    assert_eq!((status, body["accepted"].as_u64()), (200, Some(100)));
    assert_eq!(server.terminate(), 0);

    let server = start(dir.path(), &["--data-dir", "data"]);
    let (status, body) = post_events(&server.addr, &batch, None).unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 0);
    assert_eq!(body["duplicates"], 100);
    let (_, stats) = request(&server.addr, "GET", "/v1/stats", &[], b"").unwrap();
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats["nodes"]["n1"]["highestContiguousSeq"], 100);
    assert_eq!(server.terminate(), 0);
    let ids = stored_ids(&dir.path().join("data/store"));
    assert_eq!(ids.len(), 100);
    assert!(ids.values().all(|&n| n == 1));
}
