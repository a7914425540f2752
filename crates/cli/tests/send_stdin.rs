//! `auditrail send --stdin`: thousands of JSON lines in the three accepted forms, all
//! acknowledged and stored once, with strictly increasing sequence numbers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;

use std::collections::HashSet;

#[test]
fn thousands_of_lines_in_every_form_arrive_exactly_once() {
    let node = common::Node::with_file_target("");
    let mut input = String::new();
    for i in 0..3000 {
        let line = match i % 3 {
            0 => serde_json::json!({"topic": "generic", "message": {"msgType": "read", "i": i}}),
            1 => {
                serde_json::json!({"topic": "apinode-query", "routingKey": "svc-b", "message": {"msgType": "query", "i": i}})
            }
            _ => serde_json::json!({"msgType": "bare", "i": i}),
        };
        input.push_str(&line.to_string());
        input.push('\n');
    }
    let out = node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--stdin",
            "--topic",
            "compute-resource-usage",
        ],
        &input,
    );
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("\"acknowledged\":3000"), "{stdout}");

    let lines = node.audit_lines();
    assert_eq!(lines.len(), 3000);
    let indexes: HashSet<u64> = lines
        .iter()
        .map(|l| l["message"]["i"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes.len(), 3000, "every line exactly once");
    let bare = lines
        .iter()
        .find(|l| l["message"]["msgType"] == "bare")
        .unwrap();
    assert_eq!(bare["topic"], "compute-resource-usage");
    let mut seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 3000, "sequence numbers are unique");
}

#[test]
fn sequence_numbers_keep_increasing_across_runs() {
    let node = common::Node::with_file_target("");
    let line = "{\"topic\":\"generic\",\"message\":{\"msgType\":\"x\"}}\n";
    for _ in 0..2 {
        let out = node.run(
            &["send", "--config", "node.toml", "--stdin"],
            &line.repeat(5),
        );
        assert!(out.status.success(), "{:?}", common::text(&out));
    }
    let seqs: Vec<u64> = node
        .audit_lines()
        .iter()
        .map(|l| l["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs.len(), 10);
    let (first, second) = seqs.split_at(5);
    assert!(first.iter().max() < second.iter().min(), "{seqs:?}");
}
