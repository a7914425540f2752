//! `auditrail send --stdin` where one line matches no target's filter: the error names
//! the stdin line and the line's topic and routing key, as every other error of
//! `send --stdin` names its line, also when other events of its batch could not be
//! delivered. (It named only an id and seq that `send` had made up, which are in no
//! file, and said nothing when another event of the batch was dead-lettered.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

const INPUT: &str = concat!(
    "{\"topic\":\"generic\",\"message\":{\"msgType\":\"a\"}}\n",
    "{\"topic\":\"billing\",\"routingKey\":\"svc-b\",\"message\":{\"msgType\":\"b\"}}\n",
    "{\"topic\":\"generic\",\"message\":{\"msgType\":\"c\"}}\n",
);

fn send(node: &common::Node) -> (std::process::Output, serde_json::Value, String) {
    let out = node.run(
        &["send", "--config", "node.toml", "--stdin", "--timeout", "1"],
        INPUT,
    );
    let (stdout, stderr) = common::text(&out);
    let summary =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    (out, summary, stderr)
}

fn names_line_2(stderr: &str) {
    let named = stderr
        .lines()
        .find(|l| l.contains("matched no target's filter"));
    let named = named.unwrap_or_else(|| panic!("no unrouted event reported:\n{stderr}"));
    assert!(
        named.contains("stdin line 2")
            && named.contains("\"billing\"")
            && named.contains("\"svc-b\""),
        "{named}"
    );
}

#[test]
fn the_line_is_named_with_its_topic_and_routing_key() {
    let node = common::Node::with_file_target("topics = [\"generic\"]");
    let (out, summary, stderr) = send(&node);
    assert_eq!(out.status.code(), Some(1), "{summary}\n{stderr}");
    assert_eq!(summary["failed"], 1, "{summary}");
    assert_eq!(summary["acknowledged"], 2, "{summary}");
    names_line_2(&stderr);
    assert_eq!(node.audit_lines().len(), 2);
}

#[test]
fn the_line_is_named_when_the_rest_of_its_batch_is_dead_lettered() {
    let node = common::Node::with_file_target("topics = [\"generic\"]");
    // The target cannot write: lines 1 and 3 are dead-lettered at the time limit.
    std::fs::create_dir_all(node.path().join("audit/audit.log")).unwrap();
    let (out, summary, stderr) = send(&node);
    assert_eq!(out.status.code(), Some(4), "{summary}\n{stderr}");
    assert_eq!(summary["failed"], 3, "{summary}");
    assert_eq!(summary["acknowledged"], 0, "{summary}");
    names_line_2(&stderr);
}
