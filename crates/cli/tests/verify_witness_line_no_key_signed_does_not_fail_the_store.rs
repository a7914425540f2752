//! A witness event server takes events from whoever may send to it, so it may hold a
//! `checkpoint` event naming a store whose line no key signed (sent by another node).
//! Such a line is no evidence about the store: `auditrail verify --witness` reports it
//! as a warning naming the node that sent it, and the intact store still passes.
//! Before, it was an error (`bad-signature`) and failed the store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;
use crate::tamper_support;

use serve_support::{event_line, new_id, post_events, start};
use tamper_support::stop;

fn verify(dir: &std::path::Path, key: &str) -> (i32, serde_json::Value) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["verify", "a-data", "--public-key", key, "--json"])
        .args(["--witness", "witness-data/store"])
        .current_dir(dir)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

#[test]
fn an_unsigned_line_another_node_sent_to_the_witness_is_a_warning_naming_that_node() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let witness = start(d, &["--data-dir", "witness-data"]);
    std::fs::write(
        d.join("a.toml"),
        format!(
            "data_dir = \"a-data\"\nshutdown_timeout_s = 2\n[checkpoints]\nevery_records = 10\n\
             [[witnesses]]\ntype = \"eventserver\"\nurl = \"http://{}\"\n\
             [[destinations]]\ntype = \"store\"\npath = \"store\"\n",
            witness.addr
        ),
    )
    .unwrap();
    let a = start(d, &["--config", "a.toml"]);
    let body: String = (1..=10u64)
        .map(|n| event_line(&new_id(n, 5), "n1", n) + "\n")
        .collect();
    let (status, answer) = post_events(&a.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(stop(a), 0);
    let key = std::fs::read_to_string(d.join("a-data/signing.pub")).unwrap();
    let key = key.trim();

    // Another node sends the witness A's last line under another number: the
    // signature no longer matches, no key signed this line.
    let log = std::fs::read_to_string(d.join("a-data/store/checkpoints.jsonl")).unwrap();
    let last = log.lines().last().unwrap();
    let parsed: serde_json::Value = serde_json::from_str(last).unwrap();
    let index = parsed["checkpoint"].as_u64().unwrap();
    // The line's own text (its fields in their order), under another number.
    let forged = last.replacen(
        &format!("{{\"checkpoint\":{index},"),
        &format!("{{\"checkpoint\":{},", index + 5),
        1,
    );
    assert_ne!(forged, last);
    let event = serde_json::json!({
        "id": new_id(1, 99), "timestamp": "2026-11-25T16:55:49.123Z", "topic": "checkpoint",
        "node": "mallory", "seq": 1,
        "message": {"msgType": "checkpoint", "storeId": parsed["storeId"], "checkpoint": index + 5,
                    "line": forged}
    });
    let (status, answer) = post_events(&witness.addr, &format!("{event}\n"), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    // And the genuine line with its fields in another order (`sig` first): no longer
    // the text that was signed, nor a line the server writes. It was skipped without a
    // word; it is a warning too.
    let sig_at = last.rfind(",\"sig\":").unwrap();
    let sig_field = &last[sig_at + 1..last.len() - 1];
    let reordered = format!("{{{sig_field},{}}}", &last[1..sig_at]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&reordered).unwrap(),
        parsed,
        "the same fields, in another order"
    );
    let event = serde_json::json!({
        "id": new_id(2, 99), "timestamp": "2026-11-25T16:55:49.123Z", "topic": "checkpoint",
        "node": "trudy", "seq": 1,
        "message": {"msgType": "checkpoint", "storeId": parsed["storeId"], "checkpoint": index,
                    "line": reordered}
    });
    let (status, answer) = post_events(&witness.addr, &format!("{event}\n"), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(stop(witness), 0);

    let (code, report) = verify(d, key);
    assert_eq!(code, 0, "the store is intact: {report:#}");
    let store = &report["stores"][0];
    assert!(store["witnessed"].as_u64().unwrap() >= 1, "{report:#}");
    let problems = store["problems"].as_array().unwrap();
    let p = problems
        .iter()
        .find(|p| p["kind"] == "bad-signature")
        .unwrap_or_else(|| panic!("the line is reported: {report:#}"));
    assert_eq!(p["severity"], "warning", "{report:#}");
    let message = p["message"].as_str().unwrap();
    assert!(message.contains("\"mallory\""), "{message}");
    assert!(message.contains("no evidence"), "{message}");
    let p = problems
        .iter()
        .find(|p| p["kind"] == "malformed-checkpoint")
        .unwrap_or_else(|| panic!("the reordered line is reported: {report:#}"));
    assert_eq!(p["severity"], "warning", "{report:#}");
    let message = p["message"].as_str().unwrap();
    assert!(message.contains("\"trudy\""), "{message}");
    assert!(message.contains("no evidence"), "{message}");
}
