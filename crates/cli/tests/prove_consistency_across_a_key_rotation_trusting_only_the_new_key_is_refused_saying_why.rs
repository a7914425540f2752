//! After `auditrail keys rotate`, a consistency proof from a checkpoint line the old key
//! signed, checked trusting only the new key, is refused, and the refusal says why and
//! what to do: nothing the new key signed covers the old key's line (the handover is
//! the old key's own signature; a line of the new key binds the records and the one
//! line before it), so with the new key alone the `from` line could be signed by any
//! key made up for it. It names the handover, the key to check the bundle with, and
//! that a proof from a line the new key signed holds with the new key alone, which it
//! does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::proof_support;

use proof_support::{check, first_of_size, history_across_a_rotation, prove, tree_lines};

#[test]
fn a_proof_from_an_old_keys_line_trusting_only_the_new_key_is_refused_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = history_across_a_rotation(dir.path());
    let store = dir.path().join("data/store");
    let handover = std::fs::read_to_string(store.join("checkpoints.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v.get("nextKey").is_some())
        .expect("a handover line")["checkpoint"]
        .as_u64()
        .unwrap();
    let from = first_of_size(&store, 13);
    assert!(from < handover, "{from} {handover}");
    let bundle = prove(
        dir.path(),
        &["--consistency", "--from", &from.to_string()],
        "old.json",
    );
    // The first line the new key signed (the start after the rotation).
    let first_new = tree_lines(&store)
        .into_iter()
        .find(|(i, _)| *i > handover)
        .expect("a line of the new key")
        .0;
    let from_new = prove(
        dir.path(),
        &["--consistency", "--from", &first_new.to_string()],
        "new.json",
    );

    std::fs::rename(dir.path().join("data"), dir.path().join("elsewhere")).unwrap();
    let (code, out) = check(dir.path(), &bundle, "old-checked.json", &new);
    assert_eq!(code, 1, "{out}");
    for said in [
        format!("the from checkpoint line (#{from}) is signed by {old}"),
        format!("handed signing over at checkpoint #{handover}, before the trusted key {new}"),
        "nothing the trusted key signed covers that line".to_string(),
        "each handover is signed by the key it retires".to_string(),
        "could be signed by any key made up for it".to_string(),
        format!("check the bundle with --public-key {old}"),
        format!("prove from a line it signed (a checkpoint after #{handover})"),
    ] {
        assert!(out.contains(&said), "{said:?} not in: {out}");
    }

    // As the refusal says: from a line of the new key, the new key alone suffices.
    let (code, out) = check(dir.path(), &from_new, "new-checked.json", &new);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("extends the tree of 13 records"), "{out}");
}
