//! The node config may be JSON (by `.json` extension or a leading `{`), with the
//! same structure and the same checks as TOML.

use crate::common;

use std::path::Path;

use auditrail_core::testing::{MemoryConfig, MEMORY_REGISTRATION};
use auditrail_core::{NodeConfig, Registry, Selection};

const JSON: &str = r#"{
  "node": "n1",
  "targets": [
    {"type": "memory", "name": "mem", "store": "a", "topics": ["authfail"], "queue_capacity": 7}
  ]
}"#;

#[test]
fn json_config_parses_like_toml() {
    let registry = Registry::from_registrations([&MEMORY_REGISTRATION]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for file in ["node.json", "node.conf"] {
        let path = dir.path().join(file);
        std::fs::write(&path, JSON).unwrap();
        let config = NodeConfig::load(&path, &registry).unwrap();
        assert_eq!(config.node.as_str(), "n1");
        let t = &config.targets[0];
        assert_eq!(t.name, "mem");
        assert_eq!(t.registration.name, "memory");
        assert_eq!(t.delivery.queue_capacity, 7);
        assert!(matches!(&t.filter.topics, Selection::Only(list) if list.len() == 1));
        let own = t.config.downcast_ref::<MemoryConfig>();
        assert_eq!(own.map(|c| c.store.as_path()), Some(Path::new("a")));
    }
}

#[test]
fn json_errors_name_the_file_and_place_too() {
    let (err, path) = common::config_error(
        "node.json",
        r#"{"node": "n1", "targets": [{"type": "memory", "store": "a", "colour": 1}]}"#,
    );
    assert!(err.starts_with(&path), "{err}");
    assert!(err.contains("targets[0]"), "{err}");
    assert!(err.contains("`colour`"), "{err}");
}
