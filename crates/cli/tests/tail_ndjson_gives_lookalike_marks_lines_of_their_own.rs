//! `auditrail tail --format ndjson` gives each `event: lookalikes` message of the stream
//! (which values look like others, for the lines that follow to mark) as a line of its
//! own, `{"lookalikes":[...]}`, the server's list as it sent it, before the event that
//! made it; every other line is an event in its envelope. Before 2026-12-08 it left
//! them out (and before that printed the list as one more event).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};
use serve_support::*;

#[test]
fn tail_ndjson_gives_the_marks_on_a_line_before_the_event_that_made_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let url = format!("http://{}", server.addr);
    let events: Vec<String> = ["Iris", "lris", "bob"]
        .iter()
        .enumerate()
        .map(|(i, user)| {
            json!({
                "id": new_id(i as u64 + 1, 0x7a1), "timestamp": "2026-11-29T10:00:00.000Z",
                "topic": "generic", "node": "n1", "seq": i + 1,
                "message": {"msgType": "login", "authUser": user}
            })
            .to_string()
        })
        .collect();
    assert_eq!(
        post_events(&server.addr, &events.join("\n"), None)
            .unwrap()
            .0,
        200
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["tail", "--server", &url, "-n", "3", "--format", "ndjson"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut said = Vec::new();
    for _ in 0..4 {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("tail printed no line within 30 s");
        let v: Value = serde_json::from_str(&line).unwrap();
        said.push(match v.get("lookalikes") {
            Some(marks) => json!({ "lookalikes": marks }),
            None => v["clientEvent"]["message"]["authUser"].clone(),
        });
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mark = |user: &str| json!({"column": ".clientEvent.message.authUser", "value": user, "escaped": [0]});
    assert_eq!(
        said,
        [
            json!("Iris"),
            json!({ "lookalikes": [mark("Iris"), mark("lris")] }),
            json!("lris"),
            json!("bob")
        ]
    );
    server.kill9();
}
