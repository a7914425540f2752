//! An application with a target crate of its own, set up from a node config as the
//! README shows: the crate is linked only if the program refers to it, so the facade's
//! one-call setup takes its registration (`dispatcher_builder_from_file_with`), and a
//! setup without it says how to link it. Before, the facade had no way to be given
//! one, and the error said only "unknown target type `mine`; registered types: ...".
//!
//! The in-memory target of `auditrail_core::testing` stands for the application's own
//! crate: its registration is never submitted to `inventory`, as an own crate's is
//! lost when nothing refers to it.

use std::time::Duration;

use auditrail::testing::{MemoryConfig, MEMORY_REGISTRATION};
use auditrail::{audit, topics};

fn node_config(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("node.toml");
    let store = dir.join("memory-store");
    std::fs::write(
        &path,
        format!(
            "node = \"n1\"\n[[targets]]\ntype = \"memory\"\nstore = {:?}\n",
            store.display().to_string()
        ),
    )
    .unwrap();
    path
}

#[test]
fn the_own_registration_given_to_the_setup_builds_and_delivers() {
    let dir = tempfile::tempdir().unwrap();
    let (_config, builder) = auditrail::dispatcher_builder_from_file_with(
        &node_config(dir.path()),
        &[&MEMORY_REGISTRATION],
    )
    .unwrap();
    let dispatcher = builder.build().unwrap();
    dispatcher
        .emit(audit!(topics::GENERIC, "login", "authUser" => "alice"))
        .unwrap();
    let report = dispatcher.shutdown_blocking(Duration::from_secs(10));
    assert!(report.is_clean(), "{report:?}");
    let delivered = MemoryConfig::store(&dir.path().join("memory-store")).events();
    assert_eq!(delivered.len(), 1);
}

// With no first-party target linked the lookup fails as `Empty` instead (which says
// the same about REGISTRATION).
#[cfg(any(feature = "file", feature = "eventserver"))]
#[test]
fn without_it_the_error_says_how_to_link_an_own_target_crate() {
    let dir = tempfile::tempdir().unwrap();
    let err = auditrail::dispatcher_builder_from_file(&node_config(dir.path())).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("unknown target type `memory`")
            && text.contains("REGISTRATION")
            && text.contains("auditrail::registry_with"),
        "{text}"
    );
}
