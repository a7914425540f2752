//! The Merkle tree heads a store's checkpoint lines sign: written by the real store
//! writer and checkpoint task, resumed after the store is closed and opened again (from
//! the log's last frontier and the records after it), and recomputed by `verify` from
//! the records; a head signed wrong (by someone holding the key) is `tree-head-mismatch`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use std::sync::Arc;

use auditrail_integrity::attach::StoreIntegrity;
use auditrail_integrity::checkpoint::{parse_unverified, Checkpoint, LineExtras};
use auditrail_integrity::verify::{self, NoProgress, VerifyOptions};
use auditrail_integrity::{CheckpointPolicy, Signer};
use auditrail_store::{StoreConfig, StoreTarget, CHECKPOINT_LOG};
use integrity_support::event;

async fn write(store: &std::path::Path, signer: &Arc<Signer>, seqs: std::ops::RangeInclusive<u64>) {
    let config: StoreConfig = serde_json::from_value(serde_json::json!({"path": "store"})).unwrap();
    let target = Arc::new(StoreTarget::open(store, &config, "store").unwrap());
    let integrity = StoreIntegrity::attach(
        &target.handle(),
        signer.clone(),
        CheckpointPolicy::default(),
    )
    .unwrap();
    let all: Vec<_> = seqs.map(event).collect();
    for batch in all.chunks(7) {
        let t = target.clone();
        let sent = batch.to_vec();
        tokio::task::spawn_blocking(move || t.send_blocking(&sent))
            .await
            .unwrap()
            .unwrap();
        integrity.sealed_through(t_head(&target)).await.unwrap();
    }
    drop(target);
    integrity.close().await.unwrap();
}

fn t_head(target: &StoreTarget) -> u64 {
    target.handle().head().seq
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tree_heads_are_signed_resumed_and_recomputed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = data.join("store");
    let signer = Arc::new(Signer::load_or_create(&data).unwrap());
    write(&store, &signer, 1..=30).await;
    write(&store, &signer, 31..=45).await;

    let log = std::fs::read_to_string(store.join(CHECKPOINT_LOG)).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    let trees: Vec<u64> = lines
        .iter()
        .map(|l| parse_unverified(l.as_bytes()).unwrap().tree.unwrap().size)
        .collect();
    assert_eq!(trees.last(), Some(&45), "{log}");
    let options = VerifyOptions {
        public_key: Some(*signer.public_key()),
        ..VerifyOptions::default()
    };
    let report = verify::verify(&store, &options, &NoProgress).unwrap();
    assert!(report.ok, "{report}");
    assert_eq!(report.stores[0].tree_heads_checked, lines.len() as u64);

    // Someone holding the key re-signs the last line with another tree head.
    let last = parse_unverified(lines.last().unwrap().as_bytes()).unwrap();
    let mut tree = last.tree.clone().unwrap();
    tree.head[0] ^= 1;
    tree.frontier = None;
    let (_, forged) = Checkpoint::sign_with(
        &signer,
        last.index,
        &last.store_id,
        last.link,
        last.time.clone(),
        last.prev,
        LineExtras {
            tree: Some(tree),
            ..LineExtras::default()
        },
    );
    let mut text: Vec<&str> = lines[..lines.len() - 1].to_vec();
    text.push(&forged);
    std::fs::write(store.join(CHECKPOINT_LOG), text.join("\n") + "\n").unwrap();
    let report = verify::verify(&store, &options, &NoProgress).unwrap();
    assert!(!report.ok);
    let kinds: Vec<&str> = report.problems().map(|p| p.kind.name()).collect();
    assert_eq!(kinds, ["tree-head-mismatch"], "{report}");
}
