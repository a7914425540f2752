//! Key ownership (the reference's `requiredAuthKey` isolation): a key that owns routing
//! key `svc-a` cannot write `svc-b` or another topic, and a destination with
//! `required_key` only receives events sent with that key.

use crate::server_support;

use server_support::*;

const CONFIG: &str = r#"
[[keys]]
id = "svc-a"
secret = "secret-of-a"
topics = ["apinode-query"]
routing_keys = ["svc-a"]

[[keys]]
id = "ops"
secret_sha256 = "9a5b8f1e0c8d7f3e3b8f0d54a3c1ef4a3bbd1f1b6d0c2a9e5f7b8c9d0e1f2a3b"

[[keys]]
id = "any"
secret = "secret-of-any"

[[destinations]]
name = "all"
type = "store"
path = "store"

[[destinations]]
name = "svc-a-only"
type = "store"
path = "svc-a"
required_key = "svc-a"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_writes_only_what_it_owns_and_required_key_isolates_destinations() {
    let s = start(CONFIG).await;
    let own = event_with("n1", 1, "apinode-query", Some("svc-a"));
    let (status, _, body) = post(&s, ndjson(std::slice::from_ref(&own)), Some("secret-of-a")).await;
    assert_eq!(status, 200, "{body}");

    for forged in [
        event_with("n1", 2, "apinode-query", Some("svc-b")),
        event_with("n1", 3, "generic", Some("svc-a")),
        event_with("n1", 4, "apinode-query", None),
    ] {
        let (status, _, body) = post(&s, ndjson(&[forged]), Some("secret-of-a")).await;
        assert_eq!(status, 403, "{body}");
    }

    // Another key may write svc-a events, but they do not reach the svc-a destination.
    let other = event_with("n2", 1, "apinode-query", Some("svc-a"));
    let (status, _, _) = post(
        &s,
        ndjson(std::slice::from_ref(&other)),
        Some("secret-of-any"),
    )
    .await;
    assert_eq!(status, 200);

    let svc_a = stored_ids(&s.dir.path().join("data/svc-a"));
    assert_eq!(svc_a.len(), 1);
    assert!(svc_a.contains_key(own["id"].as_str().unwrap()));
    let all = stored_records(&s.store());
    assert_eq!(all.len(), 2);
    let key_of = |id: &serde_json::Value| {
        all.iter()
            .find(|r| r["clientEvent"]["id"] == *id)
            .map(|r| r["keyId"].clone())
            .unwrap()
    };
    assert_eq!(key_of(&own["id"]), "svc-a");
    assert_eq!(key_of(&other["id"]), "any");
}
