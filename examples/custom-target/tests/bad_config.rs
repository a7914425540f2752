//! Config mistakes are caught before anything runs, naming the key or the path.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use auditrail_core::{NodeConfig, Registry};

fn registry() -> Registry {
    Registry::from_registrations([&auditrail_example_custom_target::REGISTRATION]).unwrap()
}

#[test]
fn unknown_key_is_named() {
    let text =
        "node = \"n\"\n[[targets]]\ntype = \"jsonl\"\noutput = \"stdout\"\ncolour = \"red\"\n";
    let err = NodeConfig::parse(text, "node.toml", false, &registry())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("node.toml") && err.contains("targets[0]") && err.contains("colour"),
        "{err}"
    );
}

#[test]
fn unopenable_path_fails_at_build_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, "x").unwrap();
    let output = not_a_dir.join("events.jsonl");
    let err = auditrail_core::Dispatcher::builder(auditrail_core::NodeId::new("n").unwrap())
        .registered_target(
            "jsonl-0",
            &auditrail_example_custom_target::REGISTRATION,
            serde_json::json!({ "output": output }),
            auditrail_core::Filter::all(),
            auditrail_core::DeliveryOptions::default(),
        )
        .build()
        .expect_err("build must fail")
        .to_string();
    assert!(err.contains(&output.display().to_string()), "{err}");
}
