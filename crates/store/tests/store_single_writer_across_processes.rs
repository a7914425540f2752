//! One writer per store across processes too: while one process has a store open, a
//! second process that opens it is refused with `StoreError::Locked` (the store's lock
//! on its root folder; there is no registry of open stores to consult), and succeeds
//! once the first one closed it.
//!
//! The second process is this same test binary, re-run as a child process (selected by
//! an environment variable).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use std::process::Command;

use auditrail_store::{StoreError, StoreTarget};
use serde_json::json;
use store_support::*;

const CHILD_ENV: &str = "AUDITRAIL_STORE_SECOND_PROCESS";
/// Starts the child's answer line (the test harness prints around it).
const MARK: &str = "second process: ";

/// The child: opens the store and says how that went on stdout.
#[test]
fn second_process_opener() {
    let Ok(root) = std::env::var(CHILD_ENV) else {
        return; // only runs as the child of the test below
    };
    match StoreTarget::open(std::path::Path::new(&root), &config(json!({})), "second") {
        Ok(t) => {
            t.send_blocking(&events(100, 1)).unwrap();
            println!("\n{MARK}opened");
        }
        Err(StoreError::Locked { .. }) => println!("\n{MARK}locked"),
        Err(e) => println!("\n{MARK}error {e}"),
    }
}

fn open_in_another_process(root: &std::path::Path) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &auditrail_testkit::process::harness_name(module_path!(), "second_process_opener"),
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(MARK))
        .unwrap_or_else(|| panic!("the child said nothing: {stdout}"))
        .to_owned()
}

#[test]
fn a_second_process_is_refused_until_the_first_closes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let first = open(&root, json!({}));
    first.send_blocking(&events(1, 1)).unwrap();
    assert_eq!(open_in_another_process(&root), "locked");
    drop(first);
    assert_eq!(open_in_another_process(&root), "opened");
    assert_eq!(verify_chain(&root).seq, 2);
}
