//! Merkle proofs after retention deleted old partitions (`auditrail store prune`): the
//! deletion line keeps the deleted runs' subtrees, so an event that is left still gets
//! an inclusion proof against the newest checkpoint, and a checkpoint signed before the
//! prune still gets a consistency proof to it; `verify` recomputes every tree head it
//! can. A deleted event has no proof, and a checkpoint whose tree ended among the
//! deleted records is named as unprovable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::proof_support;
use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use proof_support::{check, key, prove, tree_lines};
use retention_support::{post_day, prune, run, write_config};
use serve_support::{new_id, start};

#[test]
fn proofs_hold_across_a_retention_prune() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let store = dir.path().join("data/store");
    let server = start(dir.path(), &["--config", "server.toml"]);
    for (i, day) in ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"]
        .iter()
        .enumerate()
    {
        post_day(&server, day, 20, i as u64 + 1);
    }
    assert_eq!(tamper_support::stop(server), 0);
    let before_prune = *tree_lines(&store).last().unwrap();
    assert_eq!(before_prune.1, 80);
    let (code, out) = prune(dir.path(), "2025-01-03", &[]);
    assert_eq!(code, 0, "{out}");
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2025-01-05", 5, 9);
    assert_eq!(tamper_support::stop(server), 0);
    let key = key(dir.path());

    let (code, report) = tamper_support::verify(dir.path(), &key);
    assert_eq!(code, 0, "{report:#}");
    assert!(
        report["stores"][0]["treeHeadsChecked"].as_u64().unwrap() > 0,
        "{report:#}"
    );

    // An event left (day 3) is proven against the newest checkpoint.
    let kept = new_id(3, 3);
    let bundle = prove(dir.path(), &["--event-id", &kept], "kept.json");
    assert_eq!(bundle["treeSize"], 85, "{bundle:#}");
    let (code, out) = check(dir.path(), &bundle, "kept-check.json", &key);
    assert_eq!(code, 0, "{out}");

    // The checkpoint signed before the prune: the newest tree extends it.
    let (last, _) = *tree_lines(&store).last().unwrap();
    let bundle = prove(
        dir.path(),
        &[
            "--consistency",
            "--from",
            &before_prune.0.to_string(),
            "--to",
            &last.to_string(),
        ],
        "consistency.json",
    );
    let (code, out) = check(dir.path(), &bundle, "consistency-check.json", &key);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("extends the tree of 80 records"), "{out}");

    // A deleted event (day 1) has no record to prove.
    let (code, out) = run(
        dir.path(),
        &[
            "prove",
            "--config",
            "server.toml",
            "--event-id",
            &new_id(3, 1),
        ],
    );
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("no record of store"), "{out}");
    // ... and says that the store's log records a deletion it may have been in.
    assert!(
        out.contains("checkpoint log records 40 deleted records")
            && out.contains("1 deletion, the last at checkpoint #"),
        "{out}"
    );
    // A checkpoint whose tree ended among the deleted records (20 records, day 1).
    let (early, _) = *tree_lines(&store)
        .iter()
        .find(|(_, size)| *size == 20)
        .unwrap();
    let (code, out) = run(
        dir.path(),
        &[
            "prove",
            "--config",
            "server.toml",
            "--consistency",
            "--from",
            &early.to_string(),
        ],
    );
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("deleted inside one of its nodes"), "{out}");
}
