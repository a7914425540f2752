//! An attacker without the key removes one store's folder whole (records, checkpoint
//! log and `store-id`) from a data dir holding two stores. `verify DATA_DIR` walked the
//! store it still found and printed "verdict: OK" (exit 0), never naming the other one,
//! although the data dir's signed high-water marks name it (the server refuses to start
//! on it). It now fails, reporting the lost store with its id and the checkpoint its
//! mark recorded. (Tryout script `tamper/01-deleted-store-folder-passes-verify`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use tamper_support::*;

#[test]
fn a_store_removed_whole_is_reported_as_gone() {
    let dir = tempfile::tempdir().unwrap();
    let key = two_stores(dir.path());
    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 0, "the untouched data dir verifies: {report:#}");
    let id = store_named(&report, "b")["storeId"]
        .as_str()
        .unwrap()
        .to_string();

    std::fs::remove_dir_all(dir.path().join("data/b")).unwrap();
    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["ok"], false, "{report:#}");
    let lost = store_named(&report, "b");
    assert_eq!(lost["storeId"], id.as_str(), "{lost:#}");
    let problem = &lost["problems"][0];
    assert_eq!(problem["kind"], "rolled-back", "{lost:#}");
    assert_eq!(problem["severity"], "error", "{lost:#}");
    let msg = problem["message"].as_str().unwrap();
    assert!(
        msg.contains("the store is gone")
            && msg.contains("does not exist")
            && msg.contains("up to chainSeq 10"),
        "{msg}"
    );
    // The store that is still there is verified as before.
    assert_eq!(
        store_named(&report, "a")["problems"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "{report:#}"
    );
}
