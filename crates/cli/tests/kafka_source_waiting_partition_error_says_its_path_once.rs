//! A partition whose store path is a regular file (a restore gone wrong) is listed in
//! `GET /v1/checkpoints` with `waiting` saying why, naming that path once. Before,
//! each error layer (the partition store, the store's I/O error, the folder creation)
//! prefixed the path its cause already said: "partition store P: P: P: is a regular
//! file, not a folder" (final62/04).
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use kafka_support::{listed_partition_stores_until, one_source, OneSource};
use serve_support::start;

#[test]
fn the_waiting_entry_of_a_store_path_that_is_a_file_names_it_once() {
    let OneSource {
        dir, topic, root, ..
    } = one_source("ckonce", "");
    let d = dir.path();
    let store = root.join(&topic).join("0").join("store");
    std::fs::create_dir_all(store.parent().unwrap()).unwrap();
    std::fs::write(&store, b"x\n").unwrap();

    let server = start(d, &["--config", "s.toml"]);
    let list = listed_partition_stores_until(&server, "the partition listed waiting, tried", |l| {
        l.len() == 1
            && l[0]["waiting"]
                .as_str()
                .is_some_and(|w| w.contains("is a regular file"))
    });
    let waiting = list[0]["waiting"].as_str().unwrap();
    let path = store.display().to_string();
    assert_eq!(waiting.matches(path.as_str()).count(), 1, "{waiting}");
    assert!(
        waiting.contains(&format!(
            "partition store {path}: is a regular file, not a folder"
        )),
        "{waiting}"
    );
}
