//! A first-party target type that is not linked says which cargo feature links it.

use auditrail_core::testing::MEMORY_REGISTRATION;
use auditrail_core::{Registry, RegistryError};

#[test]
fn first_party_name_not_linked_names_its_feature() {
    let reg = Registry::from_registrations([&MEMORY_REGISTRATION]).unwrap();
    for name in ["file", "eventserver", "kafka"] {
        let err = reg.get(name).unwrap_err();
        assert_eq!(
            err,
            RegistryError::FeatureDisabled {
                name: name.into(),
                feature: name.into()
            }
        );
        let text = err.to_string();
        assert!(text.contains(&format!("cargo feature `{name}`")), "{text}");
    }
}
