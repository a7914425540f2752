//! A server with a store, a `file` destination and another destination that cannot show
//! what it holds (the `gated` test destination, which holds each batch until the test
//! lets it go: a slow forward target). Identical batches handled at the same time (a
//! node whose request timed out sending it again while the first is still being
//! stored, or two retries racing) must hand the event to those destinations once: the
//! later request waits for the one in flight and is answered as its duplicate. Before,
//! the later one found the event stored once the first finished and sent it to the
//! `file` and forward destinations again: a second copy in each from one submission.
//! A retry that comes after the first was answered is still sent to them again (they
//! cannot show they still hold it: docs/eventserver.md, "Guarantees").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::server_support;

use server_support::*;

/// The server's config in `dir`: two batches at once at most (a third is answered
/// `429`, which tells the test that two are being handled), the destinations behind
/// gate `gate`.
async fn start_gated(gate: &str) -> Arc<TestServer> {
    Arc::new(
        start_with_file(&format!(
            "max_concurrent_batches = 2\n\
             [[destinations]]\ntype = \"store\"\npath = \"store\"\n\
             [[destinations]]\ntype = \"file\"\n\
             [[destinations]]\nname = \"forward\"\ntype = \"gated\"\ngate = \"{gate}\"\n"
        ))
        .await,
    )
}

/// Lines of the `file` destination's files that hold `id`.
fn file_lines_holding(s: &TestServer, id: &str) -> usize {
    lines_holding(&s.audit(), id)
}

/// Copies of `id` the gated destination took.
fn forwarded(g: &Gate, id: &str) -> usize {
    g.taken
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.id.to_string() == id)
        .count()
}

/// Posts `body` in a task, again while the server answers `429` (both batch slots
/// taken for a moment by the test's probe), as a node retries.
fn post_in_a_task(s: &Arc<TestServer>, body: String) -> tokio::task::JoinHandle<Value> {
    let s = s.clone();
    tokio::spawn(async move {
        loop {
            let (status, _, answer) = post(&s, body.clone(), None).await;
            if status != 429 {
                assert_eq!(status, 200, "{answer}");
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}

/// Waits until both batch slots are taken: a probe the server refuses at once after
/// taking a slot (its body is no JSON) is answered `429` instead of `400`. Then the
/// second batch is past its slot, and only its admission is left before it waits.
async fn both_slots_taken(s: &TestServer) {
    for _ in 0..1000 {
        let (status, _, answer) = post(s, "not json\n", None).await;
        if status == 429 {
            // From its slot to its wait the batch runs without waiting on anything.
            tokio::time::sleep(Duration::from_millis(300)).await;
            return;
        }
        assert_eq!(status, 400, "{answer}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the second batch never took its slot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_sent_while_the_first_is_stored_waits_and_is_its_duplicate() {
    let g = gate("retrycopies-in-flight");
    let s = start_gated("retrycopies-in-flight").await;
    let e = event("n1", 1);
    let id = e["id"].as_str().unwrap().to_owned();
    let body = ndjson(std::slice::from_ref(&e));

    let first = post_in_a_task(&s, body.clone());
    assert!(
        eventually(Duration::from_secs(10), || g.waiting.load(Ordering::SeqCst)
            == 1)
        .await,
        "the first batch waits in the forward destination"
    );
    let retry = post_in_a_task(&s, body);
    both_slots_taken(&s).await;
    g.permits.add_permits(10);

    let first = first.await.unwrap();
    let retry = retry.await.unwrap();
    assert_eq!(first["accepted"], 1, "{first}");
    assert_eq!(
        (retry["accepted"].as_u64(), retry["duplicates"].as_u64()),
        (Some(0), Some(1)),
        "the retry waited for the first: {retry}"
    );
    assert_eq!(stored_ids(&s.store()).get(&id).copied(), Some(1));
    assert_eq!(file_lines_holding(&s, &id), 1, "one copy in the file");
    assert_eq!(forwarded(&g, &id), 1, "one copy forwarded");
    Arc::into_inner(s).unwrap().running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_retries_at_once_send_it_again_once() {
    let g = gate("retrycopies-racing");
    let s = start_gated("retrycopies-racing").await;
    let e = event("n1", 1);
    let id = e["id"].as_str().unwrap().to_owned();
    let body = ndjson(std::slice::from_ref(&e));
    g.permits.add_permits(1);
    let (status, _, first) = post(&s, body.clone(), None).await;
    assert_eq!(status, 200, "{first}");

    // Two retries: the first sends it again and waits in the forward destination.
    let retry = post_in_a_task(&s, body.clone());
    assert!(
        eventually(Duration::from_secs(10), || g.waiting.load(Ordering::SeqCst)
            == 1)
        .await,
        "the first retry waits in the forward destination"
    );
    let other = post_in_a_task(&s, body);
    both_slots_taken(&s).await;
    g.permits.add_permits(10);

    let retry = retry.await.unwrap();
    let other = other.await.unwrap();
    assert_eq!(retry["accepted"], 1, "sent again: {retry}");
    assert_eq!(
        (other["accepted"].as_u64(), other["duplicates"].as_u64()),
        (Some(0), Some(1)),
        "the other retry waited for it: {other}"
    );
    assert_eq!(stored_ids(&s.store()).get(&id).copied(), Some(1));
    assert_eq!(
        file_lines_holding(&s, &id),
        2,
        "the first copy and the retry's"
    );
    assert_eq!(forwarded(&g, &id), 2, "the first copy and the retry's");
    Arc::into_inner(s).unwrap().running.shutdown().await;
}
