//! `/readyz` promises `200` only when a batch sent now can be stored (docs/protocol.md).
//! With the store's checkpoint log moved aside (a careless log rotation), every batch
//! is answered `503 unsealed`, yet `/readyz` answered `200 ready`: a load balancer kept
//! sending every node to this server and the "not ready" alert never fired. Now it is
//! `503 not_ready` (`unsealed`, naming the destination, not a path) while the log is
//! away, before any batch fails, and ready again once it is back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;

const CONFIG: &str =
    "ack_timeout_ms = 1500\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n";

async fn readyz(s: &TestServer) -> (u16, serde_json::Value) {
    let r = s.client.get(s.url("/readyz")).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_says_not_ready_while_the_checkpoint_log_is_moved_away() {
    let s = start(CONFIG).await;
    let (status, _, answer) = post(&s, ndjson(&[event("n1", 1)]), None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        readyz(&s).await,
        (200, serde_json::json!({"status": "ready"}))
    );

    let log = s.store().join("checkpoints.jsonl");
    let aside = s.store().join("checkpoints.jsonl.1");
    std::fs::rename(&log, &aside).unwrap();
    let (status, body) = readyz(&s).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not_ready", "{body}");
    assert_eq!(body["reason"], "unsealed", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("store destination \""), "{message}");
    assert!(
        !message.contains(&*s.store().to_string_lossy()),
        "a path: {message}"
    );
    // As the readiness said: a batch sent now is not acknowledged.
    let (status, _, answer) = post(&s, ndjson(&[event("n1", 2)]), None).await;
    assert_eq!(status, 503, "{answer}");

    std::fs::rename(&aside, &log).unwrap();
    // The failed seal is retried within a second; ready once it is sealed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (status, body) = readyz(&s).await;
        if status == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still not ready: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (status, _, answer) = post(&s, ndjson(&[event("n1", 2)]), None).await;
    assert_eq!(status, 200, "{answer}");
}
