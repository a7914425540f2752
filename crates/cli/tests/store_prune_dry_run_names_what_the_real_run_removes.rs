//! `auditrail store prune --dry-run` names the partitions the real prune removes, and
//! the one it keeps for holding the newest record, also when a late event made an
//! older partition hold that record: records 1 and 3 in hour 00 (3 came late), record 2
//! in hour 05. The newest record (chainSeq 3) is in hour 00: both runs keep hour 00 and
//! delete hour 05, and the real run removes exactly what the dry run listed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::run;
use serve_support::{new_id, post_events, start};

const HOUR_00: &str = "generic/_none/2020/01/01/00";
const HOUR_05: &str = "generic/_none/2020/01/01/05";

/// The partition folders a `store prune` output lists as deleted (or to be deleted),
/// and those it lists as kept for holding the newest record.
fn listed(out: &str) -> (Vec<String>, Vec<String>) {
    let mut deleted = Vec::new();
    let mut kept = Vec::new();
    for line in out.lines() {
        if let Some(rest) = line.trim().strip_prefix("kept for now: ") {
            kept.push(rest.split(' ').next().unwrap().to_string());
        } else if line.starts_with("  ") && line.contains(", ended ") {
            deleted.push(line.split_whitespace().next().unwrap().to_string());
        }
    }
    (deleted, kept)
}

#[test]
fn dry_run_lists_the_partitions_the_real_run_removes_after_a_late_event() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\npath = \"store\"\npartitioning = \"hour\"\n",
    )
    .unwrap();
    let store = dir.path().join("data/store");
    let server = start(dir.path(), &["--config", "server.toml"]);
    // One batch each, in this order: chainSeq 1, 2, 3.
    for (seq, ts) in [
        (1, "2020-01-01T00:10:00.000Z"),
        (2, "2020-01-01T05:00:00.000Z"),
        (3, "2020-01-01T00:30:00.000Z"),
    ] {
        let line = serde_json::json!({
            "id": new_id(seq, 77), "timestamp": ts, "topic": "generic",
            "node": "n-prune", "seq": seq,
            "message": {"msgType": "login", "authUser": "u"}
        })
        .to_string()
            + "\n";
        let (status, answer) = post_events(&server.addr, &line, None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(tamper_support::stop(server), 0);
    let partitions = || {
        let mut p: Vec<String> = auditrail_store::StoreFiles::walk(&store)
            .unwrap()
            .segments()
            .map(|f| f.rel.rsplit_once('/').unwrap().0.to_string())
            .collect();
        p.sort();
        p.dedup();
        p
    };
    assert_eq!(partitions(), [HOUR_00, HOUR_05]);

    let args = [
        "store",
        "prune",
        "--config",
        "server.toml",
        "--before",
        "2025-01-01",
    ];
    let (code, dry) = run(dir.path(), &[&args[..], &["--dry-run"]].concat());
    assert_eq!(code, 0, "{dry}");
    assert_eq!(
        partitions(),
        [HOUR_00, HOUR_05],
        "a dry run changes nothing"
    );
    let (code, real) = run(dir.path(), &[&args[..], &["--reason", "test"]].concat());
    assert_eq!(code, 0, "{real}");

    let (dry_deleted, dry_kept) = listed(&dry);
    let (real_deleted, real_kept) = listed(&real);
    assert_eq!(
        (&dry_deleted, &dry_kept),
        (&real_deleted, &real_kept),
        "the dry run announced another deletion than the one performed\n--- dry run:\n{dry}\n--- real run:\n{real}"
    );
    assert_eq!(dry_deleted, [HOUR_05], "{dry}");
    assert_eq!(dry_kept, [HOUR_00], "{dry}");
    assert!(
        dry.contains("would delete 1 partition (1 record,") && dry.contains("chainSeq 2)"),
        "{dry}"
    );
    assert!(real.contains("deleted 1 partition (1 record,"), "{real}");
    // What the real run removed is what both runs listed.
    assert_eq!(partitions(), [HOUR_00], "{real}");
}
