//! Checkpoints forwarded through a dispatcher arrive at its target as `checkpoint`
//! events carrying the exact signed log line, which still verifies there.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{DeliveryOptions, Dispatcher, Filter, NodeId};
use auditrail_integrity::{forward, Checkpoint, CheckpointPolicy, Checkpointer, Signer};
use auditrail_store::chain::Chain;
use auditrail_store::CHECKPOINT_LOG;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_checkpoint_reaches_the_other_destination_with_its_signed_line() {
    let copy = MemoryTarget::new();
    let dispatcher = Dispatcher::builder(NodeId::new("server-1").unwrap())
        .target(
            "offsite",
            "memory",
            Filter::all(),
            DeliveryOptions::default(),
            Box::new(copy.clone()),
        )
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let signer = Arc::new(Signer::from_seed([5; 32]));
    let mut chain = Chain::genesis();
    let policy = CheckpointPolicy {
        every_records: 10,
        every_seconds: 0,
        seal_every_batch: false,
        ..CheckpointPolicy::default()
    };
    let mut cp = Checkpointer::open(dir.path(), signer.clone(), policy, chain.last()).unwrap();
    cp.set_forwarder(forward::via_dispatcher(
        dispatcher.clone(),
        "auditrail-checkpoints",
    ));
    let mut out = Vec::new();
    for _ in 0..3 {
        for _ in 0..10 {
            chain.seal(b"{\"clientEvent\":{}", &mut out);
        }
        cp.after_batch(chain.last()).unwrap().unwrap();
    }
    let until = Instant::now() + Duration::from_secs(20);
    while copy.events().len() < 3 {
        assert!(Instant::now() < until, "checkpoints not forwarded");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let log = std::fs::read_to_string(dir.path().join(CHECKPOINT_LOG)).unwrap();
    let events = copy.events();
    for (e, line) in events.iter().zip(log.lines()) {
        let m = serde_json::to_value(&e.message).unwrap();
        assert_eq!(m["msgType"], "checkpoint");
        assert_eq!(e.topic.as_str(), "auditrail-checkpoints");
        assert_eq!(m["line"], line);
        let remote = Checkpoint::parse_line(m["line"].as_str().unwrap().as_bytes()).unwrap();
        assert_eq!(remote.key, *signer.public_key());
        assert_eq!(m["chainSeq"], remote.link.seq);
    }
    dispatcher.shutdown(Duration::from_secs(10)).await;
}
