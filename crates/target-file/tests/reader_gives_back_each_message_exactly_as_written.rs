//! The file target writes a message exactly as it was sent, and every reader of its
//! files (`read_audit_dir`, `read_audit_file`, `read::parse_line`) gives that text back
//! byte for byte: integers beyond 64 bits, `-0`, `1E2`, a number beyond `f64`
//! (`1e400`), escapes and key order are what the application sent, and a line holding
//! such a number is read like any other, never a reason to refuse the file.

use crate::common;

use std::time::Duration;

use auditrail_core::{topics, EventDraft, Message};
use serde_json::json;

const SENT: [&str; 5] = [
    r#"{"msgType":"payment","txId":123456789012345678901234567890}"#,
    r#"{"msgType":"x","z":1,"a":2,"m":1E2,"n":-0,"d":0.10000000000000000000000001}"#,
    r#"{"msgType":"x","f":1e400,"n":1}"#,
    r#"{"msgType":"x","s":"\u00e9\/\ud83d\ude00","k\u0041":[-1.5E-400,18446744073709551616]}"#,
    r#"{"msgType":"last","i":-99999999999999999999999}"#,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reader_gives_back_the_message_text_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = common::dispatcher("node-exact", json!({ "dir": dir.path() }));
    for raw in SENT {
        let message = Message::from_json(raw).unwrap();
        d.emit_acked(EventDraft::from_message(topics::GENERIC, message))
            .await
            .unwrap();
    }
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());

    let file = dir.path().join("audit.log");
    let lines = std::fs::read_to_string(&file).unwrap();
    for raw in SENT {
        assert!(lines.contains(raw), "the file holds {raw} as sent");
    }

    let by_dir = auditrail_target_file::read_audit_dir(dir.path(), "audit.log").unwrap();
    let by_file = auditrail_target_file::read_audit_file(&file).unwrap();
    for read in [&by_dir, &by_file] {
        let back: Vec<String> = read
            .events
            .iter()
            .map(|e| e.message.json().into_owned())
            .collect();
        assert_eq!(back, SENT, "the readers give back the messages as sent");
        assert!(read.torn.is_empty());
    }
    for (line, raw) in lines.lines().zip(SENT) {
        let event = auditrail_target_file::read::parse_line(line.as_bytes()).unwrap();
        assert_eq!(event.message.json(), raw);
        // The event read back writes the line's event text again, byte for byte.
        assert!(line.ends_with(&event.to_json()[1..]), "{line}");
    }
}
