//! A node whose eventserver target's spool folder cannot be made (it would be under a
//! regular file) starts anyway: its other target takes every event, this one's events
//! wait in the dispatcher's queue while it is built again with backoff, and once the
//! folder can be made it starts and spools them (its forwarding probe then counts
//! them). It used to stop the whole node at build time.

use std::time::{Duration, Instant};

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher, Filter, NodeConfig, Registry};

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < until, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_other_target_takes_every_event_and_this_one_spools_once_its_folder_can_be_made() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("blocker");
    std::fs::write(&blocker, b"a regular file where a folder should be").unwrap();
    let spool = blocker.join("spool");
    // No server listens there: spooled events stay pending, which is what is checked.
    let text = format!(
        "node = \"n1\"\nrun_dir = {run:?}\n\
         [[targets]]\nname = \"central\"\ntype = \"eventserver\"\nurl = \"http://127.0.0.1:9\"\n\
         spool_dir = {spool:?}\nretry_initial_backoff_ms = 5\nretry_max_backoff_ms = 20\n",
        run = tmp.path().join("run"),
    );
    let registry = Registry::with_linked(&[&auditrail_target_eventserver::REGISTRATION]).unwrap();
    let config = NodeConfig::parse(&text, "node.toml", false, &registry).unwrap();
    let local = MemoryTarget::new();
    let d = Dispatcher::builder_from_config(&config)
        .target(
            "local",
            "memory",
            Filter::all(),
            DeliveryOptions::default(),
            Box::new(local.clone()),
        )
        .build()
        .expect("a spool folder that cannot be made does not stop the node");
    for i in 0..2u64 {
        d.emit(audit!(topics::GENERIC, "login", "i" => i)).unwrap();
    }

    wait_until("the other target took every event", || {
        local.events().len() == 2
    });
    wait_until("the eventserver target is retried", || {
        d.stats()
            .iter()
            .any(|s| s.name == "central" && s.retried >= 2)
    });
    let central = d.stats().into_iter().find(|s| s.name == "central").unwrap();
    assert_eq!(
        (central.delivered, central.queue_depth),
        (0, 2),
        "{central:?}"
    );
    assert!(central.forwarding.is_none(), "not started: {central:?}");

    std::fs::remove_file(&blocker).unwrap();
    wait_until("the target starts and spools what waited", || {
        d.stats()
            .iter()
            .any(|s| s.name == "central" && s.delivered == 2)
    });
    let central = d.stats().into_iter().find(|s| s.name == "central").unwrap();
    let forwarding = central
        .forwarding
        .clone()
        .expect("its spool probe, once started");
    assert_eq!(forwarding.pending_events, 2, "{central:?}");
    assert!(spool.is_dir());
    d.shutdown_blocking(Duration::from_millis(500));
}
