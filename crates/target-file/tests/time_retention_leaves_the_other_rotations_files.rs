//! An hourly and a daily target writing one folder with one `file_name` (two
//! applications, or a node's two targets): each one's retention (`max_files`) counts
//! and deletes only its own period files. Both kinds of names are period names, and
//! each target deleted the other's files as its oldest, although neither was over its
//! own limit.

use crate::common;

use std::time::Duration;

use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hourly_and_a_daily_target_keep_each_others_files() {
    let dir = tempfile::tempdir().unwrap();
    // Two earlier days of the daily target, two earlier hours of the hourly one: with
    // the current period's file, each has exactly its `max_files = 3`.
    let earlier = [
        "audit.2020-01-01.log",
        "audit.2020-01-02.log",
        "audit.2020-01-02-22.log",
        "audit.2020-01-02-23.log",
    ];
    for name in earlier {
        std::fs::write(dir.path().join(name), b"").unwrap();
    }
    for rotation in ["daily", "hourly"] {
        let d = common::dispatcher(
            &format!("node-{rotation}"),
            json!({ "dir": dir.path(), "rotation": rotation, "max_files": 3, "fsync": false }),
        );
        d.emit_acked(common::sample(0)).await.unwrap();
        assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
    }
    let names = common::file_names(dir.path());
    for name in earlier {
        assert!(
            names.contains(&name.to_owned()),
            "{name} was deleted by the other rotation's retention: {names:?}"
        );
    }

    // Still, each deletes its own oldest beyond `max_files`.
    std::fs::write(dir.path().join("audit.2020-01-02-21.log"), b"").unwrap();
    let d = common::dispatcher(
        "node-hourly-2",
        json!({ "dir": dir.path(), "rotation": "hourly", "max_files": 3, "fsync": false }),
    );
    d.emit_acked(common::sample(1)).await.unwrap();
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
    let names = common::file_names(dir.path());
    assert!(
        !names.contains(&"audit.2020-01-02-21.log".to_owned()),
        "{names:?}"
    );
    for name in earlier {
        assert!(names.contains(&name.to_owned()), "{name}: {names:?}");
    }
}
