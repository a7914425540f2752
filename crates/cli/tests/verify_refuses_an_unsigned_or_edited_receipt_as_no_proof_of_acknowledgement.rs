//! Only the server's signature makes a receipt evidence that it acknowledged records:
//! `auditrail verify --receipt` refuses a receipt without `sig`, or one whose signature
//! does not verify, saying so, and never reports the records such a receipt names as
//! acknowledged and gone. Before, a receipt of the server with `sig` removed was "OK"
//! without a word, and with `lastSeq` raised to 99 (beyond the 15 records of the
//! store) verify said "chainSeq 16..99 acknowledged by the receipt are gone".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use crate::serve_support;

use serve_support::{event_line, new_id, post_events, start};

/// `auditrail verify DATA --receipt FILE --public-key KEY --json`: exit code and report.
fn verify(data: &Path, receipt: &Path, key: &str) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .arg("verify")
        .arg(data)
        .arg("--receipt")
        .arg(receipt)
        .args(["--public-key", key, "--json"])
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!("not JSON: {}", String::from_utf8_lossy(&out.stderr));
    });
    (out.status.code().unwrap_or(-1), report)
}

#[test]
fn an_unsigned_or_edited_receipt_is_refused_and_never_reported_as_records_gone() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let mut receipts = Vec::new();
    for batch in 0..3u64 {
        let body: String = (1..=5u64)
            .map(|i| {
                let n = batch * 5 + i;
                event_line(&new_id(n, 31), "n1", n) + "\n"
            })
            .collect();
        let (status, answer) = post_events(&server.addr, &body, None).unwrap();
        assert_eq!(status, 200, "{answer}");
        receipts.push(answer["receipt"].clone());
    }
    assert_eq!(server.terminate(), 0);
    let data = dir.path().join("data");
    let key = std::fs::read_to_string(data.join("signing.pub")).unwrap();
    let key = key.trim();
    let second = &receipts[1];
    assert_eq!(
        (second["firstSeq"].as_u64(), second["lastSeq"].as_u64()),
        (Some(6), Some(10)),
        "{second}"
    );
    let save = |name: &str, receipt: &serde_json::Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, receipt.to_string()).unwrap();
        path
    };

    let (code, report) = verify(&data, &save("genuine.json", second), key);
    assert_eq!(code, 0, "the server's receipt holds: {report:#}");

    let mut unsigned = second.clone();
    unsigned.as_object_mut().unwrap().remove("sig");
    let mut unsigned_beyond = unsigned.clone();
    unsigned_beyond["lastSeq"] = 99.into();
    let mut edited_beyond = second.clone();
    edited_beyond["lastSeq"] = 99.into();
    for (name, receipt, says) in [
        ("unsigned.json", &unsigned, "unsigned"),
        ("unsigned-beyond.json", &unsigned_beyond, "unsigned"),
        (
            "edited-beyond.json",
            &edited_beyond,
            "signature does not verify",
        ),
    ] {
        let (code, report) = verify(&data, &save(name, receipt), key);
        assert_eq!(code, 1, "{name}: {report:#}");
        let r = &report["receipts"][0];
        assert_eq!(r["ok"], false, "{name}: {report:#}");
        let reasons = r["reasons"].to_string();
        assert!(reasons.contains(says), "{name}: {reasons}");
        assert!(
            reasons.contains("no proof that the server acknowledged"),
            "{name}: {reasons}"
        );
        assert!(!reasons.contains("are gone"), "{name}: {reasons}");
        // The store itself is untouched: only the receipt fails.
        assert_eq!(
            report["stores"][0]["problems"].as_array().unwrap().len(),
            0,
            "{name}: {report:#}"
        );
    }
}
