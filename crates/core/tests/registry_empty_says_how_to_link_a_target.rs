//! With no target type linked, the error says so and how to link one. This test
//! binary links no target crate, so the real inventory is empty.

use auditrail_core::{Registry, RegistryError};

#[test]
fn empty_inventory_explains_how_to_link_a_target() {
    let err = Registry::from_inventory().unwrap_err();
    assert_eq!(err, RegistryError::Empty);
    let text = err.to_string();
    assert!(text.contains("no target type is linked"), "{text}");
    assert!(text.contains("feature"), "{text}");
    assert!(text.contains("REGISTRATION"), "{text}");
}

#[test]
fn empty_explicit_list_is_the_same_error() {
    assert_eq!(
        Registry::from_registrations([]).unwrap_err(),
        RegistryError::Empty
    );
}
