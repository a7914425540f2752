//! The read endpoints: `/v1/recent` (newest first, limit), `/v1/stats` (per node and
//! topic, gaps, duplicates), `/metrics` (Prometheus text), `/healthz`, `/readyz`, and
//! their stats key when `require_auth_for_stats` is set.

use crate::server_support;

use server_support::*;

const STATS_AUTH: &str =
    "require_auth_for_stats = true\n[[stats_keys]]\nid = \"ops\"\nsecret = \"ops-secret\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recent_is_newest_first_and_stats_report_gaps_and_duplicates() {
    let s = start(STORE).await;
    // seq 3 is missing: a gap.
    let events = [event("n1", 1), event("n1", 2), event("n1", 4)];
    assert_eq!(post(&s, ndjson(&events), None).await.0, 200);
    assert_eq!(post(&s, ndjson(&events[..1]), None).await.0, 200);

    let recent: serde_json::Value = get_json(&s, "/v1/recent?limit=2").await;
    assert_eq!(recent["count"], 2);
    assert_eq!(recent["events"][0]["clientEvent"]["seq"], 4);
    assert_eq!(recent["events"][1]["clientEvent"]["seq"], 2);
    assert_eq!(recent["events"][0]["origAddress"], "127.0.0.1");

    let stats: serde_json::Value = get_json(&s, "/v1/stats").await;
    let n1 = &stats["nodes"]["n1"];
    assert_eq!(n1["count"], 3, "{stats}");
    assert_eq!(n1["highestContiguousSeq"], 2);
    assert_eq!(n1["highestSeq"], 4);
    assert_eq!(n1["missing"], 1);
    assert_eq!(n1["gaps"][0]["first"], 3);
    assert_eq!(n1["duplicates"], 1);
    assert_eq!(stats["topics"]["generic"]["accepted"], 3);
    assert!(stats["topics"]["generic"]["lastSeen"].is_string());

    let bad = s
        .client
        .get(s.url("/v1/recent?limit=-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_prometheus_text() {
    let s = start(STORE).await;
    assert_eq!(
        post(&s, ndjson(&[event("n1", 1), event("n1", 3)]), None)
            .await
            .0,
        200
    );
    let _ = post(&s, "not json", None).await;
    let resp = s.client.get(s.url("/metrics")).send().await.unwrap();
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = resp.text().await.unwrap();
    for needle in [
        "auditrail_server_events_accepted_total 2",
        "auditrail_server_requests_rejected_total{reason=\"invalid_event\"} 1",
        "auditrail_server_requests_total{path=\"/v1/events\",status=\"200\"} 1",
        "auditrail_server_destination_events_delivered_total{destination=\"store-0\",type=\"store\"} 2",
        "auditrail_server_destination_queue_depth{destination=\"store-0\",type=\"store\"} 0",
        "auditrail_server_node_sequence_missing{node=\"n1\"} 1",
        "auditrail_server_store_fsync_total{destination=\"store-0\"}",
        "auditrail_server_store_bytes{destination=\"store-0\"}",
        "auditrail_server_ingest_seconds_count 1",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness() {
    let s = start(STORE).await;
    assert_eq!(
        s.client
            .get(s.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        s.client
            .get(s.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let missing = s.client.get(s.url("/nope")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_endpoints_need_a_stats_key_when_configured() {
    let s = start(&format!(
        "{STATS_AUTH}{STORE}[[keys]]\nid = \"w\"\nsecret = \"writer-secret\"\n"
    ))
    .await;
    for path in ["/v1/recent", "/v1/stats", "/metrics"] {
        let none = s.client.get(s.url(path)).send().await.unwrap();
        assert_eq!(none.status(), 401, "{path}");
        // An event key is not a stats key.
        let writer = s
            .client
            .get(s.url(path))
            .bearer_auth("writer-secret")
            .send()
            .await
            .unwrap();
        assert_eq!(writer.status(), 401, "{path}");
        let ok = s
            .client
            .get(s.url(path))
            .bearer_auth("ops-secret")
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200, "{path}");
    }
}
