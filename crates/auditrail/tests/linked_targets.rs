//! The facade links every first-party target its features enable: their names are in
//! `auditrail::registry()`, and a disabled one names its feature.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

#[test]
fn enabled_first_party_targets_are_registered() {
    let registry = auditrail::registry().unwrap();
    let names: Vec<&str> = registry.names().collect();
    assert_eq!(names.contains(&"file"), cfg!(feature = "file"), "{names:?}");
    assert_eq!(
        names.contains(&"eventserver"),
        cfg!(feature = "eventserver"),
        "{names:?}"
    );
    assert_eq!(
        names.contains(&"kafka"),
        cfg!(feature = "kafka"),
        "{names:?}"
    );
}

#[test]
fn linked_registrations_match_the_features() {
    let linked: Vec<&str> = auditrail::linked_registrations()
        .iter()
        .map(|r| r.name)
        .collect();
    let expected: Vec<&str> = [
        ("file", cfg!(feature = "file")),
        ("eventserver", cfg!(feature = "eventserver")),
        ("kafka", cfg!(feature = "kafka")),
    ]
    .into_iter()
    .filter_map(|(n, on)| on.then_some(n))
    .collect();
    assert_eq!(linked, expected);
}

#[cfg(not(feature = "kafka"))]
#[test]
fn disabled_kafka_names_its_feature() {
    let err = auditrail::registry()
        .unwrap()
        .get("kafka")
        .unwrap_err()
        .to_string();
    assert!(err.contains("feature `kafka`"), "{err}");
}

/// Every first-party type this build does not link names the feature that links it,
/// in config errors too.
#[test]
fn every_unlinked_first_party_type_names_its_feature() {
    let registry = auditrail::registry().unwrap();
    let linked: Vec<&str> = registry.names().collect();
    for t in auditrail::FIRST_PARTY {
        if linked.contains(&t.name) {
            continue;
        }
        let err = registry.get(t.name).unwrap_err();
        assert!(
            matches!(&err, auditrail::RegistryError::NotLinked { name, .. } if name == t.name),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains(&format!("cargo feature `{}`", t.feature)),
            "{text}"
        );
        let config = format!("node = \"n\"\n[[targets]]\ntype = \"{}\"\n", t.name);
        let err = auditrail::NodeConfig::parse(&config, "node.toml", false, &registry)
            .unwrap_err()
            .to_string();
        assert!(err.contains("targets[0]"), "{err}");
        assert!(err.contains(&format!("--features {}", t.feature)), "{err}");
    }
    // An unknown name that is not first-party only lists what is linked.
    let text = registry.get("s3").unwrap_err().to_string();
    assert!(text.contains("unknown target type `s3`"), "{text}");
    assert!(!text.contains("cargo feature"), "{text}");
}
