//! An event dated past the retention of one store that takes it, but within that of
//! another store that takes it too (a `recent` store of 1 day beside a `longterm` one of
//! 400 days, both of every topic), is taken: `longterm` keeps it, and only `recent`'s
//! next pass deletes its copy. It was refused (`400 timestamp_past_retention` naming
//! `recent`), so a node's backlog after days away never reached the store kept for it:
//! dead-lettered, refused again when sent again (tryout `final/01`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use auditrail_core::Timestamp;
use server_support::*;

const STORES: &str = "[[destinations]]\ntype = \"store\"\nname = \"recent\"\npath = \"recent\"\n\
    retention = \"1d\"\n\
    [[destinations]]\ntype = \"store\"\nname = \"longterm\"\npath = \"longterm\"\n\
    retention = \"400d\"\n";

/// `hours` before now, as an event's timestamp.
fn hours_ago(hours: i64) -> String {
    Timestamp::from_unix_millis(Timestamp::now().unix_millis() - hours * 3_600_000)
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_that_keeps_it_gets_it() {
    let s = start(STORES).await;
    let behind = at(event("n-back", 1), &hours_ago(240));
    let id = behind["id"].as_str().unwrap().to_owned();
    let (status, _, body) = post(&s, ndjson(&[behind]), None).await;
    assert_eq!(status, 200, "{body}");

    // Retention runs at start: `longterm` still has it.
    let dir = s.dir;
    s.running.shutdown().await;
    let config = config_from(dir.path(), STORES);
    let s = start_with(dir, config).await;
    let kept = stored_ids(&s.dir.path().join("data/longterm"));
    assert_eq!(kept.get(id.as_str()), Some(&1), "{kept:?}");
    s.running.shutdown().await;
}
