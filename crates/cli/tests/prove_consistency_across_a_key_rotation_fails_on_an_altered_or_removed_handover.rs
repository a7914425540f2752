//! A consistency bundle across a key rotation whose handover line was altered (its
//! signature no longer holds) or removed fails `verify --proof` with the old key, naming
//! the handover line: the old key's trust must not reach the new key without the line
//! the old key signed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::proof_support;

use proof_support::{check, first_of_size, history_across_a_rotation, prove};

#[test]
fn an_altered_or_removed_handover_line_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (old, _) = history_across_a_rotation(dir.path());
    let from = first_of_size(&dir.path().join("data/store"), 13).to_string();
    let bundle = prove(
        dir.path(),
        &["--consistency", "--from", &from],
        "consistency.json",
    );
    let handover = bundle["handovers"][0]
        .as_str()
        .expect("a handover line")
        .to_string();
    assert!(handover.contains("\"nextKey\":"), "{handover}");

    let mut altered = bundle.clone();
    altered["handovers"][0] = handover
        .replacen("\"time\":\"20", "\"time\":\"19", 1)
        .into();
    let (code, out) = check(dir.path(), &altered, "altered.json", &old);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "bad signature: handover line 1 of the bundle was changed after it was signed"
        ),
        "{out}"
    );

    let mut removed = bundle.clone();
    removed["handovers"] = serde_json::json!([]);
    let (code, out) = check(dir.path(), &removed, "removed.json", &old);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("handover lines"), "{out}");
    assert!(out.contains("removed"), "{out}");
}
