//! `auditrail prove --event-id` on a real server's store, checked by `auditrail verify
//! --proof` with the public key alone (the store is moved away first): the proof
//! holds, and each way of breaking it is named: a changed record, a changed audit path,
//! a bundle claiming another event, a proof checked against another key, a checkpoint
//! line edited after signing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::proof_support;
use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use proof_support::{check, key, prove, tree_lines};
use retention_support::{post_day, write_config};
use serve_support::{new_id, start};

#[test]
fn an_inclusion_proof_holds_offline_and_every_tampering_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2025-01-01", 13, 1);
    post_day(&server, "2025-01-02", 8, 2);
    assert_eq!(tamper_support::stop(server), 0);
    let store = dir.path().join("data/store");
    assert!(
        !tree_lines(&store).is_empty(),
        "the server signs Merkle tree heads"
    );
    let key = key(dir.path());
    let event = new_id(5, 1);
    let bundle = prove(dir.path(), &["--event-id", &event], "proof.json");
    assert_eq!(bundle["eventId"], event.as_str());
    assert_eq!(bundle["treeSize"], 21, "{bundle:#}");

    // Offline: nothing but the bundle and the key.
    std::fs::rename(dir.path().join("data"), dir.path().join("elsewhere")).unwrap();
    let (code, out) = check(dir.path(), &bundle, "ok.json", &key);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("event {event} is record chainSeq")),
        "{out}"
    );

    let mut changed = bundle.clone();
    let record = changed["record"]
        .as_str()
        .unwrap()
        .replace("user5", "mallory");
    changed["record"] = record.into();
    let (code, out) = check(dir.path(), &changed, "record.json", &key);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does not match its chain hash"), "{out}");

    let mut wrong_path = bundle.clone();
    let first = wrong_path["path"][0].as_str().unwrap().to_string();
    let flipped = if first.starts_with('0') { "1" } else { "0" }.to_string() + &first[1..];
    wrong_path["path"][0] = flipped.into();
    let (code, out) = check(dir.path(), &wrong_path, "path.json", &key);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("wrong path"), "{out}");

    let mut other_event = bundle.clone();
    other_event["eventId"] = new_id(6, 1).into();
    let (code, out) = check(dir.path(), &other_event, "event.json", &key);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not the claimed event"), "{out}");

    let other_key = auditrail_integrity::Signer::from_seed([9; 32])
        .public_key()
        .to_string();
    let (code, out) = check(dir.path(), &bundle, "key.json", &other_key);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("wrong key: the bundle's checkpoint line"),
        "{out}"
    );

    let mut edited_line = bundle.clone();
    let line = edited_line["checkpoint"].as_str().unwrap().to_string();
    let size = format!("\"treeSize\":{}", bundle["treeSize"]);
    edited_line["checkpoint"] = line.replace(&size, "\"treeSize\":22").into();
    edited_line["treeSize"] = 22.into();
    let (code, out) = check(dir.path(), &edited_line, "line.json", &key);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("bad signature: the bundle's checkpoint line"),
        "{out}"
    );
}
