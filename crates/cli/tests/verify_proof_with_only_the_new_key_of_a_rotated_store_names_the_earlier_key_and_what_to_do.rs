//! An auditor given only the new key after `auditrail keys rotate` checks bundles made
//! from lines an earlier key signed: (a) a bundle `prove` made before any rotation (v1:
//! no handover line), and (b) one made after the store's second rotation while the
//! server has not signed with the new key yet (v2: it carries the first handover only,
//! and its line is signed by the key that handover names; the second handover, after
//! the line, is not carried). Both are refused, by design (trust only runs forward),
//! and the refusal names the likely cause, a rotation after the line was signed, and
//! what to do: check the bundle with the key that signed the line, or prove again once
//! the server has signed with the new key. It does not call the new key "not this
//! store's" or a handover "missing" as the cause.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::proof_support;
use crate::retention_support;
use crate::serve_support;

use proof_support::{check, key, prove};
use retention_support::{post_day, run};
use serve_support::{new_id, start};

fn rotate(dir: &std::path::Path) -> String {
    let (code, out) = run(dir, &["keys", "rotate", "--config", "server.toml"]);
    assert_eq!(code, 0, "keys rotate: {out}");
    key(dir)
}

#[test]
fn a_bundle_of_an_earlier_keys_line_names_the_rotation_and_the_key_to_check_it_with() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    retention_support::write_config(dir, "");
    let server = start(dir, &["--config", "server.toml"]);
    post_day(&server, "2025-01-01", 3, 1);
    assert_eq!(crate::tamper_support::stop(server), 0);
    let k0 = key(dir);
    let event = new_id(2, 1);
    let before = prove(dir, &["--event-id", &event], "before.json");
    assert_eq!(before["proof"], "auditrail-inclusion-v1", "{before:#}");

    let k1 = rotate(dir);
    let server = start(dir, &["--config", "server.toml"]);
    assert_eq!(crate::tamper_support::stop(server), 0);
    let k2 = rotate(dir);
    let after = prove(dir, &["--event-id", &event], "after.json");
    assert_eq!(after["proof"], "auditrail-inclusion-v2", "{after:#}");

    // (a) v1, signed by k0.
    let (code, out) = check(dir, &before, "a.json", &k2);
    assert_eq!(code, 1, "{out}");
    for said in [
        format!("is signed by {k0}, not by the trusted key {k2}"),
        "the store's key was rotated to it (`auditrail keys rotate`) after that line was \
         signed by"
            .to_owned(),
        format!("{k0}, an earlier key of the store's chain"),
        format!("Check the bundle with --public-key {k0}"),
        "prove the event again once the server has signed a checkpoint with it (after its \
         restart)"
            .to_owned(),
    ] {
        assert!(out.contains(&said), "(a) {said:?} not in: {out}");
    }

    // (b) v2, its line signed by k1, the handover to k2 after it.
    let (code, out) = check(dir, &after, "b.json", &k2);
    assert_eq!(code, 1, "{out}");
    assert!(
        !out.contains("a handover line is missing, or the key is not this store's"),
        "(b) names causes that are false here: {out}"
    );
    for said in [
        format!("is signed by {k1}, the key the bundle's last handover line"),
        format!("the trusted key {k2} is in none of its handover lines"),
        format!("the store's key was rotated from {k1} to the trusted key after that line"),
        format!("({k0} -> {k1} (handover at checkpoint #"),
        format!("Check the bundle with --public-key {k1} (or the first key of its handovers"),
        "prove again once the server has signed a checkpoint with it".to_owned(),
    ] {
        assert!(out.contains(&said), "(b) {said:?} not in: {out}");
    }
    // As it says: with the key that signed the line, the bundle holds.
    let (code, out) = check(dir, &after, "b-k1.json", &k1);
    assert_eq!(code, 0, "{out}");
}
