//! The crate registers the `kafka` target type, with an example config that parses.

use auditrail_core::{NodeConfig, Registry};

#[test]
fn kafka_is_registered_through_inventory() {
    // Referencing REGISTRATION keeps the crate linked (see the registry docs).
    assert_eq!(auditrail_target_kafka::REGISTRATION.name, "kafka");
    let registry = Registry::from_inventory().unwrap();
    let reg = registry.get("kafka").unwrap();
    assert_eq!(reg.origin, "auditrail-target-kafka");
    assert!(!reg.description.is_empty());
}

#[test]
fn the_example_config_is_a_valid_targets_entry() {
    let registry = Registry::with_linked(&[&auditrail_target_kafka::REGISTRATION]).unwrap();
    let text = format!(
        "node = \"node-1\"\n{}",
        auditrail_target_kafka::REGISTRATION.example_config
    );
    let config = NodeConfig::parse(&text, "example.toml", false, &registry).unwrap();
    assert_eq!(config.targets.len(), 1);
    assert_eq!(config.targets[0].registration.name, "kafka");
}
