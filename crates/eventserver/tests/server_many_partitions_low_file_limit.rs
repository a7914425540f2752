//! One request spreading 1,200 events over 1,200 partitions (routing keys, and hours)
//! to a server whose open-file limit is 256 (`ulimit -n 256`) is stored and answered
//! 200, and so is the next request: the store keeps a bounded number of segment files
//! open, never one per partition, and never wedges on `EMFILE`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::ingest_support;

use ingest_support::*;

const CONFIG: &str =
    "ack_timeout_ms = 20000\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n";

#[test]
fn a_batch_over_1200_partitions_under_a_low_file_limit_is_stored() {
    let mut server = Server::start_with(Some(CONFIG), Some(256));
    let lines: Vec<String> = (1..=1200u64)
        .map(|i| {
            // Every event its own routing key; every tenth one another hour too.
            let line = event_text("node-p", i, Some(&format!("svc-{i}")), r#"{"msgType":"x"}"#);
            if i % 10 == 0 {
                line.replace(
                    "2026-11-25T16:",
                    &format!("2026-11-{:02}T{:02}:", 1 + i % 28, i % 24),
                )
            } else {
                line
            }
        })
        .collect();
    let (status, answer) = server.post(lines.join("\n"));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 1200, "{answer}");
    // A second spread batch, then a plain event: the store is not wedged.
    let more: Vec<String> = (1201..=2400u64)
        .map(|i| {
            event_text(
                "node-p",
                i,
                Some(&format!("svc-{}", i - 1200)),
                r#"{"msgType":"x"}"#,
            )
        })
        .collect();
    let (status, answer) = server.post(more.join("\n"));
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = server.post(event_text("node-q", 1, None, r#"{"msgType":"x"}"#));
    assert_eq!(status, 200, "{answer}");

    assert_eq!(stored_events(&server.store()).len(), 2401);
    assert!(!server.process.log().contains("Too many open files"));
    assert_eq!(server.stop(), Some(0));
    let (code, report) = verify(&server.data());
    assert_eq!(code, Some(0), "{report}");
}
