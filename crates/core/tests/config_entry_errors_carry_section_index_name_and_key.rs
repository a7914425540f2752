//! A bad target entry is a typed error: the list it is in (said by the caller:
//! `targets` or `destinations`), its position, its name and type, and the key path at
//! fault, as data. The message is made from them, so nobody rewrites it.

// Test setup: a failed setup should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use auditrail_core::config::parse_target;
use auditrail_core::testing::MEMORY_REGISTRATION;
use auditrail_core::{EntryError, EntryPlace, EntryProblem, Registry, Section};
use serde_json::json;

fn parse(section: Section, index: usize, entry: serde_json::Value) -> EntryError {
    let registry = Registry::from_registrations([&MEMORY_REGISTRATION]).unwrap();
    parse_target(section, index, entry, &registry).expect_err("the entry is invalid")
}

#[test]
fn the_section_index_name_type_and_key_are_data() {
    let err = parse(
        Section::Destinations,
        2,
        json!({"type": "memory", "name": "mem", "store": "a", "colour": "blue"}),
    );
    assert_eq!(
        err.place,
        EntryPlace {
            section: Section::Destinations,
            index: 2,
            name: Some("mem".into()),
            type_name: Some("memory".into()),
        }
    );
    assert_eq!(err.key(), Some("colour"));
    assert!(matches!(&err.problem, EntryProblem::Invalid(i) if i.key.as_deref() == Some("colour")));
    let text = err.to_string();
    assert!(
        text.starts_with("destinations[2] (\"mem\", type \"memory\"): `colour`"),
        "{text}"
    );
}

#[test]
fn nested_keys_dispatch_keys_and_early_failures_are_located_too() {
    // A dispatch key's value: the key path names the item.
    let err = parse(
        Section::Targets,
        0,
        json!({"type": "memory", "store": "a", "topics": ["generic", "Not A Topic"]}),
    );
    assert_eq!(err.key(), Some("topics"));
    assert_eq!(err.place.name.as_deref(), Some("memory-0"));
    assert!(err.to_string().starts_with("targets[0]"), "{err}");
    // Before the type is known: only the section and the index.
    let err = parse(Section::Destinations, 1, json!({"store": "a"}));
    assert_eq!(err.problem, EntryProblem::MissingType);
    assert_eq!((err.place.name.clone(), err.key()), (None, Some("type")));
    assert_eq!(err.to_string(), "destinations[1]: missing key `type`");
    // An unknown type.
    let err = parse(Section::Targets, 3, json!({"type": "s3"}));
    assert!(matches!(err.problem, EntryProblem::Type(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("targets[3] (type \"s3\"): unknown target type `s3`"),
        "{err}"
    );
    // A value of the wrong type inside the target's own table.
    let err = parse(Section::Targets, 0, json!({"type": "memory", "store": 5}));
    assert_eq!(err.key(), Some("store"));
}
