//! Re-sending a dead-letter file (`auditrail send --stdin < central.resend.jsonl`)
//! goes on past every line it cannot send: one longer than a line may be (a dead
//! letter of an event over 64 MiB, which the node wrote whole), one that is not JSON,
//! one that is no valid dead letter, one that is no valid event. Each is named on
//! stderr with its line number and why, counted in the summary (`badLines`), and left
//! in the file, which is not changed; the exit status is 1; the dead letters after
//! them are re-sent. (Reading stopped at the first of them: the valid dead letters
//! after an oversized one were never re-sent, and the operator had to cut the file
//! by hand.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::io::Write;

/// More than the 64 MiB a stdin line may be.
const BIG: usize = 65 << 20;

fn dead_letter(seq: u64, user: &str) -> String {
    let event = serde_json::json!({
        "id": format!("01936f6e-1b2c-7d3e-8f40-12345678900{seq}"),
        "timestamp": "2026-11-25T10:00:00.000Z",
        "topic": "generic", "node": "cli-test-node", "seq": seq,
        "message": {"msgType": "login", "authUser": user}
    });
    serde_json::json!({"failedAt": "2026-11-25T10:00:01.000Z", "target": "central",
                       "error": "HTTP 503", "event": event})
    .to_string()
}

#[test]
fn every_line_that_cannot_be_sent_is_named_counted_and_kept_and_the_rest_is_sent() {
    let node = common::Node::with_file_target("");
    let path = node.path().join("central.resend.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(file, "{}", dead_letter(1, "first")).unwrap();
    // Line 2: the dead letter of an event of 65 MiB, as the node writes it.
    let head = dead_letter(2, "big");
    let (before, after) = head.split_at(head.find("\"big\"").unwrap() + 1);
    file.write_all(before.as_bytes()).unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..BIG >> 20 {
        file.write_all(&chunk).unwrap();
    }
    writeln!(file, "{after}").unwrap();
    writeln!(file, "not JSON").unwrap();
    writeln!(
        file,
        r#"{{"failedAt":"2026-11-25T10:00:01.000Z","target":"central","error":"e","event":{{"topic":"generic"}}}}"#
    )
    .unwrap();
    writeln!(file, r#"{{"user":"alice"}}"#).unwrap();
    writeln!(file, "{}", dead_letter(6, "last")).unwrap();
    drop(file.into_inner().unwrap());
    let size = std::fs::metadata(&path).unwrap().len();

    let out = node.run_from(&["send", "--config", "node.toml", "--stdin"], &path);
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        (
            &summary["sent"],
            &summary["acknowledged"],
            &summary["badLines"]
        ),
        (&2.into(), &2.into(), &4.into()),
        "{summary}"
    );
    for said in [
        "stdin line 2: longer than 67239936 bytes",
        "stdin line 3: not JSON",
        "stdin line 4: read as a dead-letter line",
        "stdin line 5: read as an event",
        "4 lines were not sent (2, 3, 4, 5), each named above",
        "sed -n '2p;3p;4p;5p' FILE",
    ] {
        assert!(stderr.contains(said), "{said:?} in:\n{stderr}");
    }
    let sent: Vec<(String, u64)> = node
        .audit_lines()
        .iter()
        .map(|l| {
            (
                l["message"]["authUser"].as_str().unwrap().to_owned(),
                l["seq"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(sent, [("first".to_owned(), 1), ("last".to_owned(), 6)]);
    // Kept: the file given is the one the lines not sent are in.
    assert_eq!(std::fs::metadata(&path).unwrap().len(), size);
}
