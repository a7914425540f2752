//! The receipt in a 200 answer of a real `auditrail serve` process, saved to a file as
//! a client would keep it, is accepted by `auditrail verify --receipt` once the server
//! stopped; trusting another key, verification fails (signatures prove nothing then).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::process::Command;

use serve_support::*;

fn verify(data: &std::path::Path, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .arg("verify")
        .arg(data)
        .arg("--json")
        .args(extra)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), report)
}

#[test]
fn a_saved_answer_is_a_receipt_that_verify_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let body: String = (0..20)
        .map(|i| event_line(&new_id(i, 1), "node-r", i + 1) + "\n")
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["receipt"]["firstSeq"], 1, "{answer}");
    assert_eq!(answer["receipt"]["lastSeq"], 20, "{answer}");
    let saved = dir.path().join("answer.json");
    std::fs::write(&saved, answer.to_string()).unwrap();
    assert_eq!(server.terminate(), 0);

    let data = dir.path().join("data");
    let (code, report) = verify(&data, &["--receipt", saved.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{report:#}");
    let receipts = report["receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), 1, "{report:#}");
    assert_eq!(receipts[0]["ok"], true, "{report:#}");
    assert_eq!(receipts[0]["lastSeq"], 20, "{report:#}");

    // Trusting another key, neither the receipt nor the checkpoints verify.
    let other = "ed25519:".to_owned() + &"8a".repeat(32);
    let (code, report) = verify(
        &data,
        &["--receipt", saved.to_str().unwrap(), "--public-key", &other],
    );
    assert_ne!(code, Some(0), "{report:#}");
    assert_eq!(report["receipts"][0]["ok"], false, "{report:#}");
}
