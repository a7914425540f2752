//! The crate registers the `file` target type, and its example config is valid.

use auditrail_core::{NodeConfig, Registry};

#[test]
fn the_registry_holds_the_file_type() {
    // Reference the registration so the crate is linked into this test binary.
    assert_eq!(auditrail_target_file::REGISTRATION.name, "file");
    let registry = Registry::from_inventory().unwrap();
    assert!(
        registry.names().any(|n| n == "file"),
        "{:?}",
        registry.names().collect::<Vec<_>>()
    );
    assert_eq!(
        registry.get("file").unwrap().origin,
        "auditrail-target-file"
    );
}

#[test]
fn the_example_config_is_a_valid_targets_entry() {
    let registry = Registry::from_inventory().unwrap();
    let example = registry.get("file").unwrap().example_config;
    let text = format!("node = \"n1\"\n{example}");
    let config = NodeConfig::parse(&text, "example.toml", false, &registry).unwrap();
    assert_eq!(config.targets.len(), 1);
    assert_eq!(config.targets[0].name, "local-audit");
    let own = config.targets[0]
        .config
        .downcast_ref::<auditrail_target_file::FileTargetConfig>()
        .unwrap();
    assert_eq!(own.rotation, Some(auditrail_target_file::Rotation::Size));
}
