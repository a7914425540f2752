//! A node stops while its server is down and the shutdown deadline cuts the drain
//! short (`auditrail send --timeout 1` does this whenever events stay spooled). The
//! spool's head segment still gets its length recorded before the shutdown returns,
//! so that a cut of it before the next start (`truncate -s`) is reported as lost, not
//! taken for a crash's torn tail. It used to be recorded only when the last holder of
//! the spool let go of it: the dispatcher's forwarding probe (alive after the
//! shutdown) or the sender task on the worker's thread, which a process ending right
//! after the shutdown did not wait for (CI run of stop 44: the cut was not reported).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use auditrail_core::{audit, topics, Dispatcher, NodeConfig, Registry};
use auditrail_target_eventserver::spool::inspect;

#[test]
fn a_cut_after_a_shutdown_cut_short_by_its_deadline_is_reported_as_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let spool = tmp.path().join("spool");
    // Nothing listens on port 9 of the loopback: every event stays spooled, and the
    // drain (5 s) outlasts the shutdown deadline (50 ms).
    let text = format!(
        "node = \"n1\"\nrun_dir = {run:?}\n\
         [[targets]]\nname = \"central\"\ntype = \"eventserver\"\nurl = \"http://127.0.0.1:9\"\n\
         spool_dir = {spool:?}\nshutdown_drain_ms = 5000\n",
        run = tmp.path().join("run"),
    );
    let registry = Registry::with_linked(&[&auditrail_target_eventserver::REGISTRATION]).unwrap();
    let config = NodeConfig::parse(&text, "node.toml", false, &registry).unwrap();
    let d = Dispatcher::builder_from_config(&config).build().unwrap();
    for i in 0..10u64 {
        d.emit(audit!(topics::GENERIC, "login", "i" => i)).unwrap();
    }
    let until = Instant::now() + Duration::from_secs(20);
    while !d.stats().iter().any(|s| {
        s.forwarding
            .as_ref()
            .is_some_and(|f| f.pending_events == 10)
    }) {
        assert!(
            Instant::now() < until,
            "ten events spooled: {:?}",
            d.stats()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let report = d.shutdown_blocking(Duration::from_millis(50));
    assert_eq!(report.targets[0].undelivered, 0, "{report:?}");

    // `d` is kept, as a process keeps its dispatcher until it ends.
    let segments: Vec<_> = std::fs::read_dir(&spool)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    assert_eq!(segments.len(), 1, "{segments:?}");
    let len = std::fs::metadata(&segments[0]).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&segments[0])
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let report = inspect::inspect(&spool).unwrap();
    assert_eq!(report.lost.len(), 1, "the cut is a loss: {report:?}");
    assert_eq!(report.lost[0].cut_to, Some(len / 2), "{report:?}");
    drop(d);
}
