//! `auditrail send --stdin` meets a line whose `node` is another node's and which has
//! no `seq` (line 2 of 3): the dispatcher could not number it, so it is a bad line like
//! one that is not JSON. The error names the line and why, the events before and after
//! it are delivered, and the advice says which line to send again once fixed. (The check used to run only when the event was emitted: the
//! error named no line, reading went on, and the event was neither sent nor
//! dead-lettered.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

#[test]
fn the_line_is_named_and_not_sent_and_the_lines_around_it_are_delivered() {
    // The node is `cli-test-node`.
    let node = common::Node::with_file_target("");
    let input = [
        r#"{"topic":"generic","message":{"msgType":"l1"}}"#,
        r#"{"topic":"generic","node":"node-b","message":{"msgType":"l2"}}"#,
        r#"{"topic":"generic","message":{"msgType":"l3"}}"#,
    ]
    .join("\n");
    let out = node.run(&["send", "--config", "node.toml", "--stdin"], &input);
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("stdin line 2: ")
            && stderr.contains("node-b")
            && stderr.contains("its own `seq`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 2 was not sent, named above with why")
            && stderr.contains("fix it and send only it (`sed -n '2p' FILE`)"),
        "{stderr}"
    );
    // No event of the run is refused later, at emit, without naming its line.
    assert!(!stderr.contains("not delivered"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["sent"], 2, "{summary}");
    assert_eq!(summary["acknowledged"], 2, "{summary}");
    assert_eq!(summary["badLines"], 1, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");
    let sent: Vec<String> = node
        .audit_lines()
        .iter()
        .map(|l| l["message"]["msgType"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sent, ["l1", "l3"]);
}
