//! A dispatcher built in code names its targets as a node config does: a name is 1 to
//! 64 characters of `[A-Za-z0-9._-]` not starting with `.`, and no two targets share
//! one. Before, the builder took any name: two targets named "x" shared one dead-letter
//! file and one entry of the shutdown's reports (the failing one's report said
//! `undelivered = 0`, no error, though its events were dead-lettered at the deadline),
//! and a name "../../x" wrote its dead letters outside the dead-letter folder.

use crate::common;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{DeliveryOptions, Dispatcher, DispatcherError, Filter};

fn build_with_names(dir: &std::path::Path, names: &[&str]) -> Result<Dispatcher, DispatcherError> {
    let mut b = Dispatcher::builder(common::node()).dead_letter_dir(dir.join("a").join("dl"));
    for name in names {
        b = b.target(
            *name,
            "memory",
            Filter::all(),
            DeliveryOptions::default(),
            Box::new(MemoryTarget::new()),
        );
    }
    b.build()
}

#[test]
fn a_name_given_to_two_targets_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let err = build_with_names(dir.path(), &["x", "y", "x"]).unwrap_err();
    assert!(
        matches!(&err, DispatcherError::DuplicateName { name } if name == "x"),
        "{err}"
    );
    assert!(
        err.to_string().contains("two targets are named \"x\""),
        "{err}"
    );
}

#[test]
fn a_name_that_is_no_file_name_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["../../escape", "", "a/b", ".hidden", &"n".repeat(65), "ü"] {
        let err = build_with_names(dir.path(), &["ok", bad]).unwrap_err();
        assert!(
            matches!(&err, DispatcherError::BadName { name } if name == bad),
            "{bad:?}: {err}"
        );
        assert!(err.to_string().contains("[A-Za-z0-9._-]"), "{err}");
    }
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing is written for a refused build"
    );
}

#[test]
fn names_a_config_takes_are_taken() {
    let dir = tempfile::tempdir().unwrap();
    let d = build_with_names(
        dir.path(),
        &["local", "file-0", "Central.2_b", &"n".repeat(64)],
    )
    .unwrap();
    assert_eq!(d.routes().len(), 4);
    d.shutdown_blocking(std::time::Duration::from_secs(5));
}
