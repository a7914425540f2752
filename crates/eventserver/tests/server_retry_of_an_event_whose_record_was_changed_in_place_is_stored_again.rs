//! A stored record is changed in place (the segment rewritten with the same inode and
//! length: `amount` 100 becomes 900), then the node sends its batch again (the normal
//! retry of a batch whose answer it never got). That retry used to be answered `200`
//! as a duplicate, with a receipt for the changed record, so the node forgot the only
//! intact copy of the event. Now the record is read back at its place before an event
//! is called its duplicate: a changed one is no record of the event, which is stored
//! again (as for a record gone: `recordsGone`), while the batch's intact records are
//! still duplicates. Also after a restart (the places are read back at start).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::FileExt;
use std::path::Path;

use serde_json::Value;

use crate::server_support;

use server_support::*;

/// A batch of three payments of `node`, fresh ids.
fn batch(node: &str) -> Vec<Value> {
    (1..=3)
        .map(|seq| {
            let mut e = event(node, seq);
            e["message"] = serde_json::json!({"msgType": "payment", "amount": 100 + seq});
            e
        })
        .collect()
}

/// Rewrites the amount of event `e`'s record in place, same inode, same length.
fn change_in_place(store: &Path, e: &Value) {
    let id = e["id"].as_str().unwrap();
    let files = auditrail_store::StoreFiles::walk(store).unwrap();
    for f in files.segments() {
        let text = std::fs::read(&f.path).unwrap();
        let Some(line_at) = find(&text, id.as_bytes()) else {
            continue;
        };
        let amount = format!("\"amount\":{}", e["message"]["amount"]);
        let at = line_at + find(&text[line_at..], amount.as_bytes()).unwrap();
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&f.path)
            .unwrap();
        // 10x -> 90x.
        file.write_all_at(b"9", (at + amount.len() - 3) as u64)
            .unwrap();
        return;
    }
    panic!("no segment holds {id}");
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
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

/// Sends `events` again after the record of `events[1]` was changed: it alone is
/// stored again, the others are duplicates with a receipt.
async fn retry_stores_the_changed_one_again(s: &TestServer, events: &[Value], what: &str) {
    let (status, _, body) = post(s, ndjson(events), None).await;
    assert_eq!(status, 200, "{what}: {body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(1), Some(2)),
        "{what}: the changed record is no copy of the event: {body}"
    );
    assert!(body["receipt"].is_object(), "{what}: {body}");
    let ids = stored_ids(&s.store());
    assert_eq!(ids[events[1]["id"].as_str().unwrap()], 2, "{what}");
    let intact = stored_records(&s.store())
        .into_iter()
        .filter(|r| r["clientEvent"]["id"] == events[1]["id"])
        .filter(|r| r["clientEvent"]["message"] == events[1]["message"])
        .count();
    assert_eq!(intact, 1, "{what}: the event sent is stored as sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_of_an_event_whose_record_was_changed_in_place_is_stored_again() {
    let s = start(STORE).await;
    let first = batch("n-changed");
    let (status, _, body) = post(&s, ndjson(&first), None).await;
    assert_eq!(status, 200, "{body}");
    change_in_place(&s.store(), &first[1]);
    retry_stores_the_changed_one_again(&s, &first, "changed while running").await;
    assert_eq!(records_gone(&s).await, 1);

    // After a restart: the record's place is read back from the store.
    let late = batch("n-late");
    let (status, _, body) = post(&s, ndjson(&late), None).await;
    assert_eq!(status, 200, "{body}");
    let dir = s.dir;
    s.running.shutdown().await;
    let config = config_from(dir.path(), STORE);
    let s = start_with(dir, config).await;
    change_in_place(&s.store(), &late[1]);
    retry_stores_the_changed_one_again(&s, &late, "changed before a restart").await;
    assert_eq!(records_gone(&s).await, 1);
    s.running.shutdown().await;
}
