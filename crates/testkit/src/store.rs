//! Building events for store tests, opening a store, and reading a store back through
//! the store's own walker and reader ([`auditrail_store::StoreFiles`],
//! [`auditrail_store::SegmentReader`]), so tests read exactly what the store's rules
//! call a record.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_core::{Event, Received};
use auditrail_store::chain::{parse_line, verify_link, ChainLink};
use auditrail_store::{SegmentReader, StoreConfig, StoreFiles, StoreTarget};

/// An event with a fixed id derived from `n`, a padded message of about 300 bytes.
pub fn event(topic: &str, routing_key: Option<&str>, ts: &str, n: u64) -> Arc<Event> {
    let mut v = serde_json::json!({
        "id": format!("01930000-0000-7000-8000-{n:012x}"),
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
        kafka: None,
    }));
    Arc::new(e)
}

/// A store config: `{"path": "store"}` with the keys of `extra` set.
pub fn config(extra: serde_json::Value) -> StoreConfig {
    let mut v = serde_json::json!({"path": "store"});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    serde_json::from_value(v).unwrap()
}

/// Opens the store at `root` with [`config`]`(extra)`.
pub fn open(root: &Path, extra: serde_json::Value) -> StoreTarget {
    StoreTarget::open(root, &config(extra), "store").unwrap()
}

/// Every segment file under `root`, in chain order (by the number in its name).
pub fn segments(root: &Path) -> Vec<PathBuf> {
    StoreFiles::walk(root)
        .unwrap()
        .segments()
        .map(|f| f.path.clone())
        .collect()
}

/// Every record file under `root` (segments, and any other `*.jsonl` in its partition
/// folders), sorted by path.
pub fn record_files(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = StoreFiles::walk(root)
        .unwrap()
        .files
        .into_iter()
        .filter(|f| f.first_record().is_some() || f.name().ends_with(".jsonl"))
        .map(|f| f.path)
        .collect();
    out.sort();
    out
}

