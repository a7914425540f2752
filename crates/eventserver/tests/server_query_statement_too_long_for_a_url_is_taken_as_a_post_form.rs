//! A statement too long for a URL is sent as `POST /v1/query` with the parameters of
//! `GET` as an `application/x-www-form-urlencoded` body (as Prometheus's
//! `POST /api/v1/query`): a request line over 64 KiB gets an empty `414` from hyper,
//! without the JSON error body every other answer has, and there was no other way to
//! send it. The form is read as a query string is: the same parameters, the same
//! `bad_query` refusals (a value not UTF-8 once decoded names the parameter); another
//! content type is `415`, a body over 1 MiB `413`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use serde_json::Value;
use server_support::*;

async fn post_form(s: &TestServer, content_type: &str, body: String) -> (u16, Value) {
    let resp = s
        .client
        .post(s.url("/v1/query"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_statement_is_answered_as_a_post_form() {
    let s = start(STORE).await;
    let events: Vec<_> = (1..=3).map(|seq| event("n1", seq)).collect();
    assert_eq!(post(&s, ndjson(&events), None).await.0, 200);

    // About 100 KB of SQL: a node list as a dashboard would build it.
    let nodes: Vec<String> = (0..10_000).map(|i| format!("'x{i:05}'")).collect();
    let sql = format!(
        "SELECT count(*) AS n FROM events WHERE node IN ('n1', {})",
        nodes.join(", ")
    );
    assert!(sql.len() > 64 << 10);
    let body = serde_urlencoded::to_string([("sql", sql.as_str()), ("limit", "10")]).unwrap();
    let (status, answer) = post_form(&s, FORM, body.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rows"][0]["n"], 3, "{answer}");
    // The parameter's case and charset do not matter.
    let (status, _) = post_form(&s, "Application/X-WWW-Form-Urlencoded; charset=UTF-8", body).await;
    assert_eq!(status, 200);

    // The refusals of GET, from the body.
    let (status, answer) = post_form(&s, FORM, "sql=SELECT%20%27%FF%27".into()).await;
    assert_eq!(
        (status, &answer["error"]),
        (400, &"bad_query".into()),
        "{answer}"
    );
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("query parameter sql:"),
        "{answer}"
    );
    let (status, answer) = post_form(&s, FORM, "sql=SELECT%201&color=red".into()).await;
    assert_eq!(
        (status, &answer["error"]),
        (400, &"bad_query".into()),
        "{answer}"
    );
    // Another type of body, and one too large.
    let (status, answer) = post_form(&s, "application/json", r#"{"sql":"SELECT 1"}"#.into()).await;
    assert_eq!(status, 415, "{answer}");
    let huge = format!("sql=SELECT%20{}", "1".repeat(1 << 20));
    let (status, answer) = post_form(&s, FORM, huge).await;
    assert_eq!(status, 413, "{answer}");
}
