//! Overload answers 429 and a destination slower than `ack_timeout_ms` answers 503,
//! both with `Retry-After`; a retry after a timed-out answer is not stored twice in a
//! store. The `gated` destination is no store: it cannot show the server it still holds
//! what it took, so a retry of events it took is sent to it again (`accepted`, never
//! answered as duplicates on the server's memory alone: docs/eventserver.md,
//! "Guarantees"); a request that waited for another carrying the same event is its
//! duplicate there too, as it took the event from that one meanwhile.

use crate::server_support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_beyond_the_concurrency_limit_get_429_with_retry_after() {
    let g = gate("overload");
    let s = start(
        "max_concurrent_batches = 1\n[[destinations]]\ntype = \"gated\"\ngate = \"overload\"\n",
    )
    .await;
    let first = {
        let (client, url) = (s.client.clone(), s.url("/v1/events"));
        let body = ndjson(&[event("n1", 1)]);
        tokio::spawn(async move {
            client
                .post(url)
                .header("content-type", "application/x-ndjson")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    // The first batch now holds the only slot, waiting in the destination.
    assert!(
        eventually(Duration::from_secs(10), || g.waiting.load(Ordering::SeqCst)
            == 1)
        .await
    );
    let (status, headers, body) = post(&s, ndjson(&[event("n1", 2)]), None).await;
    assert_eq!(status, 429);
    assert_eq!(body["error"], "overloaded");
    assert_eq!(headers["retry-after"], "1");
    g.permits.add_permits(1);
    assert_eq!(first.await.unwrap(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_destinations_get_503_and_the_retry_is_sent_again_not_answered_as_duplicates() {
    let g = gate("slow");
    let s =
        start("ack_timeout_ms = 300\n[[destinations]]\ntype = \"gated\"\ngate = \"slow\"\n").await;
    let batch = ndjson(&[event("n1", 1), event("n1", 2)]);
    let (status, headers, body) = post(&s, batch.clone(), None).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "ack_timeout");
    assert!(headers.contains_key("retry-after"));
    // The destination takes the batch late; it cannot show it holds it, so the client's
    // retry is sent to it again (at-least-once there), never answered as duplicates.
    g.permits.add_permits(10);
    assert!(
        eventually(Duration::from_secs(10), || g.taken.lock().unwrap().len()
            == 2)
        .await
    );
    let (status, _, body) = post(&s, batch, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 2, "{body}");
    assert_eq!(body["duplicates"], 0, "{body}");
    assert_eq!(g.taken.lock().unwrap().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_in_two_concurrent_requests_is_stored_once() {
    let g = gate("concurrent-same-id");
    // A store, which shows it holds the event, and the gated destination, which cannot.
    let s = start(&format!(
        "{STORE}[[destinations]]\ntype = \"gated\"\ngate = \"concurrent-same-id\"\n"
    ))
    .await;
    let e = event("n1", 1);
    let batch = ndjson(std::slice::from_ref(&e));
    let send = |body: String| {
        let (client, url) = (s.client.clone(), s.url("/v1/events"));
        tokio::spawn(async move {
            let r = client
                .post(url)
                .header("content-type", "application/x-ndjson")
                .body(body)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<serde_json::Value>().await.unwrap(),
            )
        })
    };
    let a = send(batch.clone());
    assert!(
        eventually(Duration::from_secs(10), || g.waiting.load(Ordering::SeqCst)
            == 1)
        .await
    );
    let b = send(batch);
    // The second request waits for the first instead of answering before it is durable.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!b.is_finished(), "answered before the event was durable");
    g.permits.add_permits(10);
    let (sa, ba) = a.await.unwrap();
    let (sb, bb) = b.await.unwrap();
    assert_eq!((sa, sb), (200, 200));
    assert_eq!(ba["accepted"], 1, "{ba}");
    // Stored once in the store; the gated destination, which cannot show it holds it,
    // took it from the first request while the second waited for it: the second is its
    // duplicate there too (a retry after the answer would be sent to it again).
    assert_eq!(
        (bb["accepted"].as_u64(), bb["duplicates"].as_u64()),
        (Some(0), Some(1)),
        "{bb}"
    );
    assert_eq!(
        stored_ids(&s.store())
            .get(e["id"].as_str().unwrap())
            .copied(),
        Some(1)
    );
    assert_eq!(g.taken.lock().unwrap().len(), 1);
}
