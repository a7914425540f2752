//! Test fixtures: events, stores written by the store's own writer, audit files, and a
//! query whose files change between its listing and its reading.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_core::Event;
use auditrail_store::StoreFiles;

use auditrail_query::datafusion::arrow::array::{Array, UInt64Array};
use auditrail_query::Engine;
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

    /// A store at `root` holding one event (node `n1`, seq 1, a `generic` login): for
    /// the tests of what the engine refuses, whatever the data.
    pub(crate) fn with_one_login(root: &Path) -> Store {
        let mut store = Store::new(root);
        store.put(&event(
            "n1",
            1,
            "2026-12-05T10:00:00.000Z",
            "generic",
            None,
            json!({"msgType": "login"}),
        ));
        store.write();
        store
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

/// Writes `seqs` as the audit lines the file target writes (`severity`, `logger`, then
/// the event's fields).
pub(crate) fn write_audit_file(path: &Path, seqs: std::ops::Range<u64>) {
    let text: String = seqs
        .map(|seq| {
            let mut line = json!({"severity": "INFO", "logger": "audit.generic"});
            let e = event(
                "node-1",
                seq,
                "2026-12-05T10:00:00.000Z",
                "generic",
                None,
                json!({"msgType": "login", "authUser": format!("u{seq}")}),
            );
            line.as_object_mut()
                .unwrap()
                .extend(e.as_object().unwrap().clone());
            format!("{line}\n")
        })
        .collect();
    fs::write(path, text).unwrap();
}

/// The `seq` of every event of the audit folder `dir`, as a query answers when
/// `meanwhile` runs after the folder was listed and before its files are read.
pub(crate) fn seqs_read(dir: &Path, meanwhile: impl FnOnce()) -> Vec<u64> {
    seqs_read_by(
        &Engine::builder().audit_dir(dir).build().unwrap(),
        meanwhile,
    )
}

/// [`seqs_read`] through `engine`, whose stats then tell what its scan met.
pub(crate) fn seqs_read_by(engine: &Engine, meanwhile: impl FnOnce()) -> Vec<u64> {
    block_on(async {
        let df = engine
            .sql("SELECT seq FROM events ORDER BY seq")
            .await
            .unwrap();
        let task = df.task_ctx();
        // Planning lists the folder; the files are read when the plan runs.
        let plan = df.create_physical_plan().await.unwrap();
        meanwhile();
        let batches = auditrail_query::datafusion::physical_plan::collect(plan, task.into())
            .await
            .unwrap();
        batches
            .iter()
            .flat_map(|b| {
                let c = b.column(0).as_any().downcast_ref::<UInt64Array>().unwrap();
                (0..c.len()).map(|i| c.value(i)).collect::<Vec<_>>()
            })
            .collect()
    })
}
