//! A nested-loop join whose left side outgrows the engine's memory limit must fail as
//! the memory limit ("Resources exhausted", which the server answers `503
//! query_memory_limit`), like every other operator. DataFusion's join falls back to
//! spilling its left side when the pool refuses it memory, and that fallback breaks
//! down on a repartitioned input: the query failed as an engine breakdown in
//! DataFusion's internal words ("the query failed inside the query engine (partition
//! not used yet)", or "(Left side produced no data to spill)"), which says nothing of
//! the limit that stopped it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use auditrail_query::{Engine, QueryError};

use crate::common::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_join_past_the_limit_is_the_memory_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::with_one_login(&tmp.path().join("store"));
    let engine = Engine::builder()
        .store(&store.root)
        .target_partitions(4)
        .memory_limit(256 << 20)
        .build()
        .unwrap();
    let sql = "SELECT count(*) AS c FROM range(3000) a, range(3000) b, range(3000) c \
               WHERE a.value + b.value + c.value = 7";
    match engine.collect(sql).await {
        Err(e @ QueryError::Engine(_)) if e.is_memory_limit() => {
            let said = e.to_string();
            assert!(said.starts_with("Resources exhausted: "), "{said}");
            assert!(!said.contains("failed inside the query engine"), "{said}");
        }
        other => panic!("expected the memory limit, got {other:?}"),
    }
}
