//! The crate registers `jsonl` through inventory once it is linked.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

#[test]
fn jsonl_is_in_the_inventory_registry() {
    // Referencing REGISTRATION links the crate; inventory must then list it by itself.
    let _ = &auditrail_example_custom_target::REGISTRATION;
    let registry = auditrail_core::Registry::from_inventory().unwrap();
    let reg = registry.get("jsonl").unwrap();
    assert!(reg.example_config.contains("type = \"jsonl\""));
    assert_eq!(reg.origin, "auditrail-example-custom-target");
}
