//! A program written as the README shows (`main() -> Result<(), Box<dyn Error>>`, `?`
//! on each call) that returns a setup or build error prints it with `Debug` (`Error:
//! {err:?}`): that is the error's message with its causes, as a person reads it, not a
//! dump of its fields (`Config(Entry { file: .., error: EntryError { place: .. } })`).

// Each test needs a target to configure.
#![cfg(any(feature = "file", feature = "eventserver"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::error::Error;
use std::path::Path;

/// The README's example, up to its first event: what a failed setup or build returns.
fn readme_main(config: &Path) -> Result<(), Box<dyn Error>> {
    let (_config, builder) = auditrail::dispatcher_builder_from_file(config)?;
    let dispatcher = builder.build()?;
    dispatcher.shutdown_blocking(std::time::Duration::from_secs(5));
    Ok(())
}

/// What the standard library prints for an `Err` returned from `main`.
fn printed_by_main(config_text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("node.toml");
    std::fs::write(&config, config_text).unwrap();
    let err = readme_main(&config).expect_err("the config is refused");
    let printed = format!("Error: {err:?}");
    assert_eq!(printed, format!("Error: {err}"), "Debug is the message");
    printed
}

#[cfg(feature = "file")]
#[test]
fn a_config_error_prints_as_its_message_naming_the_entry_and_the_key() {
    let printed = printed_by_main("node = \"n1\"\n[[targets]]\ntype = \"file\"\ndirr = \"x\"\n");
    assert!(
        printed.starts_with("Error: ")
            && printed.contains("node.toml: targets[0] (\"file-0\", type \"file\")")
            && printed.contains("`dirr`"),
        "{printed}"
    );
    assert!(!printed.contains("EntryError"), "{printed}");
}

#[cfg(feature = "eventserver")]
#[test]
fn a_build_error_prints_as_its_message_naming_the_target_and_the_file() {
    let printed = printed_by_main(
        "node = \"n1\"\n[[targets]]\ntype = \"eventserver\"\nurl = \"https://127.0.0.1:9\"\n\
         ca_file = \"missing-ca.pem\"\n",
    );
    assert!(
        printed.contains("target \"eventserver-0\" (type \"eventserver\")")
            && printed.contains("missing-ca.pem")
            && printed.contains("No such file or directory"),
        "{printed}"
    );
    assert!(!printed.contains("type_name:"), "{printed}");
}
