//! A target entry without `type` is an error naming the file, the position and `type`.

use crate::common;

#[test]
fn target_without_type_names_position_and_key() {
    let text = "node = \"n1\"\n\n[[targets]]\ntype = \"memory\"\nstore = \"a\"\n\n[[targets]]\nstore = \"b\"\n";
    let (err, path) = common::config_error("node.toml", text);
    assert!(err.starts_with(&path), "{err}");
    assert!(err.contains("targets[1]"), "{err}");
    assert!(err.contains("missing key `type`"), "{err}");
}
