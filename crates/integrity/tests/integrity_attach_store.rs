//! `StoreIntegrity::attach` on an open `store` destination: the checkpoint task follows
//! the real store's chain head (by count), signs a final checkpoint at close, and the
//! receipts it hands out verify against the closed store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use auditrail_integrity::attach::StoreIntegrity;
use auditrail_integrity::verify::{self, NoProgress, VerifyOptions};
use auditrail_integrity::{CheckpointPolicy, Signer};
use auditrail_store::CHECKPOINT_LOG;
use auditrail_store::{StoreConfig, StoreHandle, StoreTarget};
use integrity_support::event;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_follow_the_store_and_receipts_verify() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = data.join("store");
    let signer = Arc::new(Signer::load_or_create(&data).unwrap());
    let config: StoreConfig = serde_json::from_value(serde_json::json!({"path": "store"})).unwrap();
    let target = Arc::new(StoreTarget::open(&store, &config, "store").unwrap());
    let policy = CheckpointPolicy {
        every_records: 100,
        every_seconds: 0,
        seal_every_batch: false,
        ..CheckpointPolicy::default()
    };
    // The forwarding hook sees every checkpoint line as it is written.
    let forwarded = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = forwarded.clone();
    let integrity = StoreIntegrity::attach_with(
        &target.handle(),
        signer.clone(),
        policy,
        Some(Box::new(move |_, line| {
            sink.lock().unwrap().push(line.to_string())
        })),
    )
    .unwrap();
    let mut receipts = Vec::new();
    for b in 0..5u64 {
        let batch: Vec<_> = (b * 100 + 1..=b * 100 + 100).map(event).collect();
        let t = target.clone();
        let sent = batch.clone();
        tokio::task::spawn_blocking(move || t.send_blocking(&sent))
            .await
            .unwrap()
            .unwrap();
        let keys: Vec<_> = batch.iter().map(|e| StoreHandle::receipt_key(e)).collect();
        receipts.push((format!("batch {b}"), integrity.receipt(&keys).unwrap()));
    }
    // The task checkpoints by count in the background: poll (bounded) for it.
    let log = store.join(CHECKPOINT_LOG);
    let until = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .count()
        < 2
    {
        assert!(Instant::now() < until, "no checkpoint by count");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(target);
    let last = integrity.close().await.unwrap().unwrap();
    assert_eq!(last.link.seq, 500);
    let log_lines: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(*forwarded.lock().unwrap(), log_lines);

    let options = VerifyOptions {
        public_key: Some(*signer.public_key()),
        receipts,
        ..VerifyOptions::default()
    };
    let report = verify::verify(&data, &options, &NoProgress).unwrap();
    assert!(report.ok, "{report}");
    assert_eq!(report.receipts.len(), 5);
    assert_eq!(report.stores[0].last_checkpoint_seq, Some(500));
}
