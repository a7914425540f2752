//! `/readyz` probed only the top folder of each store: a store whose one partition
//! folder refused writes (made immutable, its mode reset, a read-only bind mount on it)
//! answered `503 refused_for_now` for that partition's events while `/readyz` said
//! `{"status":"ready"}` and nothing more. Now it stays ready (the other partitions are
//! stored) and names the store and counts its refusing partition folders under `degraded`
//! (not their names: `/readyz` needs no key, and a folder's name holds a routing key), until the store
//! writes that partition again.

use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_names_a_partition_folder_refusing_writes_until_it_is_written_again() {
    let s = start(STORE).await;
    let Some((_, locked)) = lock_a_day_folder(&s).await else {
        return;
    };
    let ready = get_json(&s, "/readyz").await;
    assert_eq!(ready, serde_json::json!({"status": "ready"}));

    let [blocked, other] = blocked_and_other();
    let batch = ndjson(&[blocked, other]);
    let (status, _, body) = post(&s, batch.clone(), None).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "refused_for_now", "{body}");

    let answer = s.client.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(answer.status(), 200, "the other partitions are stored");
    let ready: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    let degraded = ready["degraded"].as_array().expect("a degraded list");
    assert_eq!(degraded.len(), 1, "{ready}");
    let d = &degraded[0];
    assert_eq!(d["reason"], "partition_refuses_writes", "{ready}");
    assert_eq!(d["store"], "store-0", "{ready}");
    assert_eq!(d["partitions_refusing"], 1, "{ready}");
    let message = d["message"].as_str().unwrap();
    assert!(
        message.contains("\"store-0\"") && message.contains("a partition folder"),
        "{message}"
    );
    // `/readyz` needs no key: the folder's name (topic, routing key) is not said.
    assert!(
        !ready.to_string().contains("generic/_none"),
        "no folder name: {ready}"
    );
    assert!(
        !message.contains(&s.store().display().to_string()),
        "no path: {message}"
    );

    // The operator fixes the folder; the node sends the batch again: stored, and ready
    // with nothing degraded.
    drop(locked);
    let (status, _, body) = post(&s, batch, None).await;
    assert_eq!(status, 200, "{body}");
    let ready = get_json(&s, "/readyz").await;
    assert_eq!(ready, serde_json::json!({"status": "ready"}));
}
