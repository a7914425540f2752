//! Two stores take every event; one of store `b`'s topic folders is a symbolic link
//! (moved to another disk), so `b` refuses those events for now and the batch is
//! answered `503 refused_for_now`, while store `a` wrote it. The node retries until
//! the folder is fixed. Each retry was written to `a` again: after three refused tries
//! and the one taken, `a` held four records of each event (crash67/03), and
//! `auditrail prove --event-id` refused them. Now a retry is written only to the
//! stores that lack the event: one record in each.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;

pub(crate) const TWO_STORES: &str =
    "[[destinations]]\ntype = \"store\"\nname = \"a\"\npath = \"a\"\n\
     [[destinations]]\ntype = \"store\"\nname = \"b\"\npath = \"b\"\n";

/// Makes store `b`'s folder of topic `other` a symbolic link under `s`'s folder
/// (`b` refuses the topic's events for now); returns the link.
pub(crate) async fn link_bs_folder_elsewhere(s: &TestServer) -> std::path::PathBuf {
    // A first batch: both stores have their folders.
    let (status, _, body) = post(s, ndjson(&[event("n1", 1)]), None).await;
    assert_eq!(status, 200, "{body}");
    let elsewhere = s.dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let link = s.dir.path().join("data/b/other");
    std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
    link
}

/// Asserts each store of `s`'s data folder holds one record of each of `events`.
pub(crate) fn one_record_in_each_store(s: &TestServer, events: &[serde_json::Value], when: &str) {
    for store in ["a", "b"] {
        let ids = stored_ids(&s.dir.path().join("data").join(store));
        for e in events {
            let id = e["id"].as_str().unwrap();
            assert_eq!(
                ids.get(id).copied(),
                Some(1),
                "{when}: store {store} holds one record of {id}: {ids:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_refused_for_now_by_one_store_are_not_written_again_to_the_other() {
    let s = start(TWO_STORES).await;
    let link = link_bs_folder_elsewhere(&s).await;
    let batch: Vec<_> = (1..=3)
        .map(|seq| event_with("n2", seq, "other", None))
        .collect();
    for attempt in 1..=3 {
        let (status, _, body) = post(&s, ndjson(&batch), None).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (503, Some("refused_for_now")),
            "try {attempt}: {body}"
        );
        let a = stored_ids(&s.dir.path().join("data/a"));
        for e in &batch {
            let id = e["id"].as_str().unwrap();
            assert_eq!(a.get(id).copied(), Some(1), "try {attempt}: store a: {a:?}");
        }
    }
    // The operator puts the folder back; the node's next retry is taken.
    std::fs::remove_file(&link).unwrap();
    let (status, _, body) = post(&s, ndjson(&batch), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"].as_u64(), Some(3), "{body}");
    one_record_in_each_store(&s, &batch, "after the retry taken");

    // Sent again once more: duplicates, nothing written.
    let (status, _, body) = post(&s, ndjson(&batch), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(0), Some(3)),
        "{body}"
    );
    one_record_in_each_store(&s, &batch, "after a retry of the answered batch");
    let stats = get_json(&s, "/v1/stats").await;
    assert_eq!(stats["nodes"]["n2"]["count"].as_u64(), Some(3), "{stats}");
    s.running.shutdown().await;
}
