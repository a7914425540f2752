//! After `auditrail keys rotate`, an inclusion proof of an event written before the
//! rotation, against the current checkpoint (signed by the new key), holds with the
//! old public key: the bundle carries the handover line the old key signed, and
//! `verify --proof` follows it, naming the keys it followed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::proof_support;
use crate::serve_support;

use proof_support::{check, history_across_a_rotation, prove};
use serve_support::new_id;

#[test]
fn an_inclusion_proof_against_a_later_keys_checkpoint_holds_with_the_old_key() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = history_across_a_rotation(dir.path());
    let event = new_id(5, 1);
    let bundle = prove(dir.path(), &["--event-id", &event], "inclusion.json");
    assert_eq!(bundle["proof"], "auditrail-inclusion-v2", "{bundle:#}");
    assert_eq!(bundle["treeSize"], 21, "{bundle:#}");

    std::fs::rename(dir.path().join("data"), dir.path().join("elsewhere")).unwrap();
    let (code, out) = check(dir.path(), &bundle, "ok.json", &old);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("event {event} is record chainSeq")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "keys followed from the trusted key along the signed handovers: {old} -> {new}"
        )),
        "{out}"
    );
    // The new key signed the checkpoint itself: it needs no handover.
    let (code, out) = check(dir.path(), &bundle, "new.json", &new);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("keys followed"), "{out}");
}
