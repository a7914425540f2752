//! A misspelt top-level key is an error naming the file and the key.

use crate::common;

#[test]
fn unknown_top_level_key_names_file_and_key() {
    let (err, path) = common::config_error("node.toml", "node = \"n1\"\nrundir = \"run\"\n");
    assert!(err.starts_with(&path), "{err}");
    assert!(err.contains("`rundir`"), "{err}");
}
