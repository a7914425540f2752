//! After `auditrail keys rotate`, a consistency proof from a checkpoint line signed
//! before the rotation to the current head (signed by the new key) holds with the old
//! public key: the bundle carries the handover line the old key signed, and `verify
//! --proof` follows it to the new key, naming the keys it followed. With only the new
//! key, the check is refused naming the old key to check it with: a handover line is
//! signed by the retiring key, so the new key vouches for nothing before it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::proof_support;

use proof_support::{check, first_of_size, history_across_a_rotation, prove};

#[test]
fn a_consistency_proof_across_a_rotation_holds_with_the_old_key() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = history_across_a_rotation(dir.path());
    let from = first_of_size(&dir.path().join("data/store"), 13).to_string();
    let bundle = prove(
        dir.path(),
        &["--consistency", "--from", &from],
        "consistency.json",
    );
    assert_eq!(bundle["proof"], "auditrail-consistency-v2", "{bundle:#}");

    // Offline: nothing but the bundle and the key.
    std::fs::rename(dir.path().join("data"), dir.path().join("elsewhere")).unwrap();
    let (code, out) = check(dir.path(), &bundle, "ok.json", &old);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("extends the tree of 13 records"), "{out}");
    assert!(
        out.contains(&format!(
            "keys followed from the trusted key along the signed handovers: {old} -> {new}"
        )),
        "{out}"
    );

    let (code, out) = check(dir.path(), &bundle, "new.json", &new);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("check the bundle with --public-key {old}")),
        "{out}"
    );
}
