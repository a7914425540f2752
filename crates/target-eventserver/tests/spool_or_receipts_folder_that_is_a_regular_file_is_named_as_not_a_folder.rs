//! A `spool_dir` that is a regular file (a stray copy, a restore gone wrong) stops the
//! target's setup with an error that says the path is not a folder; a receipts folder
//! that is a regular file is named the same way in the warning of each receipt not
//! kept. `mkdir` says "File exists (os error 17)" of both, which sends the operator
//! looking for a folder that exists (and, for the receipts, names a day's file that
//! does not).

use crate::common;

use auditrail_target_eventserver::{EventServerConfig, EventServerTarget};
use common::ctx;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spool_dir_that_is_a_file_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("afile");
    std::fs::write(&file, b"x\n").unwrap();
    let mut c = EventServerConfig::new("http://127.0.0.1:9".to_owned());
    c.spool_dir = Some(file.clone().into());
    let err = EventServerTarget::new(c, &ctx(dir.path(), "es"))
        .expect_err("a regular file was taken for the spool folder")
        .to_string();
    let said = format!("{}: is a regular file, not a folder", file.display());
    assert!(err.contains(&said), "{err}");
    assert!(!err.contains("File exists"), "{err}");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"x\n",
        "the file is left alone"
    );
}

#[test]
fn a_receipts_folder_that_is_a_file_says_so() {
    // The receipts are appended without fsync (auditrail_core::jsonl, fsync = false):
    // the folder is made with std's create_dir_all, whose error is the one explained.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("central");
    std::fs::write(&file, b"x\n").unwrap();
    let err = auditrail_core::jsonl::append(&file.join("2026-12-05.jsonl"), b"{}\n", false)
        .unwrap_err()
        .to_string();
    let said = format!("{}: is a regular file, not a folder", file.display());
    assert!(err.contains(&said), "{err}");
}
