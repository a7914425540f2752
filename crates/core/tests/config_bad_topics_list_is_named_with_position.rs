//! A bad `topics` list (empty, or holding an invalid topic) is an error naming the
//! file, the target's position and the `topics` key.

use crate::common;

#[test]
fn empty_topics_list_is_refused_with_place_and_key() {
    let text = "node = \"n1\"\n\n[[targets]]\ntype = \"memory\"\nstore = \"a\"\ntopics = []\n";
    let (err, path) = common::config_error("node.toml", text);
    assert!(err.starts_with(&path), "{err}");
    assert!(err.contains("targets[0]"), "{err}");
    assert!(err.contains("topics"), "{err}");
    assert!(err.contains("empty list"), "{err}");
}

#[test]
fn invalid_topic_in_list_is_refused_with_place_and_key() {
    let text =
        "node = \"n1\"\n\n[[targets]]\ntype = \"memory\"\nstore = \"a\"\ntopics = [\"generic\", \"Not A Topic\"]\n";
    let (err, path) = common::config_error("node.toml", text);
    assert!(err.starts_with(&path), "{err}");
    assert!(err.contains("targets[0]"), "{err}");
    assert!(err.contains("topics"), "{err}");
    assert!(err.contains("Not A Topic"), "{err}");
}
