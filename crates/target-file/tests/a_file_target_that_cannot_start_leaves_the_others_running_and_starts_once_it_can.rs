//! A node whose one `file` target cannot start (its folder would be under a regular
//! file: the error names that file, "is a regular file, not a folder") starts anyway: the other target records every
//! event, the unusable one is retried with backoff (each attempt a retryable error
//! naming its path), and once its folder can be created it starts and writes the
//! events that waited in its queue. It used to stop the whole node at build time.

use crate::common;

use std::time::Duration;

use auditrail_core::{Dispatcher, NodeConfig, Registry};

fn events_in(file: &std::path::Path) -> usize {
    std::fs::read_to_string(file)
        .map(|text| text.lines().filter(|l| l.contains("test-event")).count())
        .unwrap_or(0)
}

#[test]
fn the_other_target_records_and_the_unusable_one_starts_once_its_folder_can_be_made() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("blocker");
    std::fs::write(&blocker, b"a regular file where a folder should be").unwrap();
    let broken_dir = blocker.join("audit");
    let healthy_dir = tmp.path().join("healthy");
    let text = format!(
        "node = \"n1\"\nrun_dir = {run:?}\n\
         [[targets]]\nname = \"broken\"\ntype = \"file\"\ndir = {broken:?}\n\
         retry_initial_backoff_ms = 5\nretry_max_backoff_ms = 20\n\
         [[targets]]\nname = \"healthy\"\ntype = \"file\"\ndir = {healthy:?}\n",
        run = tmp.path().join("run"),
        broken = broken_dir,
        healthy = healthy_dir,
    );
    let registry = Registry::with_linked(&[&auditrail_target_file::REGISTRATION]).unwrap();
    let config = NodeConfig::parse(&text, "node.toml", false, &registry).unwrap();

    let d = Dispatcher::builder_from_config(&config)
        .build()
        .expect("one unusable target does not stop the node");
    for i in 0..3 {
        d.emit(common::sample(i)).unwrap();
    }

    let patience = Duration::from_secs(20);
    common::wait_until(patience, "the healthy target records every event", || {
        events_in(&healthy_dir.join("audit.log")) == 3
    });
    common::wait_until(patience, "the unusable target is retried", || {
        d.stats()
            .iter()
            .any(|s| s.name == "broken" && s.retried >= 3)
    });
    let broken = d.stats().into_iter().find(|s| s.name == "broken").unwrap();
    assert_eq!(
        (broken.delivered, broken.dead_lettered, broken.queue_depth),
        (0, 0, 3),
        "its events wait in its queue: {broken:?}"
    );

    // The operator fixes the path: the target starts at its next attempt.
    std::fs::remove_file(&blocker).unwrap();
    common::wait_until(patience, "the target starts and writes what waited", || {
        events_in(&broken_dir.join("audit.log")) == 3
    });
    let report = d.shutdown_blocking(Duration::from_secs(10));
    assert!(report.is_clean(), "{report:?}");
    let broken = report
        .targets
        .iter()
        .find(|t| t.stats.name == "broken")
        .unwrap();
    assert_eq!(broken.stats.delivered, 3, "{broken:?}");
}

#[test]
fn the_report_and_the_dead_letters_name_the_path_and_the_os_error() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("blocker");
    std::fs::write(&blocker, b"x").unwrap();
    let text = format!(
        "node = \"n1\"\nrun_dir = {run:?}\n\
         [[targets]]\nname = \"broken\"\ntype = \"file\"\ndir = {broken:?}\n\
         retry_initial_backoff_ms = 5\nretry_max_backoff_ms = 20\n",
        run = tmp.path().join("run"),
        broken = blocker.join("audit"),
    );
    let registry = Registry::with_linked(&[&auditrail_target_file::REGISTRATION]).unwrap();
    let config = NodeConfig::parse(&text, "node.toml", false, &registry).unwrap();
    let d = Dispatcher::builder_from_config(&config).build().unwrap();
    d.emit(common::sample(0)).unwrap();
    common::wait_until(Duration::from_secs(20), "a retry", || {
        d.stats()[0].retried >= 1
    });

    let report = d.shutdown_blocking(Duration::from_millis(200));
    assert!(!report.is_clean(), "{report:?}");
    let t = &report.targets[0];
    let error = t.error.clone().unwrap_or_default();
    assert!(error.contains("cannot start"), "{error}");
    assert!(
        error.contains(&blocker.join("audit").display().to_string())
            && error.contains("is a regular file, not a folder"),
        "{error}"
    );
    // The event that waited is dead-lettered with the reason the target gave.
    let dead = std::fs::read_to_string(tmp.path().join("run/deadletter/broken.jsonl")).unwrap();
    assert_eq!(dead.lines().count(), 1, "{dead}");
    assert!(
        dead.contains("cannot start") && dead.contains("is a regular file, not a folder"),
        "{dead}"
    );
}
