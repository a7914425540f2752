//! `warn_if_no_file_target` warns (as the reference product does) when a node config
//! has no `file` target, and stays quiet when it has one.

// Test helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used)]

#[path = "common/recorder.rs"]
mod recorder;

use auditrail_core::testing::MEMORY_REGISTRATION;
use auditrail_core::{NodeConfig, Registry};
use recorder::Recorder;
use tracing_subscriber::layer::SubscriberExt;

fn registry() -> Registry {
    Registry::from_registrations([&auditrail_target_file::REGISTRATION, &MEMORY_REGISTRATION])
        .unwrap()
}

fn warnings_for(config: &str) -> (bool, Vec<recorder::Recorded>) {
    let config = NodeConfig::parse(config, "node.toml", false, &registry()).unwrap();
    let recorder = Recorder::default();
    let warned = tracing::subscriber::with_default(
        tracing_subscriber::registry().with(recorder.clone()),
        || auditrail_target_file::warn_if_no_file_target(&config),
    );
    (warned, recorder.events())
}

#[test]
fn a_node_without_a_file_target_is_warned_about() {
    let (warned, events) =
        warnings_for("node = \"edge-7\"\n[[targets]]\ntype = \"memory\"\nstore = \"/tmp/x\"\n");
    assert!(warned);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].level, tracing::Level::WARN);
    assert!(events[0].fields["message"].contains("edge-7"), "{events:?}");
    assert!(events[0].fields["message"].contains("no local audit file target"));
}

#[test]
fn a_node_with_a_file_target_is_not() {
    let (warned, events) = warnings_for(
        "node = \"edge-7\"\n[[targets]]\ntype = \"file\"\ndir = \"/tmp/audit-never-built\"\n",
    );
    assert!(!warned);
    assert!(events.is_empty(), "{events:?}");
}
