//! An SQL answer whose columns would share a name (`SELECT * FROM events e1, events
//! e2`: each row held `"id"` twice, and a JSON reader kept one of the two values without
//! a word), or a struct in it two fields of one name, is refused before it runs: `400
//! duplicate_column`, the message naming each name and its columns (from 1) and saying
//! to name them apart with `AS`. DataFusion's own refusal of two identical expressions
//! (`SELECT authUser, authUser`) gets the same code. Names are compared exactly: `id` and
//! `ID` are two keys, answered.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::{json, Value};
use server_support::*;

/// `GET /v1/query?sql=...` and the same as a `POST` form: both answers (status, body).
async fn ask(s: &TestServer, sql: &str) -> [(u16, Value); 2] {
    let get = s
        .client
        .get(s.url("/v1/query"))
        .query(&[("sql", sql)])
        .send()
        .await
        .unwrap();
    let post = s
        .client
        .post(s.url("/v1/query"))
        .form(&[("sql", sql)])
        .send()
        .await
        .unwrap();
    let mut answers = Vec::new();
    for resp in [get, post] {
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        answers.push((status, serde_json::from_str(&text).unwrap()));
    }
    answers.try_into().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn columns_of_one_name_are_refused_naming_the_name_and_its_columns() {
    let s = start(STORE).await;
    let events = [event("n1", 1), event("n1", 2)];
    assert_eq!(post(&s, ndjson(&events), None).await.0, 200);

    for (sql, says) in [
        (
            "SELECT * FROM events e1, events e2 LIMIT 1",
            r#"more than one column named "id" (columns 1 and 17), "timestamp" (columns 2 and 18)"#,
        ),
        (
            "SELECT e1.id, e2.id FROM events e1 JOIN events e2 ON e1.seq < e2.seq",
            r#"more than one column named "id" (columns 1 and 2): "#,
        ),
        (
            "SELECT named_struct('user', authUser, 'user', node) AS who FROM events",
            r#"more than one field named "user" (fields 1 and 2 of "who"): "#,
        ),
        (
            "SELECT authUser, seq, authUser FROM events",
            "the expressions `events.authUser` (column 1) and `events.authUser` (column 3) give two columns of the same name: ",
        ),
    ] {
        for (status, body) in ask(&s, sql).await {
            assert_eq!(status, 400, "{sql}: {body}");
            assert_eq!(body["error"], "duplicate_column", "{sql}: {body}");
            let message = body["message"].as_str().unwrap();
            assert!(message.contains(says), "{sql}: {message}");
            assert!(
                message.contains("needs a name of its own") && message.contains(" AS "),
                "{sql}: {message}"
            );
        }
    }

    // Named apart, the same join is answered; names that differ in case only are two
    // keys of the row.
    for (status, body) in ask(
        &s,
        r#"SELECT e1.id, e2.id AS "ID" FROM events e1 JOIN events e2 ON e1.seq < e2.seq"#,
    )
    .await
    {
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["rows"],
            json!([{"id": events[0]["id"], "ID": events[1]["id"]}]),
            "{body}"
        );
    }
}
