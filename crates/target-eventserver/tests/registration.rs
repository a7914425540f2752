//! The crate registers the `eventserver` type, and its example config is valid.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn eventserver_is_registered_and_its_example_validates() {
    // Reference the crate so the linker keeps its registration.
    let _ = &auditrail_target_eventserver::REGISTRATION;
    let registry = auditrail_core::Registry::from_inventory().unwrap();
    let reg = registry.get("eventserver").unwrap();
    assert_eq!(reg.origin, "auditrail-target-eventserver");
    let example: toml::Value = toml::from_str(reg.example_config).unwrap();
    let entry = serde_json::to_value(&example["targets"][0]).unwrap();
    let spec =
        auditrail_core::config::parse_target(auditrail_core::Section::Targets, 0, entry, &registry);
    // ca_file names a path that does not exist here: validation is pure, so it passes.
    assert!(spec.is_ok(), "{:?}", spec.err());
}
