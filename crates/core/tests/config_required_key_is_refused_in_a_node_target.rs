//! `required_key` is an event-server destination option (only events received with
//! that key reach the destination). In a node's `[[targets]]` it would make the
//! target accept nothing, silently: it is refused, naming the key. In a server's
//! `[[destinations]]` it is accepted.

use crate::common;

use auditrail_core::config::parse_target;
use auditrail_core::testing::MEMORY_REGISTRATION;
use auditrail_core::{EntryProblem, Registry, Section};
use serde_json::json;

#[test]
fn required_key_in_a_node_config_is_an_error_naming_it() {
    let text = "node = \"n1\"\n\n[[targets]]\ntype = \"memory\"\nname = \"mem\"\nstore = \"a\"\nrequired_key = \"svc-a\"\n";
    let (err, path) = common::config_error("node.toml", text);
    assert!(err.starts_with(&path), "{err}");
    assert!(
        err.contains("targets[0] (\"mem\", type \"memory\")"),
        "{err}"
    );
    assert!(err.contains("`required_key`"), "{err}");
    assert!(err.contains("destination option"), "{err}");
}

#[test]
fn the_same_entry_is_a_valid_destination() {
    let registry = Registry::from_registrations([&MEMORY_REGISTRATION]).unwrap();
    let entry = json!({"type": "memory", "store": "a", "required_key": "svc-a"});
    let err = parse_target(Section::Targets, 0, entry.clone(), &registry).unwrap_err();
    assert_eq!(
        err.problem,
        EntryProblem::ServerOnly {
            key: "required_key"
        }
    );
    let spec = parse_target(Section::Destinations, 0, entry, &registry).unwrap();
    assert_eq!(spec.filter.required_key.as_deref(), Some("svc-a"));
}
