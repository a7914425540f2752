//! Two custom targets whose async `send` blocks its thread (a synchronous call that
//! hangs) next to a `file` target: the file target still gets every event, because
//! each target's worker runs on a thread of its own.

use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use auditrail_core::{
    async_trait, audit, topics, DeliveryOptions, Dispatcher, Event, Filter, NodeId, Selection,
    Target, TargetError, Topic,
};
use serde_json::json;

/// Says it was called, then takes the lock the test holds: blocks the thread that
/// polls it.
struct BlocksItsThread {
    lock: Arc<Mutex<()>>,
    entered: mpsc::Sender<()>,
}

#[async_trait]
impl Target for BlocksItsThread {
    async fn send(&mut self, _batch: &[Arc<Event>]) -> Result<(), TargetError> {
        let _ = self.entered.send(());
        let _held = self.lock.lock();
        Ok(())
    }
}

fn only(topic: Topic) -> Filter {
    Filter {
        topics: Selection::Only(vec![topic]),
        ..Filter::all()
    }
}

#[test]
fn the_file_target_gets_every_event_while_two_targets_block_their_threads() {
    let dir = tempfile::tempdir().unwrap();
    let audit_dir = dir.path().join("audit");
    let lock = Arc::new(Mutex::new(()));
    let (entered, entered_rx) = mpsc::channel();
    let mut b = Dispatcher::builder(NodeId::new("node-b").unwrap())
        .dead_letter_dir(dir.path().join("deadletter"))
        .registered_target(
            "local",
            &auditrail_target_file::REGISTRATION,
            json!({ "dir": audit_dir.to_str().unwrap() }),
            only(topics::GENERIC),
            DeliveryOptions::default(),
        );
    for k in 0..2 {
        b = b.target(
            format!("blocker{k}"),
            "blocker",
            only(Topic::new("blocked").unwrap()),
            DeliveryOptions::default(),
            Box::new(BlocksItsThread {
                lock: lock.clone(),
                entered: entered.clone(),
            }),
        );
    }
    let d = b.build().unwrap();
    // Taken after the dispatcher exists, so that a failing assertion unlocks it first
    // and the dispatcher's drop does not wait on blocked threads.
    let guard = lock.lock().unwrap();
    // Both blocking targets are inside `send`, blocking their threads, before the file
    // target gets anything.
    d.emit(audit!("blocked", "x")).unwrap();
    for _ in 0..2 {
        entered_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("each blocking target's send was called");
    }
    for i in 0..10u64 {
        d.emit(audit!(topics::GENERIC, "x", "i" => i)).unwrap();
    }

    let until = Instant::now() + Duration::from_secs(30);
    let lines = loop {
        let read = auditrail_target_file::read_audit_dir(&audit_dir, "audit.log");
        let lines = read.map(|r| r.events.len()).unwrap_or(0);
        if lines == 10 || Instant::now() > until {
            break lines;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(lines, 10, "the file target got {lines} of 10 events");

    // The blocked threads stay blocked; the shutdown gives up on them at its deadline.
    let report = d.shutdown_blocking(Duration::from_millis(300));
    let local = report
        .targets
        .iter()
        .find(|t| t.stats.name == "local")
        .unwrap();
    assert_eq!(local.stats.delivered, 10, "{local:?}");
    assert!(local.error.is_none(), "{local:?}");
    drop(guard);
}
