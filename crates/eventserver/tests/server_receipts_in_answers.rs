//! The 200 answer of `POST /v1/events` carries a signed receipt: over the events this
//! request stored (one object with one chained store), over the stored originals for
//! an all-duplicates batch, and an array of one receipt per store with several stores.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use auditrail_integrity::{PublicKey, Receipt};
use server_support::*;

fn receipt(v: &serde_json::Value) -> Receipt {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_store_answers_one_signed_receipt_covering_the_batch() {
    let s = start(STORE).await;
    let key = PublicKey::read_file(&s.dir.path().join("data/signing.pub")).unwrap();
    let store_id = std::fs::read_to_string(s.store().join("store-id")).unwrap();

    let first: Vec<_> = (1..=3).map(|i| event("n1", i)).collect();
    let (status, _, body) = post(&s, ndjson(&first), None).await;
    assert_eq!(status, 200, "{body}");
    let r1 = receipt(&body["receipt"]);
    assert_eq!(r1.store_id, store_id.trim());
    assert_eq!((r1.first_seq, r1.last_seq), (1, 3), "{body}");
    assert_eq!(r1.signature_valid(&key), Some(true));

    let second: Vec<_> = (4..=5).map(|i| event("n1", i)).collect();
    let (status, _, body) = post(&s, ndjson(&second), None).await;
    assert_eq!(status, 200, "{body}");
    let r2 = receipt(&body["receipt"]);
    assert_eq!((r2.first_seq, r2.last_seq), (4, 5), "{body}");

    // Sent again: nothing new is stored, the receipt vouches for the originals.
    let (status, _, body) = post(&s, ndjson(&first), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["duplicates"], 3, "{body}");
    assert_eq!(receipt(&body["receipt"]), r1);
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_stores_answer_an_array_of_the_stores_that_took_the_batch() {
    let config = "[[destinations]]\ntype = \"store\"\nname = \"all\"\npath = \"all\"\n\
                  [[destinations]]\ntype = \"store\"\nname = \"logins\"\npath = \"logins\"\n\
                  topics = [\"login\"]\n";
    let s = start(config).await;
    let all_id = std::fs::read_to_string(s.dir.path().join("data/all/store-id")).unwrap();
    let logins_id = std::fs::read_to_string(s.dir.path().join("data/logins/store-id")).unwrap();
    assert_ne!(all_id, logins_id);

    let both = vec![event_with("n1", 1, "login", None), event("n1", 2)];
    let (status, _, body) = post(&s, ndjson(&both), None).await;
    assert_eq!(status, 200, "{body}");
    let list = body["receipt"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{body}");
    let (a, l) = (receipt(&list[0]), receipt(&list[1]));
    assert_eq!(a.store_id, all_id.trim());
    assert_eq!((a.first_seq, a.last_seq), (1, 2));
    assert_eq!(l.store_id, logins_id.trim());
    assert_eq!((l.first_seq, l.last_seq), (1, 1));

    // Only the first store takes this one: only its receipt is listed.
    let (status, _, body) = post(&s, ndjson(&[event("n1", 3)]), None).await;
    assert_eq!(status, 200, "{body}");
    let list = body["receipt"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{body}");
    assert_eq!(receipt(&list[0]).store_id, all_id.trim());
    s.running.shutdown().await;
}
