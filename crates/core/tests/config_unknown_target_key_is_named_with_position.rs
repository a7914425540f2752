//! A key a target type does not know is an error naming the file, the target's
//! position and the key (the target's own fields are parsed with unknown keys refused).

use crate::common;

#[test]
fn unknown_key_in_second_target_names_position_and_key() {
    let text = r#"
node = "n1"

[[targets]]
type = "memory"
store = "a"

[[targets]]
type = "memory"
store = "b"
colour = "blue"
"#;
    let (err, path) = common::config_error("node.toml", text);
    assert!(err.starts_with(&path), "{err}");
    assert!(err.contains("targets[1]"), "{err}");
    assert!(err.contains("`colour`"), "{err}");
}
