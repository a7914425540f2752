//! `auditrail verify` and `auditrail keys export` as processes: exit codes, text and
//! JSON reports, the public key file, receipts. The store is written by the real
//! `store` destination with signed checkpoints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use auditrail::Event;
use auditrail_integrity::{CheckpointPolicy, Checkpointer, Receipt, Signer};
use auditrail_store::{StoreConfig, StoreHandle, StoreTarget};

fn auditrail(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(args)
        .output()
        .unwrap()
}

fn event(n: u64) -> Arc<Event> {
    let topic = ["generic", "authfail"][(n % 2) as usize];
    let v = serde_json::json!({
        "id": format!("01930000-0000-7000-8000-{n:012x}"),
        "timestamp": "2026-11-25T16:55:49.123Z",
        "topic": topic,
        "node": "node-1", "seq": n,
        "message": {"msgType": "login", "authUser": format!("user-{n}")}
    });
    Arc::new(Event::from_json(&v.to_string()).unwrap())
}

/// A data dir with a key and one store of 500 events; returns the receipt of batch 1.
fn data_dir(root: &Path) -> (PathBuf, Receipt) {
    let data = root.join("data");
    let signer = Arc::new(Signer::load_or_create(&data).unwrap());
    let store = data.join("store");
    let config: StoreConfig = serde_json::from_value(serde_json::json!({"path": "store"})).unwrap();
    let target = StoreTarget::open(&store, &config, "store").unwrap();
    let handle = target.handle();
    let mut cp = Checkpointer::open(
        &store,
        signer.clone(),
        CheckpointPolicy::default(),
        handle.head(),
    )
    .unwrap();
    let mut first = None;
    for b in 0..5u64 {
        let batch: Vec<_> = (b * 100 + 1..=b * 100 + 100).map(event).collect();
        target.send_blocking(&batch).unwrap();
        let keys: Vec<_> = batch.iter().map(|e| StoreHandle::receipt_key(e)).collect();
        let r = handle.chain_range(&keys).unwrap();
        first.get_or_insert_with(|| {
            Receipt::new(cp.store_id(), r.first_seq, r.last).signed(&signer)
        });
        cp.after_batch(handle.head()).unwrap();
    }
    let head = handle.head();
    drop(target);
    cp.close(head).unwrap();
    (data, first.unwrap())
}

#[test]
fn keys_export_prints_the_public_key_and_verify_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let (data, receipt) = data_dir(dir.path());
    let out = auditrail(&["keys", "export", "--data-dir", data.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout).unwrap();
    assert!(
        key.starts_with("ed25519:") && key.trim().len() == 72,
        "{key}"
    );
    assert_eq!(
        key,
        std::fs::read_to_string(data.join("signing.pub")).unwrap()
    );

    // The key kept elsewhere, and the node's receipt saved as a 200 answer.
    let key_file = dir.path().join("server.pub");
    std::fs::write(&key_file, &key).unwrap();
    let receipt_file = dir.path().join("receipt.json");
    std::fs::write(
        &receipt_file,
        serde_json::json!({"accepted": 100, "duplicates": 0, "receipt": receipt}).to_string(),
    )
    .unwrap();
    let out = auditrail(&[
        "verify",
        data.to_str().unwrap(),
        "--public-key",
        key_file.to_str().unwrap(),
        "--receipt",
        receipt_file.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("verdict: OK") && text.contains("receipt") && text.contains("500 records"),
        "{text}"
    );
}

#[test]
fn keys_export_without_a_key_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let out = auditrail(&["keys", "export", "--data-dir", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no signing key"));
}

#[test]
fn a_tampered_store_exits_1_with_a_json_report_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _) = data_dir(dir.path());
    let key = std::fs::read_to_string(data.join("signing.pub")).unwrap();
    // Change what user-250 did.
    let mut victim = None;
    for f in walk(&data.join("store")) {
        let text = std::fs::read_to_string(&f).unwrap();
        if let Some(i) = text.lines().position(|l| l.contains("\"user-250\"")) {
            std::fs::write(&f, text.replace("\"user-250\"", "\"user-999\"")).unwrap();
            victim = Some((f, i + 1));
        }
    }
    let (file, line) = victim.unwrap();
    let out = auditrail(&[
        "verify",
        data.to_str().unwrap(),
        "--public-key",
        key.trim(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    let problems = report["stores"][0]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{report}");
    assert_eq!(problems[0]["kind"], "changed-record");
    let rel = file
        .strip_prefix(data.join("store"))
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(problems[0]["file"], rel);
    assert_eq!(problems[0]["line"], line as u64);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "jsonl") && !p.ends_with("checkpoints.jsonl") {
            out.push(p);
        }
    }
    out
}
