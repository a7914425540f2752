//! A store moved to another disk with a symbolic link left at its path (the documented
//! move, docs/operations.md) is found by `discover` (what `query --dir` and `sql --dir`
//! read), as `verify` and `serve` find it: `discover` took only the folders that are
//! not links, and left the linked store's events out of every answer, saying nothing
//! (tryout63/04). A link that leads back up does not make the walk loop: each store is
//! read once.

use crate::common::{block_on, event, Store};
use auditrail_query::datafusion::arrow::array::{Array, Int64Array};
use auditrail_query::{discover, Engine, Source};
use serde_json::json;

fn store(root: &std::path::Path, topic: &str, first: u64) {
    let mut s = Store::new(root);
    for seq in first..first + 5 {
        s.put(&event(
            "n1",
            seq,
            "2026-12-05T10:00:00.000Z",
            topic,
            None,
            json!({"msgType": "login", "authUser": format!("u{seq}")}),
        ));
    }
    s.write();
    // As the server's first checkpoint leaves it: what tells a store's root.
    auditrail_store::root::load_or_create_store_id(root).unwrap();
}

#[test]
fn query_dir_reads_a_store_behind_a_symbolic_link() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    store(&data.join("a"), "generic", 1);
    store(&data.join("b"), "authfail", 6);
    let disk2 = dir.path().join("disk2");
    std::fs::create_dir(&disk2).unwrap();
    std::fs::rename(data.join("b"), disk2.join("b")).unwrap();
    std::os::unix::fs::symlink(disk2.join("b"), data.join("b")).unwrap();
    // A link back up to the data dir: followed, it would be walked for ever.
    std::os::unix::fs::symlink(&data, data.join("a-loop")).unwrap();

    let sources = discover(&data).unwrap();
    assert_eq!(
        sources,
        vec![Source::Store(data.join("a")), Source::Store(data.join("b"))],
    );
    let engine = Engine::builder().sources(sources).build().unwrap();
    let batches = block_on(engine.collect("select count(*) from events")).unwrap();
    let count = batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    assert_eq!(count.value(0), 10, "the events of both stores");
}
