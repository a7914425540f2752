//! When a target is dead, shutdown gives up at its deadline: what was not delivered is
//! reported and written to the dead-letter file; other targets are unaffected.

use crate::common;

use std::time::{Duration, Instant};

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, Dispatcher};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undelivered_events_are_reported_and_dead_lettered() {
    let dir = tempfile::tempdir().unwrap();
    let dead = MemoryTarget::new();
    let healthy = MemoryTarget::new();
    dead.pause(); // never resumed
    let b = Dispatcher::builder(common::node()).dead_letter_dir(dir.path());
    let b = common::with_memory(b, "dead", &dead, Default::default());
    let d = common::with_memory(b, "healthy", &healthy, Default::default())
        .build()
        .unwrap();

    let mut ids = Vec::new();
    for i in 0..5u64 {
        ids.push(
            d.emit(audit!(topics::GENERIC, "tick", "i" => i))
                .unwrap()
                .id
                .to_string(),
        );
    }
    let started = Instant::now();
    let report = d.shutdown(Duration::from_millis(300)).await;
    assert!(
        started.elapsed() < common::PATIENCE,
        "shutdown must end at its deadline"
    );

    let dead_report = &report.targets[0];
    assert_eq!(dead_report.undelivered, 5, "{report:?}");
    assert!(
        dead_report.error.as_deref().unwrap().contains("deadline"),
        "{report:?}"
    );
    assert_eq!(dead_report.stats.dead_lettered, 5);
    assert!(!report.is_clean());
    let healthy_report = &report.targets[1];
    assert_eq!(
        (healthy_report.undelivered, healthy_report.stats.delivered),
        (0, 5)
    );
    assert!(healthy_report.error.is_none());

    let lines = common::dead_letters(dir.path(), "dead");
    let mut written: Vec<String> = lines
        .iter()
        .map(|l| l["event"]["id"].as_str().unwrap().to_owned())
        .collect();
    written.sort();
    ids.sort();
    assert_eq!(written, ids);
    assert!(lines
        .iter()
        .all(|l| l["error"].as_str().unwrap().contains("shutdown deadline")));
}
