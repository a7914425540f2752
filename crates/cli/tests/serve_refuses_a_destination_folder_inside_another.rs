//! A destination whose folder is inside, equal to, or holds another destination's folder
//! or the data dir's own files stops `auditrail serve` at start, naming both. A `file`
//! destination writing inside a store's folder was accepted, and `auditrail verify` then
//! reported the untouched store as tampered (`malformed-line`: the file destination's
//! lines read as store records); a store at `path = ".."` (holding the data dir) was
//! accepted too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::path::Path;
use std::time::Duration;

/// `auditrail serve -c s.toml` in `dir`: its exit code and stderr; a server that
/// starts anyway is killed and reported.
fn refused(dir: &Path, config: &str) -> String {
    std::fs::write(dir.join("s.toml"), config).unwrap();
    let run = common::run_within(
        dir,
        &["serve", "-c", "s.toml", "--listen", "127.0.0.1:0"],
        &[],
        Duration::from_secs(20),
    );
    let ended = run.is_ok();
    let out = run.unwrap_or_else(|out| out);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(ended, "the server started with {config}: {stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    stderr
}

#[test]
fn a_file_destination_inside_a_store_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let real = std::fs::canonicalize(dir.path()).unwrap();
    let at = real.display();
    let err = refused(
        &real,
        &format!(
            "data_dir = \"data\"\n\
             [[destinations]]\ntype = \"store\"\npath = \"store\"\n\
             [[destinations]]\ntype = \"file\"\ndir = \"{at}/data/store/local\"\nfile_name = \"events.jsonl\"\n"
        ),
    );
    assert!(
        err.contains(&format!(
            "destination \"file-1\": its `dir` folder {at}/data/store/local lies inside the `path` \
             folder {at}/data/store of destination \"store-0\""
        )),
        "{err}"
    );
    assert!(!real.join("data").exists(), "nothing was created");
}

#[test]
fn a_store_holding_the_data_dir_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let real = std::fs::canonicalize(dir.path()).unwrap();
    let at = real.display();
    let err = refused(
        &real,
        "data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\npath = \"..\"\n",
    );
    assert!(
        err.contains(&format!(
            "destination \"store-0\": its `path` folder {at}/data/.. holds the data dir's signing \
             key {at}/data/signing.key"
        )),
        "{err}"
    );
}
