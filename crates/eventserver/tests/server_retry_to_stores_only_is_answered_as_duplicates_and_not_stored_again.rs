//! A server whose destinations are all stores answers a retry as duplicates, as ever:
//! a store shows it still holds each record (read back at its place), so nothing is
//! sent to it again (one record per event), and the answer carries the receipt of the
//! stored records. Only destinations that cannot show what they hold (a `file`
//! destination, another event server, Kafka) get a retried event again
//! (`server_retry_after_a_file_destinations_folder_was_removed_is_written_again.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_to_two_stores_is_answered_as_duplicates_with_one_record_each() {
    let two = format!(
        "{STORE}[[destinations]]\ntype = \"store\"\nname = \"second\"\npath = \"second\"\n"
    );
    let s = start(&two).await;
    let events = [event("n1", 1), event("n1", 2)];
    let (status, _, first) = post(&s, ndjson(&events), None).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["accepted"].as_u64(), Some(2), "{first}");

    let (status, _, again) = post(&s, ndjson(&events), None).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        (
            again["accepted"].as_u64(),
            again["duplicates"].as_u64(),
            again["durable"].as_bool()
        ),
        (Some(0), Some(2), Some(true)),
        "{again}"
    );
    assert_eq!(
        again["receipt"], first["receipt"],
        "the receipts of the stored records"
    );
    for store in [s.store(), s.dir.path().join("data/second")] {
        let ids = stored_ids(&store);
        for e in &events {
            assert_eq!(
                ids.get(e["id"].as_str().unwrap()).copied(),
                Some(1),
                "{}",
                store.display()
            );
        }
    }
    s.running.shutdown().await;
}
