//! A new store gets its first high-water mark (checkpoint 0) when the server attaches
//! it, before it takes any record. A server killed with `kill -9` after acknowledging
//! events but before its first checkpoint therefore starts again on the same store
//! (the guard sees a mark and no checkpoint to compare), instead of refusing it as a
//! store whose mark was removed. The same holds with per-batch seals, when the log has
//! seal lines that no mark names yet (marks are rewritten by count and time only).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::*;

/// No checkpoint by count or time: the only published one would be written at a clean
/// stop.
const NO_CHECKPOINTS: &str = r#"
data_dir = "data"

[checkpoints]
every_records = 0
every_seconds = 0
seal_every_batch = SEALS

[[destinations]]
type = "store"
path = "store" # relative to data_dir
"#;

#[test]
fn a_store_killed_before_its_first_checkpoint_starts_again() {
    killed_before_the_first_published_checkpoint(false);
}

#[test]
fn a_store_killed_with_seals_but_no_published_checkpoint_starts_again() {
    killed_before_the_first_published_checkpoint(true);
}

fn killed_before_the_first_published_checkpoint(seals: bool) {
    let dir = tempfile::tempdir().unwrap();
    let config = NO_CHECKPOINTS.replace("SEALS", &seals.to_string());
    std::fs::write(dir.path().join("server.toml"), config).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let marks = std::fs::read_to_string(dir.path().join("data/high-water.jsonl"))
        .expect("the new store has a high-water mark as soon as the server listens");
    assert_eq!(marks.lines().count(), 1, "{marks}");

    let body: String = (0..50)
        .map(|i| event_line(&new_id(i, 41), "node-k", i + 1) + "\n")
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    server.kill9();
    let log = dir.path().join("data/store/checkpoints.jsonl");
    let lines = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .count();
    // The case this test is about: no checkpoint before the kill, or only seals.
    assert_eq!(
        lines,
        usize::from(seals),
        "checkpoint lines before the kill"
    );
    let marks = std::fs::read_to_string(dir.path().join("data/high-water.jsonl")).unwrap();
    assert!(
        marks.contains("\"checkpoint\":0"),
        "the mark names no line: {marks}"
    );

    let server = start(dir.path(), &["--config", "server.toml"]);
    let more: String = (50..60)
        .map(|i| event_line(&new_id(i, 41), "node-k", i + 1) + "\n")
        .collect();
    let (status, answer) = post_events(&server.addr, &more, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
    let ids = stored_ids(&dir.path().join("data/store"));
    assert_eq!(ids.len(), 60, "every acknowledged event is stored once");
    assert!(ids.values().all(|&n| n == 1));
}
