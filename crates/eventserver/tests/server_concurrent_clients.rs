//! Several clients send at once: every event is stored exactly once, counts add up,
//! and each record names the key that sent it (never the secret).

use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_clients_each_event_stored_once() {
    let s = start(&format!(
        "{STORE}[[keys]]\nid = \"all\"\nsecret = \"secret-for-all\"\n"
    ))
    .await;
    let mut tasks = Vec::new();
    let mut sent = Vec::new();
    for c in 0..8 {
        let node = format!("node-{c}");
        let batches: Vec<Vec<serde_json::Value>> = (0..10)
            .map(|b| (0..50).map(|i| event(&node, b * 50 + i + 1)).collect())
            .collect();
        sent.extend(
            batches
                .iter()
                .flatten()
                .map(|e| e["id"].as_str().unwrap().to_owned()),
        );
        let (client, url) = (s.client.clone(), s.url("/v1/events"));
        tasks.push(tokio::spawn(async move {
            let mut accepted = 0;
            for batch in batches {
                let r = client
                    .post(&url)
                    .bearer_auth("secret-for-all")
                    .header("content-type", "application/x-ndjson")
                    .body(ndjson(&batch))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                let body: serde_json::Value = r.json().await.unwrap();
                accepted += body["accepted"].as_u64().unwrap();
            }
            accepted
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 4000);
    let records = stored_records(&s.store());
    assert_eq!(records.len(), 4000);
    let ids = stored_ids(&s.store());
    assert!(sent.iter().all(|id| ids.get(id) == Some(&1)));
    for r in &records {
        assert_eq!(r["keyId"], "all");
        assert_eq!(r["origAddress"], "127.0.0.1");
        assert!(!r.to_string().contains("secret-for-all"));
    }
    let stats: serde_json::Value = get_json(&s, "/v1/stats").await;
    assert_eq!(stats["nodes"]["node-3"]["count"], 500);
    assert_eq!(stats["nodes"]["node-3"]["highestContiguousSeq"], 500);
    assert_eq!(stats["topics"]["generic"]["accepted"], 4000);
}
