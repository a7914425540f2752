//! An SQL answer (`/v1/query?sql=`) says which values of its text columns look like
//! other values of the same column (`lookalikes`, as a report's answer does, each
//! column named by its name): two users `Iris` and `lris` were two rows that read
//! alike, and nothing said so. A value that mixes scripts (`аdmin`, Cyrillic `а`) is
//! marked alone; the same value in another column, where it looks like no other
//! (the node `lris`), is not; an answer with none has no `lookalikes`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::{json, Value};
use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_of_a_column_that_look_alike_are_marked_in_the_answer() {
    let s = start(STORE).await;
    let events: Vec<Value> = [
        ("n1", "Iris"),
        ("lris", "lris"),
        ("n1", "\u{430}dmin"),
        ("n1", "bob"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (node, user))| with_user(node, i as u64 + 1, user))
    .collect();
    assert_eq!(post(&s, ndjson(&events), None).await.0, 200);

    let answer = s
        .sql("SELECT authUser, node, message FROM events ORDER BY seq")
        .await;
    assert_eq!(answer["count"], 4, "{answer}");
    assert_eq!(
        answer["lookalikes"],
        json!([
            {"column": "authUser", "value": "Iris", "escaped": [0]},
            {"column": "authUser", "value": "lris", "escaped": [0]},
            {"column": "authUser", "value": "\u{430}dmin", "escaped": [0]},
        ]),
        "{answer}"
    );
    // The rows are as they were.
    assert_eq!(answer["rows"][1]["authUser"], "lris", "{answer}");

    // Renamed, the column's own name.
    let answer = s
        .sql("SELECT authUser AS who FROM events WHERE seq <= 2")
        .await;
    assert_eq!(
        answer["lookalikes"],
        json!([
            {"column": "who", "value": "Iris", "escaped": [0]},
            {"column": "who", "value": "lris", "escaped": [0]},
        ]),
        "{answer}"
    );

    // None: not written.
    let answer = s.sql("SELECT node FROM events").await;
    assert!(answer.get("lookalikes").is_none(), "{answer}");
}
