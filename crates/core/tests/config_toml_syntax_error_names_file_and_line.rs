//! A TOML syntax error names the file and where in it.

use crate::common;

#[test]
fn toml_syntax_error_names_file_and_line() {
    let (err, path) = common::config_error(
        "node.toml",
        "node = \"n1\"\n[[targets]\ntype = \"memory\"\n",
    );
    assert!(err.starts_with(&path), "{err}");
    assert!(err.contains("invalid TOML"), "{err}");
    assert!(err.contains("line 2"), "{err}");
}
