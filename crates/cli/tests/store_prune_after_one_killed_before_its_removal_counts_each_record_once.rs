//! A prune killed after its signed line and `.deleted-seqs.jsonl` and before it removed
//! the files (a `kill -9` of the server during retention, or of `auditrail store
//! prune`) leaves those files; the next prune removes them, as documented. But it
//! counted their records in `.deleted-seqs.jsonl` a second time (`records` is a sum),
//! and the server's `/v1/stats` `count` of the node's events stored stayed too high for
//! good: 21 for the 11 events it stored (found by a kill -9 chaos run with size
//! retention). Until that prune, every start counted the records left twice (as
//! deleted and as stored). Now the next prune lists only the records whose numbers are
//! not listed yet, and a start counts a record left in a recorded range whose number is
//! listed as deleted only. The kill is replaced here by its result: the partitions'
//! files put back after the prune.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use std::path::Path;

use retention_support::{post_day, prune, write_config};
use serve_support::{request, start};

/// The files of every partition folder of `day` (`YYYY/mm/dd`) under `store`: path and
/// bytes.
fn files_of_day(store: &Path, day: &str) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for topic in std::fs::read_dir(store).unwrap() {
        let folder = topic.unwrap().path().join("_none").join(day);
        if let Ok(files) = std::fs::read_dir(&folder) {
            for f in files {
                let path = f.unwrap().path();
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

/// Node `n1` in `/v1/stats`.
fn n1_stats(addr: &str) -> serde_json::Value {
    let (status, body) = request(addr, "GET", "/v1/stats", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    stats["nodes"]["n1"].clone()
}

#[test]
fn the_records_an_interrupted_prune_left_are_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let store = dir.path().join("data/store");
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2025-01-01", 10, 1);
    post_day(&server, "2025-01-05", 1, 2);
    assert_eq!(tamper_support::stop(server), 0);

    let left = files_of_day(&store, "2025/01/01");
    assert_eq!(left.len(), 2, "two partitions (two topics) that day");
    let (code, out) = prune(dir.path(), "2025-01-02", &[]);
    assert_eq!(code, 0, "{out}");
    // What a kill between the signed line and the removal leaves.
    for (path, bytes) in &left {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    // Meanwhile, a start counts the records left once (as deleted).
    let server = start(dir.path(), &["--config", "server.toml"]);
    let node = n1_stats(&server.addr);
    assert_eq!(
        node["count"], 11,
        "11 events stored, 10 of them deleted: {node}"
    );
    assert_eq!(tamper_support::stop(server), 0);

    let (code, out) = prune(dir.path(), "2025-01-02", &[]);
    assert_eq!(code, 0, "{out}");
    assert!(files_of_day(&store, "2025/01/01").is_empty(), "{out}");

    let listed = std::fs::read_to_string(store.join(".deleted-seqs.jsonl")).unwrap();
    let n1: serde_json::Value = serde_json::from_str(listed.lines().next().unwrap()).unwrap();
    assert_eq!(n1["node"], "n1", "{listed}");
    assert_eq!(
        n1["records"], 10,
        "each deleted record counted once: {listed}"
    );

    let server = start(dir.path(), &["--config", "server.toml"]);
    let node = n1_stats(&server.addr);
    assert_eq!(
        node["count"], 11,
        "11 events stored, 10 of them deleted: {node}"
    );
    assert_eq!(node["deleted"], 10, "{node}");
    assert_eq!(tamper_support::stop(server), 0);
}
