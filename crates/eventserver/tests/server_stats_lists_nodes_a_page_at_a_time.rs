//! `GET /v1/stats` lists nodes a page at a time, by id (`nodesAfter`, `nodesLimit`;
//! `nodesNext` names the next page): node ids are whatever clients send, so one answer
//! must not grow with them. Walking the pages gives every node once; a bad page
//! parameter is a `400 bad_query` naming it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use serde_json::Value;
use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walking_the_pages_lists_every_node_once_in_id_order() {
    let s = start(STORE).await;
    let nodes = ["node-d", "node-b", "node-a", "node-e", "node-c"];
    let events: Vec<Value> = nodes.iter().map(|n| event(n, 1)).collect();
    let (status, _, answer) = post(&s, ndjson(&events), None).await;
    assert_eq!(status, 200, "{answer}");

    // Without parameters: every node (fewer than the default page).
    let all = get_json(&s, "/v1/stats").await;
    assert_eq!(all["nodesTracked"], 5, "{all}");
    assert_eq!(all["nodesNext"], Value::Null, "{all}");
    assert_eq!(all["nodes"].as_object().unwrap().len(), 5, "{all}");
    assert_eq!(all["nodesForgotten"]["nodes"], 0, "{all}");

    let mut seen = Vec::new();
    let mut path = "/v1/stats?nodesLimit=2".to_owned();
    loop {
        let page = get_json(&s, &path).await;
        let listed = page["nodes"].as_object().unwrap();
        assert!(listed.len() <= 2, "{page}");
        assert_eq!(page["nodesTracked"], 5, "{page}");
        seen.extend(listed.keys().cloned());
        match page["nodesNext"].as_str() {
            Some(next) => {
                assert_eq!(Some(next), listed.keys().next_back().map(String::as_str));
                path = format!("/v1/stats?nodesLimit=2&nodesAfter={next}");
            }
            None => break,
        }
    }
    assert_eq!(seen, ["node-a", "node-b", "node-c", "node-d", "node-e"]);

    for bad in [
        "nodesLimit=0",
        "nodesLimit=10001",
        "nodesLimit=x",
        "limit=5",
    ] {
        let resp = s
            .client
            .get(s.url(&format!("/v1/stats?{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{bad}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "bad_query", "{bad}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("nodesLimit"),
            "{bad}: {body}"
        );
    }
}
