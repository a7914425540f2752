//! Test fixtures: events, and store folders written in the store's documented layout
//! (docs/store.md) with the store's record envelope.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

/// An event in its wire form.
pub fn event(node: &str, seq: u64, ts: &str, topic: &str, key: Option<&str>, message: Value) -> Value {
    let mut e = json!({
        "id": id(node, seq),
        "timestamp": ts, "topic": topic, "node": node, "seq": seq, "message": message
    });
    if let Some(k) = key {
        e["routingKey"] = json!(k);
    }
    e
}

/// A stable UUID per (node, seq), so the same event written to two stores has one id.
pub fn id(node: &str, seq: u64) -> String {
    let h = node.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    format!("01936f6e-{:04x}-7d3e-8f40-{seq:012x}", h & 0xffff)
}

/// Writes stores in the hour layout `<topic>/<routing-key>/YYYY/mm/dd/HH/<n>.jsonl`.
pub struct Store {
    pub root: PathBuf,
    chain: u64,
    partitions: BTreeMap<PathBuf, PathBuf>,
}

impl Store {
    pub fn new(root: &Path) -> Store {
        fs::create_dir_all(root).unwrap();
        fs::write(root.join("store-id"), "0193-test-store\n").unwrap();
        Store {
            root: root.to_path_buf(),
            chain: 0,
            partitions: BTreeMap::new(),
        }
    }

    /// Appends `event` as a record to its partition's segment.
    pub fn put(&mut self, event: &Value) {
        self.chain += 1;
        let ts = event["timestamp"].as_str().unwrap();
        let folder = PathBuf::from(event["topic"].as_str().unwrap())
            .join(event["routingKey"].as_str().unwrap_or("_none"))
            .join(&ts[0..4])
            .join(&ts[5..7])
            .join(&ts[8..10])
            .join(&ts[11..13]);
        let chain = self.chain;
        let file = self
            .partitions
            .entry(folder.clone())
            .or_insert_with(|| folder.join(format!("{chain:020}.jsonl")))
            .clone();
        let path = self.root.join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let record = json!({
            "clientEvent": event, "origAddress": "127.0.0.1",
            "serverTimestamp": ts, "keyId": null,
            "chainSeq": chain, "chainHash": "0".repeat(64)
        });
        let mut f = fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
        writeln!(f, "{record}").unwrap();
    }

    /// Segment files written.
    pub fn files(&self) -> usize {
        self.partitions.len()
    }

    /// Segment files whose hour folder starts with `prefix` (`2026/11/29`).
    pub fn files_in(&self, prefix: &str) -> usize {
        self.partitions
            .keys()
            .filter(|p| {
                let s = p.to_string_lossy();
                s.split('/').skip(2).collect::<Vec<_>>().join("/").starts_with(prefix)
            })
            .count()
    }
}

/// Runs a future on a fresh runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}
