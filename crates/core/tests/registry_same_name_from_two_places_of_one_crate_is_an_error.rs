//! Two registrations of one type name whose crates share a name (two versions of one
//! target crate in the dependency graph, or two modules of one crate) are refused,
//! naming where each was made. They used to be taken for one registration seen twice
//! (explicitly and through inventory), since only the crate name told them apart: one
//! of them was dropped without a word, and a config naming the type got whichever the
//! linker happened to list first.

use auditrail_core::testing::MemoryConfig;
use auditrail_core::{Registry, RegistryError};

mod first {
    auditrail_core::register_target! {
        name: "twice",
        description: "the first of two",
        example: "",
        config: auditrail_core::testing::MemoryConfig,
    }
}

mod second {
    auditrail_core::register_target! {
        name: "twice",
        description: "the second of two",
        example: "",
        config: super::MemoryConfig,
    }
}

#[test]
fn two_registrations_of_one_name_in_one_crate_are_refused_naming_both() {
    let err = Registry::from_registrations([&first::REGISTRATION, &second::REGISTRATION])
        .expect_err("two registrations of `twice` were taken as one");
    let version = env!("CARGO_PKG_VERSION");
    let test_crate = module_path!();
    assert_eq!(
        err,
        RegistryError::Duplicate {
            name: "twice".into(),
            first: format!("{test_crate}::first {version}"),
            second: format!("{test_crate}::second {version}"),
        }
    );
}

#[test]
fn one_registration_seen_explicitly_and_through_inventory_counts_once() {
    // The inventory holds both `twice` registrations of this test crate, so it is
    // refused as a whole; `first` given explicitly next to its own inventory copy is
    // one registration.
    let copies: Vec<_> = auditrail_core::inventory::iter::<auditrail_core::TargetRegistration>
        .into_iter()
        .filter(|r| r.description == "the first of two")
        .collect();
    assert_eq!(copies.len(), 1, "the inventory holds `first` once");
    let reg = Registry::from_registrations([&first::REGISTRATION, copies[0]]).unwrap();
    assert_eq!(reg.get("twice").unwrap().description, "the first of two");
}
