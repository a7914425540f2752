//! A key's `nodes` list binds node ids to keys: a key that may write only its own node
//! cannot write under another node's id, which would let it fill that node's gaps with
//! forged events or announce that node's lost numbers as `abandonedSeqs` (silencing the
//! `missing` alarm, as a tryout showed with a key limited by `routing_keys` alone). The
//! refusal is a `403` naming the node; the victim's gap stays `missing`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;

const CONFIG: &str = r#"
[[keys]]
id = "a"
secret = "secret-of-a"
nodes = ["victim"]

[[keys]]
id = "b"
secret = "secret-of-b"
routing_keys = ["b"]
nodes = ["node-b"]

[[destinations]]
type = "store"
path = "store"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_bound_to_its_node_cannot_write_or_announce_for_another() {
    let s = start(CONFIG).await;
    // The victim stores 1..=3 and 6: 4 and 5 are lost.
    let victims: Vec<_> = [1, 2, 3, 6]
        .into_iter()
        .map(|seq| event("victim", seq))
        .collect();
    let (status, _, body) = post(&s, ndjson(&victims), Some("secret-of-a")).await;
    assert_eq!(status, 200, "{body}");

    // Key b announces the victim's lost numbers as abandoned, under the victim's id.
    let mut forged = event_with("victim", 7, "generic", Some("b"));
    forged["abandonedSeqs"] = serde_json::json!({"first": 4, "last": 5});
    let (status, _, body) = post(&s, ndjson(&[forged]), Some("secret-of-b")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "forbidden", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains(r#"key "b" may not write node "victim""#),
        "the refusal names key and node: {message}"
    );
    assert!(body.to_string().contains(r#""field":"node""#), "{body}");

    // Nor may it fill the gap with events of its own making.
    let filler = event_with("victim", 4, "generic", Some("b"));
    let (status, _, body) = post(&s, ndjson(&[filler]), Some("secret-of-b")).await;
    assert_eq!(status, 403, "{body}");

    // Its own node it writes as before.
    let own = event_with("node-b", 1, "generic", Some("b"));
    let (status, _, body) = post(&s, ndjson(&[own]), Some("secret-of-b")).await;
    assert_eq!(status, 200, "{body}");

    let stats = get_json(&s, "/v1/stats").await;
    let victim = &stats["nodes"]["victim"];
    assert_eq!(victim["count"], 4, "{victim}");
    assert_eq!(victim["missing"], 2, "the loss alarm stays: {victim}");
    assert_eq!(victim["abandoned"], 0, "{victim}");
}
