//! A statement that changes something is refused, and the refusal names it: the
//! explained statement of `EXPLAIN [ANALYZE] COPY/INSERT ...` and the statement behind
//! `WITH x AS (...) INSERT ...`. Before, the first said "EXPLAIN is refused: the query
//! engine runs read-only statements only (SELECT, ..., EXPLAIN, ...)", naming as refused
//! a statement it lists as allowed, and the second was DataFusion's "not supported by
//! the query engine: Query INSERT ... not implemented yet", as if a later version would
//! run it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use auditrail_query::{Engine, QueryError};

use crate::common::Store;

#[tokio::test]
async fn the_refusal_names_the_statement_that_changes_something() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::with_one_login(&tmp.path().join("store"));
    let engine = Engine::builder().store(&store.root).build().unwrap();
    let copy_to = tmp.path().join("x.csv");
    for (sql, named) in [
        (
            format!("EXPLAIN COPY (SELECT 1) TO '{}'", copy_to.display()),
            "COPY (under EXPLAIN) is refused: ",
        ),
        (
            "EXPLAIN ANALYZE INSERT INTO events SELECT * FROM events".to_owned(),
            "INSERT (under EXPLAIN) is refused: ",
        ),
        (
            "WITH x AS (SELECT 1) INSERT INTO events SELECT * FROM events".to_owned(),
            "INSERT (after WITH) is refused: ",
        ),
        ("COPY (SELECT 1) TO 'y.csv'".to_owned(), "COPY is refused: "),
    ] {
        match engine.sql(&sql).await {
            Err(e @ QueryError::NotReadOnly { .. }) => {
                assert!(e.to_string().starts_with(named), "{sql}: {e}");
            }
            other => panic!("{sql}: expected the refusal, got {other:?}"),
        }
    }
    assert!(!copy_to.exists());
}
