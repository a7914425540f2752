//! A checkpoint line whose high-water mark cannot be written (the data folder moved
//! away while the server runs) is published again at every due batch and every timer
//! tick until the mark is written. Before, each of those tries handed the same line to
//! the forwarder again, and `forward::via_dispatcher` emitted it as one more
//! `checkpoint` event each time: a witness got the same line many times. Now each line
//! goes to the forwarder once, when it is written; the mark follows once the folder is
//! back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{DeliveryOptions, Dispatcher, Filter, NodeId};
use auditrail_integrity::{forward, CheckpointPolicy, Checkpointer, HighWaterMarks, Signer};
use auditrail_store::chain::Chain;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_published_again_while_its_mark_fails_reaches_the_witness_once() {
    let copy = MemoryTarget::new();
    let dispatcher = Dispatcher::builder(NodeId::new("server-1").unwrap())
        .target(
            "witness",
            "memory",
            Filter::all(),
            DeliveryOptions::default(),
            Box::new(copy.clone()),
        )
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = dir.path().join("store");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&store).unwrap();
    let marks = Arc::new(HighWaterMarks::in_data_dir(&data));
    let signer = Arc::new(Signer::from_seed([7; 32]));
    let mut chain = Chain::genesis();
    let policy = CheckpointPolicy {
        every_records: 1,
        every_seconds: 0,
        seal_every_batch: false,
        ..CheckpointPolicy::default()
    };
    let mut cp =
        Checkpointer::open_with_marks(&store, signer, policy, chain.last(), Some(marks.clone()))
            .unwrap();
    cp.set_forwarder(forward::via_dispatcher(
        dispatcher.clone(),
        "auditrail-checkpoints",
    ));
    let mut out = Vec::new();
    chain.seal(b"{\"clientEvent\":{}", &mut out);
    cp.after_batch(chain.last()).unwrap();

    let moved = dir.path().join("data.moved");
    std::fs::rename(&data, &moved).unwrap();
    chain.seal(b"{\"clientEvent\":{}", &mut out);
    // Written and sealed; its mark refused.
    assert!(cp.after_batch(chain.last()).is_err());
    // The timer's tries of the same head, while the folder is away.
    for _ in 0..3 {
        assert!(cp.checkpoint_now(chain.last()).is_err());
    }
    std::fs::rename(&moved, &data).unwrap();
    cp.checkpoint_now(chain.last()).unwrap();
    let last = cp.last().unwrap().index;
    assert_eq!(
        marks.get(&store).unwrap().map(|m| m.checkpoint),
        Some(last),
        "the mark follows once the folder is back"
    );

    dispatcher.flush().await.unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    let indexes = loop {
        let indexes: Vec<u64> = copy
            .events()
            .iter()
            .map(|e| {
                serde_json::to_value(&e.message).unwrap()["checkpoint"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        if indexes.last() == Some(&last) || Instant::now() > until {
            break indexes;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let mut once = indexes.clone();
    once.dedup();
    assert_eq!(indexes, once, "each line once");
    assert_eq!(indexes.last(), Some(&last));
    dispatcher.shutdown(Duration::from_secs(10)).await;
}
