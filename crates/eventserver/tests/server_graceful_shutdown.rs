//! Graceful shutdown: new connections are refused, a batch in flight is finished and
//! answered 200, and the destinations are shut down (fsynced) after it.

use crate::server_support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_batch_in_flight() {
    let g = gate("graceful");
    let s = start("[[destinations]]\ntype = \"gated\"\ngate = \"graceful\"\n").await;
    let url = s.url("/v1/events");
    let in_flight = {
        let (client, url) = (s.client.clone(), url.clone());
        let body = ndjson(&[event("n1", 1), event("n1", 2)]);
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
    assert!(
        eventually(Duration::from_secs(10), || g.waiting.load(Ordering::SeqCst)
            == 1)
        .await
    );
    let client = s.client.clone();
    let shutdown = tokio::spawn(s.running.shutdown());
    // Shutdown waits for the batch; new connections are refused meanwhile.
    let refused = async {
        for _ in 0..200 {
            if reqwest::Client::new()
                .get(url.replace("/v1/events", "/healthz"))
                .send()
                .await
                .is_err()
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    };
    assert!(
        refused.await,
        "the listener still accepts after shutdown started"
    );
    assert!(!shutdown.is_finished());
    g.permits.add_permits(10);
    let (status, body) = in_flight.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 2);
    let report = shutdown.await.unwrap();
    assert!(!report.connections_cut);
    assert!(report.destinations.is_clean(), "{:?}", report.destinations);
    assert_eq!(g.taken.lock().unwrap().len(), 2);
    drop(client);
}
