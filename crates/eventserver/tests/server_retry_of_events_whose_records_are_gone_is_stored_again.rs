//! A batch is stored, then its records leave the store by hand while the server runs
//! (the partition folder removed, the segment file cut): the same batch sent again is
//! stored again (`accepted`), never answered `200` as duplicates of records that are no
//! longer there (with a receipt for them), which the node would take as "stored" and
//! forget. Also after a restart (the store's record places are read back at start).
//! Each loss is counted (`recordsGone` of the store in `/v1/stats`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::server_support;

use server_support::*;

/// The batch of `n` events of `node` on `day` (fresh ids).
fn batch(node: &str, day: &str, n: u64) -> Vec<Value> {
    (1..=n)
        .map(|seq| at(event(node, seq), &format!("{day}T10:00:00Z")))
        .collect()
}

/// The segment file holding the stored event `id`.
fn segment_of(store: &Path, id: &str) -> PathBuf {
    let files = auditrail_store::StoreFiles::walk(store).unwrap();
    let found = files
        .segments()
        .find(|f| std::fs::read_to_string(&f.path).unwrap().contains(id))
        .unwrap_or_else(|| panic!("no segment holds {id}"))
        .path
        .clone();
    found
}

/// How many records of the store hold each event of `events`.
fn copies(store: &Path, events: &[Value]) -> Vec<usize> {
    let ids = stored_ids(store);
    events
        .iter()
        .map(|e| ids.get(e["id"].as_str().unwrap()).copied().unwrap_or(0))
        .collect()
}

async fn records_gone(s: &TestServer) -> Value {
    let stats: Value = get_json(s, "/v1/stats").await;
    stats["stores"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()["recordsGone"]
        .clone()
}

/// Posts `events` again and expects them stored again, one record each besides the
/// ones still there (`before`), with a receipt past `after_seq`.
async fn sent_again_is_stored(s: &TestServer, events: &[Value], what: &str) {
    let (status, _, body) = post(s, ndjson(events), None).await;
    assert_eq!(status, 200, "{what}: {body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(events.len() as u64), Some(0)),
        "{what}: the records are gone, the events must be stored again: {body}"
    );
    assert_eq!(
        copies(&s.store(), events),
        vec![1; events.len()],
        "{what}: each stored again once"
    );
    // Sent once more: now they are duplicates of the records just written.
    let (status, _, body) = post(s, ndjson(events), None).await;
    assert_eq!(status, 200, "{what}: {body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(0), Some(events.len() as u64)),
        "{what}: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_of_events_whose_records_were_removed_or_cut_is_stored_again() {
    let s = start(STORE).await;
    let removed = batch("n1", "2026-12-01", 5);
    let kept = batch("n2", "2026-12-02", 3);
    for b in [&removed, &kept] {
        let (status, _, body) = post(&s, ndjson(b), None).await;
        assert_eq!(status, 200, "{body}");
    }

    // The partition folder is removed by hand.
    let segment = segment_of(&s.store(), removed[0]["id"].as_str().unwrap());
    std::fs::remove_dir_all(segment.parent().unwrap()).unwrap();
    sent_again_is_stored(&s, &removed, "partition folder removed").await;
    assert_eq!(records_gone(&s).await, 5);

    // The other day's events are still there: duplicates, with their receipt.
    let (status, _, body) = post(&s, ndjson(&kept), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["duplicates"].as_u64(), Some(3), "{body}");
    assert!(body["receipt"].is_object(), "{body}");

    // The segment file is cut before the events' records (`: > file`).
    let cut = batch("n3", "2026-12-03", 2);
    let (status, _, body) = post(&s, ndjson(&cut), None).await;
    assert_eq!(status, 200, "{body}");
    let segment = segment_of(&s.store(), cut[0]["id"].as_str().unwrap());
    std::fs::File::create(&segment).unwrap();
    sent_again_is_stored(&s, &cut, "segment file cut").await;
    assert_eq!(records_gone(&s).await, 7);

    // After a restart: the store knows again where it put its last records.
    let late = batch("n4", "2026-12-04", 4);
    let (status, _, body) = post(&s, ndjson(&late), None).await;
    assert_eq!(status, 200, "{body}");
    let dir = s.dir;
    s.running.shutdown().await;
    let config = config_from(dir.path(), STORE);
    let s = start_with(dir, config).await;
    let segment = segment_of(&s.store(), late[0]["id"].as_str().unwrap());
    std::fs::remove_dir_all(segment.parent().unwrap()).unwrap();
    sent_again_is_stored(&s, &late, "partition folder removed after a restart").await;
    assert_eq!(records_gone(&s).await, 4);
    s.running.shutdown().await;
}
