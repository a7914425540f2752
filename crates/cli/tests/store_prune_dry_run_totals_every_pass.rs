//! `auditrail store prune --dry-run` on a selection larger than one pass (a pass
//! deletes at most `MAX_PARTITIONS_PER_PRUNE` = 1000 partitions; no config lowers it):
//! its totals (partitions, records, bytes, passes) and its list of partitions are
//! those the real prune then deletes in all its passes, by age and by size. It gave the
//! first pass's figures only ("would delete 1000 partitions ... and more").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crate::retention_support::run;
use crate::serve_support::{new_id, post_events, start};
use crate::tamper_support;

/// More hourly partitions than one pass deletes.
const HOURS: u64 = 1100;

/// A stopped server's hour-partitioned store with one event in each of `HOURS` hours
/// from 2020-01-01T00:00Z. Returns the store's path.
fn store_of_many_hours(dir: &Path) -> std::path::PathBuf {
    std::fs::write(
        dir.join("server.toml"),
        "data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\npath = \"store\"\npartitioning = \"hour\"\n",
    )
    .unwrap();
    let server = start(dir, &["--config", "server.toml"]);
    let t0 = 1_577_836_800_000i64; // 2020-01-01T00:00:00Z
    let body: String = (0..HOURS)
        .map(|i| {
            let ts = auditrail::Timestamp::from_unix_millis(t0 + i as i64 * 3_600_000).unwrap();
            serde_json::json!({
                "id": new_id(i + 1, 88), "timestamp": ts.to_string(), "topic": "generic",
                "node": "n-hours", "seq": i + 1,
                "message": {"msgType": "login", "authUser": format!("u{i}")}
            })
            .to_string()
                + "\n"
        })
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(tamper_support::stop(server), 0);
    dir.join("data/store")
}

/// The numbers after `prefix` in `line`: "N partitions (R records, B bytes".
fn figures(line: &str, prefix: &str) -> Option<(u64, u64, u64)> {
    let rest = &line[line.find(prefix)? + prefix.len()..];
    let nums: Vec<u64> = rest
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .take(3)
        .map(|s| s.parse().unwrap())
        .collect();
    Some((nums[0], nums[1], nums[2]))
}

/// The partition folders listed (indented lines naming records).
fn listed(out: &str) -> Vec<String> {
    let mut folders: Vec<String> = out
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains(", ended ") && !l.contains("kept for"))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    folders.sort();
    folders
}

/// Dry run, then the real prune, with `rule` (`--before` or `--max-bytes`): the dry
/// run's totals are the sums of the real run's passes.
fn dry_run_totals_are_what_the_prune_deletes(rule: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let store = store_of_many_hours(dir.path());
    let args = [&["store", "prune", "--config", "server.toml"][..], rule].concat();

    let (code, dry) = run(dir.path(), &[&args[..], &["--dry-run"]].concat());
    assert_eq!(code, 0, "{dry}");
    let totals: Vec<(u64, u64, u64)> = dry
        .lines()
        .filter_map(|l| figures(l, "would delete "))
        .collect();
    assert_eq!(totals.len(), 1, "one line of totals\n{dry}");

    let (code, real) = run(dir.path(), &[&args[..], &["--reason", "test"]].concat());
    assert_eq!(code, 0, "{real}");
    let passes: Vec<(u64, u64, u64)> = real
        .lines()
        .filter_map(|l| figures(l, ": deleted "))
        .collect();
    assert_eq!(passes.len(), 2, "two passes\n{real}");
    let sum = passes
        .iter()
        .fold((0, 0, 0), |a, p| (a.0 + p.0, a.1 + p.1, a.2 + p.2));
    assert_eq!(
        totals[0],
        sum,
        "the dry run's totals (partitions, records, bytes) are not what the prune deleted\n--- dry run (head):\n{}\n--- real run (summary):\n{}",
        dry.lines().filter(|l| !l.starts_with("  ")).collect::<Vec<_>>().join("\n"),
        real.lines().filter(|l| !l.starts_with("  ")).collect::<Vec<_>>().join("\n"),
    );
    assert!(sum.0 > 1000, "{real}");
    assert!(dry.contains(") in 2 passes"), "{dry}");
    assert_eq!(listed(&dry), listed(&real), "the partitions listed differ");
    assert!(
        real.contains(&format!("in all, 2 passes deleted {} partitions", sum.0)),
        "{real}"
    );

    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let (code, report) = tamper_support::verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["stores"][0]["deletedRecords"], sum.1, "{report:#}");
    let left = auditrail_store::StoreFiles::walk(&store).unwrap();
    assert!(left.segments().count() > 0);
}

#[test]
fn by_age() {
    // Every hour but the last 20 of the store.
    dry_run_totals_are_what_the_prune_deletes(&["--before", "2020-02-15"]);
}

#[test]
fn by_size() {
    // One event per partition, about the same size: keep about 30 of them.
    dry_run_totals_are_what_the_prune_deletes(&["--max-bytes", "15000"]);
}
