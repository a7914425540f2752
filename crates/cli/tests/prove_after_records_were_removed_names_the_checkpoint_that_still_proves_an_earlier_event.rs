//! An attacker without the key removes records from the middle of a store (lines of a
//! segment, a partition folder): no tree that spans them can be rebuilt, so `prove
//! --event-id` of any event, against the last checkpoint, was refused with "the Merkle
//! tree ... cannot be rebuilt from the store: chainSeq N is missing", and the auditor
//! took the event as unprovable. An event before the removed records is still in the
//! tree of an earlier checkpoint that ends before them: the refusal now names it
//! (`--checkpoint M`), and the bundle made against it holds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::proof_support;
use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use proof_support::check;
use retention_support::run;
use serve_support::new_id;
use tamper_support::fifty_records;

#[test]
fn the_refusal_names_an_earlier_checkpoint_and_the_proof_against_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    // Records chainSeq 21..=30 cut out of their segment.
    let segment = auditrail_testkit::store::record_files(&store)
        .into_iter()
        .next()
        .unwrap();
    let kept: String = std::fs::read_to_string(&segment)
        .unwrap()
        .lines()
        .filter(|l| !(21..=30).any(|n| l.contains(&format!("\"chainSeq\":{n},"))))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(kept.lines().count(), 40);
    std::fs::write(&segment, kept).unwrap();

    let event = new_id(5, 77);
    let (code, out) = run(
        dir.path(),
        &["prove", "--data-dir", "data", "--event-id", &event],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("chainSeq 21 is missing"), "{out}");
    let hint = out
        .split("`--checkpoint ")
        .nth(1)
        .unwrap_or_else(|| panic!("no checkpoint named: {out}"));
    let n = &hint[..hint.find('`').unwrap()];
    assert!(
        out.contains("the record to prove, chainSeq 5, is before chainSeq 21"),
        "{out}"
    );

    let (code, out) = run(
        dir.path(),
        &[
            "prove",
            "--data-dir",
            "data",
            "--event-id",
            &event,
            "--checkpoint",
            n,
            "--out",
            "p.json",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("p.json")).unwrap()).unwrap();
    let size = bundle["treeSize"].as_u64().unwrap();
    assert!((5..21).contains(&size), "{bundle:#}");
    let (code, out) = check(dir.path(), &bundle, "p.json", &key);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("proof holds"), "{out}");

    // An event after the removed records has no tree left to be proven in: no hint.
    let (code, out) = run(
        dir.path(),
        &["prove", "--data-dir", "data", "--event-id", &new_id(45, 77)],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("chainSeq 21 is missing") && !out.contains("--checkpoint"),
        "{out}"
    );
}
