//! Two `file` targets of one node whose files meet in one folder: one's active file is
//! a name the other's rolls rename or its retention deletes (`file_name = "audit.log.1"`
//! beside a size-rolled `audit.log`; a size-rolled `audit.2026-11-25` beside a daily
//! `audit.1`, whose files `audit.<date>.1` are the other's rolls). The rolls of one
//! overwrote and its retention deleted the other's acknowledged lines; the node is now
//! refused when built, naming both targets, the folder and the name, before any file is
//! made. Two targets writing the very same files (same `file_name` and rotation: several
//! writers of one trail) and an hourly and a daily target sharing a `file_name` still
//! start.

use auditrail_core::{DeliveryOptions, Dispatcher, DispatcherError, Filter, NodeId};
use serde_json::{json, Value};

fn build(targets: &[(&str, Value)]) -> Result<Dispatcher, DispatcherError> {
    let mut b = Dispatcher::builder(NodeId::new("node-clash").unwrap());
    for (name, config) in targets {
        b = b.registered_target(
            *name,
            &auditrail_target_file::REGISTRATION,
            config.clone(),
            Filter::all(),
            DeliveryOptions::default(),
        );
    }
    b.build()
}

#[test]
fn file_targets_whose_files_meet_are_refused_at_build() {
    for (first, second, met) in [
        (
            json!({ "file_name": "audit.log", "rotation": "size", "max_bytes": 100 }),
            json!({ "file_name": "audit.log.1", "rotation": "never" }),
            "audit.log.1",
        ),
        (
            json!({ "file_name": "audit.1", "rotation": "daily" }),
            json!({ "file_name": "audit.2026-11-25", "rotation": "size" }),
            "audit.2026-11-25.1",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("audit");
        let with_dir = |mut c: Value| {
            c["dir"] = json!(dir);
            c["fsync"] = json!(false);
            c
        };
        let err = match build(&[("rolled", with_dir(first)), ("beside", with_dir(second))]) {
            Ok(d) => {
                d.shutdown_blocking(std::time::Duration::from_secs(5));
                panic!("{met}: two targets whose files meet were built")
            }
            Err(e) => e,
        };
        assert!(
            matches!(&err, DispatcherError::Clash { first, second, .. } if first == "rolled" && second == "beside"),
            "{err}"
        );
        let message = err.to_string();
        for needle in [
            "\"rolled\"".to_owned(),
            "\"beside\"".to_owned(),
            format!("{met:?}"),
            dir.display().to_string(),
        ] {
            assert!(message.contains(&needle), "{needle} not in: {message}");
        }
        assert!(!dir.exists(), "{met}: nothing is made for a refused node");
    }
}

#[test]
fn file_targets_writing_the_same_files_or_other_periods_still_start() {
    for (first, second) in [
        (json!({ "rotation": "size" }), json!({ "rotation": "size" })),
        (
            json!({ "rotation": "hourly" }),
            json!({ "rotation": "daily" }),
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let with_dir = |mut c: Value| {
            c["dir"] = json!(tmp.path());
            c["fsync"] = json!(false);
            c
        };
        let d = build(&[("a", with_dir(first)), ("b", with_dir(second))]).unwrap();
        assert!(d
            .shutdown_blocking(std::time::Duration::from_secs(5))
            .is_clean());
    }
}
