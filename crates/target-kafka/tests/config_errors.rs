//! Config mistakes are refused when the node config is loaded or the target is built,
//! with the key at fault named. No broker needed: nothing here connects.

use auditrail_core::{DeliveryOptions, Dispatcher, Filter, NodeConfig, NodeId, Registry};

#[allow(clippy::unwrap_used)]
fn parse(entry: &str) -> Result<NodeConfig, String> {
    let registry = Registry::with_linked(&[&auditrail_target_kafka::REGISTRATION]).unwrap();
    let text = format!("node = \"n\"\n[[targets]]\ntype = \"kafka\"\n{entry}");
    NodeConfig::parse(&text, "node.toml", false, &registry).map_err(|e| e.to_string())
}

#[test]
fn unknown_keys_bad_templates_and_misplaced_properties_are_named() {
    for (entry, needle) in [
        ("brokers = \"a:9092\"\ntopic = \"t\"\nbroker = \"x\"", "broker"),
        ("brokers = \"a:9092\"", "topic"),
        ("brokers = \"a:9092\"\ntopic = \"audit/{topic}\"", "'/'"),
        ("brokers = \"a:9092\"\ntopic = \"a-{user}\"", "{user}"),
        (
            "brokers = \"a:9092\"\ntopic = \"t\"\n[targets.properties]\n\"bootstrap.servers\" = \"b:1\"",
            "brokers",
        ),
    ] {
        let e = parse(entry).unwrap_err();
        assert!(e.contains(needle), "{entry:?}: {e}");
        assert!(e.contains("targets[0]"), "{e}");
    }
}

#[test]
fn a_property_librdkafka_does_not_know_fails_the_build_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let err = Dispatcher::builder(NodeId::new("n").unwrap())
        .run_dir(dir.path().join("run"))
        .registered_target(
            "kafka",
            &auditrail_target_kafka::REGISTRATION,
            serde_json::json!({"brokers": "127.0.0.1:1", "topic": "t",
                               "properties": {"linger.mss": 5}}),
            Filter::all(),
            DeliveryOptions::default(),
        )
        .build()
        .expect_err("librdkafka refuses an unknown property");
    let e = err.to_string();
    assert!(e.contains("linger.mss"), "{e}");
}
