//! `SELECT CAST(timestamp AS VARCHAR) FROM events ORDER BY timestamp` selects one
//! column, which DataFusion names `timestamp`, as the ORDER BY column it adds to the
//! answer, hidden, to sort by: the engine refuses the two names. The refusal says
//! that (the column has the name of the ORDER BY column), still as a duplicate-column
//! refusal (the server's `400 duplicate_column`). Before, it said "the expressions
//! `CAST(...)` (column 1) and `events.timestamp` (column 2) give two columns of the
//! same name" of a one-column SELECT.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use auditrail_query::Engine;

use crate::common::Store;

#[tokio::test]
async fn the_refusal_names_the_order_by_column() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::with_one_login(&tmp.path().join("store"));
    let engine = Engine::builder().store(&store.root).build().unwrap();
    let sql = "SELECT CAST(timestamp AS VARCHAR) FROM events ORDER BY timestamp";
    match engine.sql(sql).await {
        Err(e) => {
            assert!(e.is_duplicate_column(), "{e}");
            let said = e.to_string();
            assert!(
                said.contains(
                    "(column 1) has the name of `events.timestamp`, which ORDER BY sorts by"
                ),
                "{said}"
            );
            assert!(!said.contains("column 2"), "{said}");
        }
        Ok(_) => panic!("the column named as the sort column was not refused"),
    }
    // Two selected columns of one name are still said as such.
    match engine
        .sql("SELECT authUser, authUser FROM events ORDER BY timestamp")
        .await
    {
        Err(e) => assert!(e.to_string().contains("(column 2)"), "{e}"),
        Ok(_) => panic!("two columns of one name were not refused"),
    }
}
