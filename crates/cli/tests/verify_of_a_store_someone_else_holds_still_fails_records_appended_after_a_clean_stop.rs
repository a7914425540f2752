//! The attacker without the key appends a correctly chained record to a store whose
//! server stopped cleanly, then holds the store folder's advisory `flock` (the store's
//! single-writer lock; any process that can open the folder may take it). `verify`
//! takes a held store as a running server's and checks it as `--live`, which made the
//! `appended-after-clean-stop` error a warning: verdict OK, exit 0. A starting server
//! writes a line before it takes any record, so while the log still ends with the clean
//! stop's line after the walk no server wrote those records: they stay an error.
//! (Tryout script `tamper/05-held-store-lock-passes-records-appended-after-a-clean-stop`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use auditrail_testkit::store::append_chained;
use tamper_support::*;

#[test]
fn records_after_a_clean_stop_stay_an_error_whoever_holds_the_store_lock() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    let (_, seq) = append_chained(&store, |body| {
        body.replace("user50", "mallory")
            .replace("\"seq\":50", "\"seq\":51")
            .replacen("-000000000032\"", "-000000000666\"", 1)
    });
    assert_eq!(seq, 51);

    // The attacker's process holds the store's writer lock.
    let folder = std::fs::File::open(&store).unwrap();
    folder.try_lock().unwrap();
    let (code, report) = verify(dir.path(), &key);
    let s = &report["stores"][0];
    assert!(
        s["heldBy"]
            .as_str()
            .is_some_and(|h| h.contains("another process")),
        "checked as held: {report:#}"
    );
    assert_eq!(code, 1, "{report:#}");
    let found: Vec<_> = s["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "appended-after-clean-stop")
        .collect();
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["severity"], "error", "{report:#}");
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("still ends with that line after the walk"),
        "{report:#}"
    );
    folder.unlock().unwrap();
}
