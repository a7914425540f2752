//! Test fixtures: events, and stores written by the store's own writer.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_core::Event;
use auditrail_store::StoreFiles;

use serde_json::{json, Value};

/// An event in its wire form.
pub(crate) fn event(
    node: &str,
    seq: u64,
    ts: &str,
    topic: &str,
    key: Option<&str>,
    message: Value,
) -> Value {
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
pub(crate) fn id(node: &str, seq: u64) -> String {
    let h = node
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    format!("01936f6e-{:04x}-7d3e-8f40-{seq:012x}", h & 0xffff)
}

/// A store written by the store's own writer (default layout: topic, routing key, hour).
pub(crate) struct Store {
    pub root: PathBuf,
    events: Vec<Arc<Event>>,
}

impl Store {
    pub(crate) fn new(root: &Path) -> Store {
        fs::create_dir_all(root).unwrap();
        Store {
            root: root.to_path_buf(),
            events: Vec::new(),
        }
    }

    /// Queues `event` (written by [`Store::write`]).
    pub(crate) fn put(&mut self, event: &Value) {
        self.events
            .push(Arc::new(Event::from_json(&event.to_string()).unwrap()));
    }

    /// Writes the queued events as one batch, through the store's writer.
    pub(crate) fn write(&mut self) {
        let target = auditrail_testkit::store::open(&self.root, json!({}));
        target
            .send_blocking(&std::mem::take(&mut self.events))
            .unwrap();
    }

    /// Segment files.
    pub(crate) fn files(&self) -> usize {
        auditrail_testkit::store::segments(&self.root).len()
    }

    /// Segment files whose time folders start with `prefix` (`2026/11/29`).
    pub(crate) fn files_in(&self, prefix: &str) -> usize {
        StoreFiles::walk(&self.root)
            .unwrap()
            .segments()
            .filter(|f| {
                let folders: Vec<&str> = f.rel.split('/').collect();
                folders[2..folders.len() - 1].join("/").starts_with(prefix)
            })
            .count()
    }
}

/// Runs a future on a fresh runtime.
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}
