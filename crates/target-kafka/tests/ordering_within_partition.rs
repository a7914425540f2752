//! Events of one routing key share the record key, so they land in one partition in
//! the order they were emitted, across many batches.

use crate::common;

use std::time::Duration;

use auditrail_core::{topics, DeliveryOptions, EventDraft, Filter};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_routing_key_stays_in_one_partition_in_emit_order() {
    let brokers = common::brokers();
    let topic = common::unique_topic("order");
    common::create_topics(&brokers, &[&topic]).await;
    let dir = tempfile::tempdir().unwrap();
    let d = common::dispatcher(
        dir.path(),
        serde_json::json!({"brokers": brokers, "topic": topic}),
        Filter::all(),
        // Small batches: ordering must hold across batch boundaries too.
        DeliveryOptions {
            batch_max_events: 17,
            ..Default::default()
        },
    );
    let keys = ["svc-a", "svc-b", "svc-c", "svc-d"];
    for i in 0..400usize {
        let key = keys[i % keys.len()];
        d.emit_async(
            EventDraft::new(topics::GENERIC, "step")
                .routing_key(key)
                .field("i", i as u64),
        )
        .await
        .unwrap();
    }
    assert!(d.shutdown(Duration::from_secs(60)).await.is_clean());

    let mut records = common::read_topic(&brokers, &topic).await;
    assert_eq!(records.len(), 400);
    records.sort_by_key(|r| (r.partition, r.offset));
    for key in keys {
        let of_key: Vec<&common::Record> = records
            .iter()
            .filter(|r| r.key_str().as_deref() == Some(key))
            .collect();
        assert_eq!(of_key.len(), 100, "{key}");
        let partition = of_key[0].partition;
        assert!(
            of_key.iter().all(|r| r.partition == partition),
            "{key} spread over partitions"
        );
        // In offset order, the per-node sequence numbers (emit order) only grow.
        let seqs: Vec<u64> = of_key.iter().map(|r| r.event().seq).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "{key} out of order: {seqs:?}"
        );
    }
}
