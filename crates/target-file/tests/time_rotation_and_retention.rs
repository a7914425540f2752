//! `rotation = "hourly"`/`"daily"`: tracing-appender names files after the UTC
//! period and keeps `max_files` of them. Its clock cannot be driven from outside, so
//! these tests check the naming (which fsync relies on) and the retention that the
//! appender applies when it opens, with older period files made beforehand.

use crate::common;

use std::time::Duration;

use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hourly_files_are_named_after_the_utc_hour() {
    let dir = tempfile::tempdir().unwrap();
    let before = chrono::Utc::now()
        .format("audit.%Y-%m-%d-%H.log")
        .to_string();
    let d = common::dispatcher(
        "node-hourly",
        json!({ "dir": dir.path(), "rotation": "hourly" }),
    );
    for i in 0..10 {
        d.emit_acked(common::sample(i)).await.unwrap();
    }
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
    let after = chrono::Utc::now()
        .format("audit.%Y-%m-%d-%H.log")
        .to_string();
    let names = common::file_names(dir.path());
    assert!(
        names.iter().all(|n| *n == before || *n == after),
        "unexpected files {names:?} (expected {before} or {after})"
    );
    let read = auditrail_target_file::read_audit_dir(dir.path(), "audit.log").unwrap();
    assert_eq!(read.events.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_rotation_keeps_max_files_and_removes_the_oldest() {
    let dir = tempfile::tempdir().unwrap();
    // Five older days, oldest created first.
    let old = [
        "2026-01-01",
        "2026-01-02",
        "2026-01-03",
        "2026-01-04",
        "2026-01-05",
    ];
    for day in old {
        std::fs::write(dir.path().join(format!("audit.{day}.log")), b"").unwrap();
        // Creation times must differ for the appender to order them.
        std::thread::sleep(Duration::from_millis(20));
    }
    let today = chrono::Utc::now().format("audit.%Y-%m-%d.log").to_string();
    let d = common::dispatcher(
        "node-daily",
        json!({ "dir": dir.path(), "rotation": "daily", "max_files": 3 }),
    );
    d.emit_acked(common::sample(0)).await.unwrap();
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
    let names = common::file_names(dir.path());
    // The appender keeps max_files - 1 old files and opens today's.
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names.contains(&"audit.2026-01-04.log".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"audit.2026-01-05.log".to_owned()),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| *n == today || n.as_str() > today.as_str()),
        "{names:?}"
    );
    let read = auditrail_target_file::read_audit_dir(dir.path(), "audit.log").unwrap();
    assert_eq!(read.events.len(), 1);
}