/// Every stored line (without `\n`) with its file, in chain order of the files. Panics
/// on a file that does not end with a newline.
pub fn lines(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for path in segments(root) {
        let torn = SegmentReader::open(&path)
            .unwrap()
            .for_each_line(|l| out.push((path.clone(), l.bytes.to_vec())))
            .unwrap();
        assert!(
            torn.is_none(),
            "{} does not end with a newline",
            path.display()
        );
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

/// The stored events (their `clientEvent`, as sent), read back from the files; panics
/// on a line that is not a record.
pub fn stored_events(root: &Path) -> Vec<Event> {
    lines(root)
        .iter()
        .map(|(p, l)| client_event(l).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}

/// Every record line of the store, as JSON; panics on a line that is not JSON.
pub fn records(root: &Path) -> Vec<serde_json::Value> {
    lines(root)
        .iter()
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
        .map(|(p, l)| {
            serde_json::from_slice(l).unwrap_or_else(|e| {
                panic!(
                    "corrupt line in {}: {e}: {:?}",
                    p.display(),
                    String::from_utf8_lossy(l)
                )
            })
        })
        .collect()
}

/// Ids of the stored events, with how many times each is stored; panics on a line
/// that is not a record.
pub fn stored_ids(root: &Path) -> HashMap<String, usize> {
    let mut ids = HashMap::new();
    for r in records(root) {
        *ids.entry(r["clientEvent"]["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    ids
}

/// Every record of the store that reads back as an event: (file, client event). Lines
/// that are not records, and a last line without its newline (a write in progress),
/// are skipped: for a store that is being written.
pub fn stored_in(root: &Path) -> Vec<(PathBuf, Event)> {
    let mut out = Vec::new();
    let Ok(files) = StoreFiles::walk(root) else {
        return out;
    };
    for f in files.segments() {
        let Ok(reader) = SegmentReader::open(&f.path) else {
            continue;
        };
        let _ = reader.for_each_line(|line| {
            if let Ok(e) = client_event(line.bytes) {
                out.push((f.path.clone(), e));
            }
        });
    }
    out
}

/// The `clientEvent` of a record line, without the receive information: of a line
/// that is a readable stored event only (the store's one judgment, which queries and
/// `auditrail verify` make). Built from the envelope's stored text ([`Record`], which
/// [`StoredEvent`] does not keep whole): tests compare it with the `Event` they sent.
///
/// [`Record`]: auditrail_store::Record
/// [`StoredEvent`]: auditrail_store::StoredEvent
fn client_event(line: &[u8]) -> Result<Event, String> {
    auditrail_store::StoredEvent::read(line).map_err(|e| e.to_string())?;
    let record = auditrail_store::Record::parse(line).map_err(|e| e.to_string())?;
    Event::from_json(record.client_event.get()).map_err(|e| e.to_string())
}

/// The attacker without the key: replaces `from` by `to` in record `seq` and
/// recomputes the chain of every record from genesis, so the chain alone still holds
/// (every file rewritten in place). Panics when record `seq` does not contain `from`.
pub fn rewrite_and_rechain(root: &Path, seq: u64, from: &str, to: &str) {
    let mut all: Vec<(u64, PathBuf, usize)> = Vec::new();
    let mut files: HashMap<PathBuf, Vec<Vec<u8>>> = HashMap::new();
    for (path, line) in lines(root) {
        let s = parse_line(&line).unwrap().link.seq;
        let lines = files.entry(path.clone()).or_default();
        all.push((s, path, lines.len()));
        lines.push(line);
    }
    all.sort();
    let mut chain = auditrail_store::chain::Chain::genesis();
    let mut found = false;
    for (s, path, i) in all {
        let line = files[&path][i].clone();
        let mut body = parse_line(&line).unwrap().body.to_vec();
        if s == seq {
            let text = String::from_utf8(body).unwrap();
            assert!(text.contains(from), "record {seq} has no {from:?}");
            body = text.replacen(from, to, 1).into_bytes();
            found = true;
        }
        let mut out = Vec::new();
        chain.seal(&body, &mut out);
        out.pop(); // the newline
        files.get_mut(&path).unwrap()[i] = out;
    }
    assert!(found, "no record {seq}");
    for (path, lines) in files {
        let bytes: Vec<u8> = lines
            .into_iter()
            .flat_map(|mut l| {
                l.push(b'\n');
                l
            })
            .collect();
        std::fs::write(path, bytes).unwrap();
    }
}

/// The attacker's rollback: keeps the records numbered up to `last` (and the files
/// that still hold any), removes the rest.
pub fn keep_records_upto(root: &Path, last: u64) {
    let mut files: HashMap<PathBuf, Vec<u8>> = HashMap::new();
    for path in segments(root) {
        files.insert(path, Vec::new());
    }
    for (path, line) in lines(root) {
        if parse_line(&line).unwrap().link.seq <= last {
            let out = files.get_mut(&path).unwrap();
            out.extend_from_slice(&line);
            out.push(b'\n');
        }
    }
    for (path, bytes) in files {
        if bytes.is_empty() {
            std::fs::remove_file(path).unwrap();
        } else {
            std::fs::write(path, bytes).unwrap();
        }
    }
}

/// The attacker without the key (or a crash between a batch's fsync and its seal):
/// appends a record after the store's last one, chained correctly to it, in the file
/// holding that last record. Its body is the last record's, changed by `edit`.
/// Returns that file and the new record's chainSeq.
pub fn append_chained(root: &Path, edit: impl FnOnce(&str) -> String) -> (PathBuf, u64) {
    let (path, line) = lines(root)
        .into_iter()
        .max_by_key(|(_, l)| parse_line(l).unwrap().link.seq)
        .expect("the store has a record");
    let last = parse_line(&line).unwrap();
    let body = edit(std::str::from_utf8(last.body).unwrap());
    let mut out = Vec::new();
    let link = auditrail_store::chain::Chain::resume(last.link).seal(body.as_bytes(), &mut out);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut file, &out).unwrap();
    file.sync_all().unwrap();
    (path, link.seq)
}
