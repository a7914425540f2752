//! Asking for a type nobody registered names it and lists the registered ones, sorted.

use auditrail_core::testing::{MemoryConfig, MEMORY_REGISTRATION};
use auditrail_core::{Registry, RegistryError, TargetRegistration};

static ZEBRA: TargetRegistration =
    TargetRegistration::new::<MemoryConfig>("zebra", "test type", "", "test-crate");

#[test]
fn unknown_name_lists_the_registered_names_sorted() {
    // Registered out of order on purpose.
    let reg = Registry::from_registrations([&ZEBRA, &MEMORY_REGISTRATION]).unwrap();
    let err = reg.get("s3").unwrap_err();
    assert_eq!(
        err,
        RegistryError::Unknown {
            name: "s3".into(),
            known: vec!["memory".into(), "zebra".into()]
        }
    );
    let text = err.to_string();
    assert!(text.contains("`s3`"), "{text}");
    assert!(text.contains("memory, zebra"), "{text}");
}
