//! Hourly files named for later periods than the clock's (written while the node's
//! clock was ahead; NTP stepped it back since) do not count as the newest for
//! `max_files`: they were kept, and the real file of the previous hour was deleted in
//! their stead, at each new hour for as long as the clock's lead was (`/work/tryout`
//! case `reloadtry/03-file-target-clock-ahead-files-make-max-files-delete-fresh-ones.sh`).
//! Neither counted nor removed: the older real files are pruned as usual.

use crate::common;

use std::time::Duration;

use chrono::Utc;
use serde_json::json;

/// The hourly file name of `hours` from now.
fn hour(hours: i64) -> String {
    let at = Utc::now() + chrono::Duration::hours(hours);
    format!("audit.{}.log", at.format("%Y-%m-%d-%H"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_named_after_the_current_hour_never_make_a_fresh_file_go() {
    let dir = tempfile::tempdir().unwrap();
    // Two real earlier hours, and six hours written while the clock was a day ahead.
    let ahead: Vec<String> = (25..31).map(hour).collect();
    let (before, previous) = (hour(-2), hour(-1));
    for name in ahead.iter().chain([&before, &previous]) {
        std::fs::write(dir.path().join(name), b"{}\n").unwrap();
    }
    let d = common::dispatcher(
        "node-hourly",
        json!({ "dir": dir.path(), "rotation": "hourly", "max_files": 2, "fsync": false }),
    );
    d.emit_acked(common::sample(0)).await.unwrap();
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
    let names = common::file_names(dir.path());
    // `max_files = 2`: the current hour and the previous one; the hour before goes.
    assert!(
        names.contains(&previous),
        "the previous hour's file was deleted: {names:?}"
    );
    assert!(!names.contains(&before), "{names:?}");
    for name in &ahead {
        assert!(names.contains(name), "{name}: {names:?}");
    }
}
