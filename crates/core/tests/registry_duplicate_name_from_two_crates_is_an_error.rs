//! Two crates registering the same type name is an error naming both; the same
//! registration seen twice (explicitly and through inventory) is not.

use auditrail_core::testing::{MemoryConfig, MEMORY_REGISTRATION};
use auditrail_core::{Registry, RegistryError, TargetRegistration};

static OTHER_MEMORY: TargetRegistration =
    TargetRegistration::new::<MemoryConfig>("memory", "an impostor", "", "other-crate");

#[test]
fn same_name_from_two_crates_is_refused() {
    let err = Registry::from_registrations([&MEMORY_REGISTRATION, &OTHER_MEMORY]).unwrap_err();
    assert_eq!(
        err,
        RegistryError::Duplicate {
            name: "memory".into(),
            first: "auditrail-core".into(),
            second: "other-crate".into(),
        }
    );
    assert!(err.to_string().contains("registered twice"), "{err}");
}

#[test]
fn the_same_registration_twice_counts_once() {
    let reg = Registry::from_registrations([&MEMORY_REGISTRATION, &MEMORY_REGISTRATION]).unwrap();
    assert_eq!(reg.names().collect::<Vec<_>>(), ["memory"]);
}
