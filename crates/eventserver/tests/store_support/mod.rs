//! Helpers shared by the `store_*` integration tests: events, opening a store, and
//! reading the real files back.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_core::{Event, Received};
use auditrail_eventserver::integrity::chain::{parse_line, verify_link, ChainLink};
use auditrail_eventserver::store::{parse_segment_file_name, StoreConfig, StoreTarget};

/// An event with a fixed id derived from `n`, a padded message of about 300 bytes.
pub fn event(topic: &str, routing_key: Option<&str>, ts: &str, n: u64) -> Arc<Event> {
    let mut v = serde_json::json!({
        "id": uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 + u128::from(n)).hyphenated().to_string(),
        "timestamp": ts,
        "topic": topic,
        "node": "node-1",
        "seq": n,
        "message": {"msgType": "login", "authUser": format!("user-{n}"), "pad": "x".repeat(150)}
    });
    if let Some(k) = routing_key {
        v["routingKey"] = k.into();
    }
    Arc::new(Event::from_json(&v.to_string()).unwrap())
}

/// `count` events numbered from `first`, all in one partition.
pub fn events(first: u64, count: u64) -> Vec<Arc<Event>> {
    (first..first + count)
        .map(|n| event("generic", Some("svc-a"), "2026-11-25T16:55:49.123Z", n))
        .collect()
}

/// Adds receive information to an event.
pub fn received(e: &Arc<Event>, ip: &str, key: &str) -> Arc<Event> {
    let mut e = (**e).clone();
    e.received = Some(Arc::new(Received {
        orig_address: Some(ip.parse().unwrap()),
        key_id: Some(key.into()),
        server_timestamp: "2026-11-25T17:00:00.000Z".parse().unwrap(),
    }));
    Arc::new(e)
}

pub fn config(extra: serde_json::Value) -> StoreConfig {
    let mut v = serde_json::json!({"path": "store"});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    serde_json::from_value(v).unwrap()
}

pub fn open(root: &Path, extra: serde_json::Value) -> StoreTarget {
    StoreTarget::open(root, &config(extra), "store").unwrap()
}

/// Every segment file under `root`, sorted by name.
pub fn segments(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else if e
                .file_name()
                .to_str()
                .and_then(parse_segment_file_name)
                .is_some()
            {
                out.push(e.path());
            }
        }
    }
    out.sort_by_key(|p| p.file_name().unwrap().to_owned());
    out
}

/// Every stored line (without `\n`) with its file, in file order. Panics on a file
/// that does not end with a newline.
pub fn lines(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for path in segments(root) {
        let data = std::fs::read(&path).unwrap();
        assert!(
            data.ends_with(b"\n"),
            "{} does not end with a newline",
            path.display()
        );
        for line in data[..data.len() - 1].split(|b| *b == b'\n') {
            out.push((path.clone(), line.to_vec()));
        }
    }
    out
}

/// Checks every record of the store with `verify_link`, in chain order from genesis;
/// returns the last link.
pub fn verify_chain(root: &Path) -> ChainLink {
    let all = lines(root);
    let mut parsed: Vec<_> = all
        .iter()
        .map(|(p, l)| (p, parse_line(l).unwrap()))
        .collect();
    parsed.sort_by_key(|(_, s)| s.link.seq);
    let mut prev = ChainLink::GENESIS;
    for (path, line) in &parsed {
        assert!(
            verify_link(&prev, line),
            "chain broken at record {} in {}",
            line.link.seq,
            path.display()
        );
        prev = line.link;
    }
    prev
}

/// The stored events, read back from the files.
pub fn stored_events(root: &Path) -> Vec<Event> {
    lines(root)
        .iter()
        .map(|(_, l)| {
            let v: serde_json::Value = serde_json::from_slice(l).unwrap();
            Event::from_json(&v["clientEvent"].to_string()).unwrap()
        })
        .collect()
}
