//! A storing server with `[[destinations]]` of its own hands what its Kafka source
//! reads to those whose filters take it (acknowledged, before the partition store
//! takes the batch), besides its partition stores.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::time::{Duration, Instant};

use kafka_support::{
    brokers, create_topic, id_counts, produce, shared_key, storing_config, unique,
};
use serve_support::{event_line, new_id, start, stored_ids};

#[test]
fn the_destinations_whose_filter_takes_an_event_get_it_too() {
    let brokers = brokers();
    let topic = unique("dest");
    create_topic(&brokers, &topic, 2);
    let mut generic = Vec::new();
    let mut values = Vec::new();
    for n in 1..=15u64 {
        let id = new_id(n, 5);
        let mut value = event_line(&id, "node-1", n);
        if n % 3 == 0 {
            value = value.replace("\"generic\"", "\"authfail\"");
        } else {
            generic.push(id);
        }
        values.push(value.into_bytes());
    }
    let records: Vec<(&str, Option<&[u8]>)> = values
        .iter()
        .map(|v| ("node-1", Some(v.as_slice())))
        .collect();
    produce(&brokers, &topic, &records);

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, _) = shared_key(d);
    let root = d.join("partitions");
    let config = storing_config("s-data", &key, &brokers, &topic, &unique("g"), &root)
        + "[[destinations]]\ntype = \"store\"\npath = \"copy\"\ntopics = [\"generic\"]\n";
    std::fs::write(d.join("s.toml"), config).unwrap();
    let server = start(d, &["--config", "s.toml"]);
    let until = Instant::now() + Duration::from_secs(60);
    while id_counts(&root).len() < 15 {
        assert!(Instant::now() < until, "not stored: {}", server.stderr());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(server.terminate(), 0);

    let copy = stored_ids(&d.join("s-data/copy"));
    let mut in_copy: Vec<&String> = copy.keys().collect();
    in_copy.sort();
    let mut expected: Vec<&String> = generic.iter().collect();
    expected.sort();
    assert_eq!(in_copy, expected, "the generic events, and only them");
    assert!(copy.values().all(|n| *n == 1), "{copy:?}");
    assert!(id_counts(&root).values().all(|n| *n == 1));
}
