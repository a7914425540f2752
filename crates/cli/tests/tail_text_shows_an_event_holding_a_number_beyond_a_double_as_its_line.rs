//! `auditrail tail` (text) prints an event whose message holds numbers no double can
//! take (`1e400`, `-1e400` nested in an array: valid JSON, stored as sent) as its text
//! line (`serverTimestamp node topic routingKey msgType authUser`), like any other
//! event, and says nothing on stderr. (It printed the whole JSON envelope instead: the
//! line was parsed into a `serde_json::Value`, which refuses such a number.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serve_support::*;

#[test]
fn an_event_holding_1e400_is_shown_as_a_text_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let event = format!(
        r#"{{"id":"{}","timestamp":"2026-11-29T10:00:00.000Z","topic":"generic","node":"n1","seq":1,"message":{{"msgType":"login","score":1e400,"authUser":"alice","deep":{{"x":[-1e400,123456789012345678901234567890]}}}}}}"#,
        new_id(1, 440)
    );
    let (status, answer) = post_events(&server.addr, &event, None).unwrap();
    assert_eq!(status, 200, "{answer}");

    let url = format!("http://{}", server.addr);
    let stderr = dir.path().join("tail.stderr");
    let mut tail = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["tail", "--server", &url, "-n", "1"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let out = tail.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|e| {
            panic!(
                "tail printed no line ({e}); its stderr: {}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            )
        });
    assert_eq!(server.terminate(), 0);
    tail.wait().unwrap();

    let words: Vec<&str> = line.split(' ').collect();
    assert_eq!(
        words[1..],
        ["n1", "generic", "-", "login", "alice"],
        "the text line: {line}"
    );
    assert!(
        words[0].starts_with("20") && words[0].ends_with('Z'),
        "serverTimestamp first: {line}"
    );
    let said = std::fs::read_to_string(&stderr).unwrap();
    assert!(
        said.lines()
            .all(|l| l.contains("the server ended the stream")),
        "tail said nothing else: {said}"
    );
}
