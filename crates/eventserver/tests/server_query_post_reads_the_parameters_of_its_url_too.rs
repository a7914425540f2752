//! `POST /v1/query` reads the parameters of its URL with those of its form body, as
//! Prometheus's `POST /api/v1/query` does: before, only the body was read, and
//! `POST /v1/query?limit=1` answered every row, `?since=...` a report over all time, and
//! a misspelt `?sincee=` was answered `200`, each without a word. A parameter given in
//! both places is refused naming it (Prometheus keeps the body's and drops the URL's in
//! silence); an unknown one in the URL gets the `400 bad_query` of `GET`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use serde_json::Value;
use server_support::*;

/// `POST /v1/query?{query}` with the form `body`: status and JSON answer.
async fn post_form(s: &TestServer, query: &str, body: &[(&str, &str)]) -> (u16, Value) {
    let resp = s
        .client
        .post(format!("{}?{query}", s.url("/v1/query")))
        .form(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_parameters_of_the_url_are_read_with_those_of_the_body() {
    let s = start(STORE).await;
    let events = [
        at(event("n1", 1), "2026-11-01T10:00:00.000Z"),
        at(event("n1", 2), "2026-11-02T10:00:00.000Z"),
        at(event("n1", 3), "2026-11-03T10:00:00.000Z"),
    ];
    assert_eq!(post(&s, ndjson(&events), None).await.0, 200);

    let sql = [("sql", "SELECT seq FROM events ORDER BY seq")];
    let (status, answer) = post_form(&s, "limit=1", &sql).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (&answer["count"], &answer["truncated"]),
        (&1.into(), &true.into()),
        "{answer}"
    );

    let report = [("report", "node-usage")];
    let (status, answer) = post_form(&s, "since=2026-11-03", &report).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["window"], "since 2026-11-03T00:00:00.000Z",
        "{answer}"
    );
    assert_eq!(answer["report"][0]["events"], 1, "{answer}");

    // Every parameter in the URL, none in the body.
    let (status, answer) =
        post_form(&s, "sql=SELECT%20count(*)%20AS%20n%20FROM%20events", &[]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rows"][0]["n"], 3, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_or_doubly_given_parameter_of_the_url_is_refused_naming_it() {
    let s = start(STORE).await;
    let report = [("report", "node-usage")];
    let (status, answer) = post_form(&s, "sincee=2026-11-03", &report).await;
    assert_eq!(status, 400, "{answer}");
    let get = get_json(&s, "/v1/query?report=node-usage&sincee=2026-11-03").await;
    assert_eq!(answer, get, "the refusal of GET");
    assert_eq!(answer["error"], "bad_query");
    assert!(
        answer["message"].as_str().unwrap().contains("sincee"),
        "{answer}"
    );

    let sql = [("sql", "SELECT 1"), ("limit", "2")];
    let (status, answer) = post_form(&s, "limit=1", &sql).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"], "bad_query");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .starts_with("query parameter limit is given both in the URL and in the form body"),
        "{answer}"
    );

    // A URL value that is not UTF-8 once decoded, as in GET.
    let (status, answer) = post_form(&s, "since=%FF", &report).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .starts_with("query parameter since: its value is not UTF-8"),
        "{answer}"
    );
}
