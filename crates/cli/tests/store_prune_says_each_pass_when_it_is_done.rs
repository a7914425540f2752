//! `auditrail store prune` of more partitions than one pass deletes (1000) printed its
//! passes only once every pass was done: minutes of silence on a big store, and a
//! prune stopped part way (Ctrl-C, a kill) had said nothing of what it deleted. Each
//! pass is now said when it is done. Here: 2 600 hourly partitions (3 passes); when
//! the first pass's line arrives, the checkpoint log does not yet hold the third
//! pass's deletion line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::serve_support::store_of_hourly_partitions;

/// The deletion lines of a store's checkpoint log.
fn deletions(store: &std::path::Path) -> usize {
    std::fs::read_to_string(store.join("checkpoints.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"deleted\""))
        .count()
}

#[test]
fn the_first_pass_is_said_before_the_last_one_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    store_of_hourly_partitions(dir.path(), 2600, 61);
    let store = dir.path().join("data/store");
    let mut prune = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["store", "prune", "--data-dir", "data", "--before", "30d"])
        .args(["--reason", "test"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(prune.stdout.take().unwrap()).lines();
    let mut said = Vec::new();
    let recorded_then = loop {
        let Some(line) = lines.next() else {
            panic!("no pass was said: {said:#?}");
        };
        let line = line.unwrap();
        let first_pass_done = line.contains("recorded as checkpoint #");
        said.push(line);
        if first_pass_done {
            break deletions(&store);
        }
    };
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(prune.wait().unwrap().success(), "{said:#?} {rest:#?}");
    assert_eq!(deletions(&store), 3, "three passes: {said:#?} {rest:#?}");
    assert!(
        recorded_then < 3,
        "the first pass was said only after the last was recorded: {said:#?}"
    );
}
