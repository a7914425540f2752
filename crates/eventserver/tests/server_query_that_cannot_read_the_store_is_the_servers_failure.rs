//! A query that cannot read the server's store (here a symbolic link with a segment
//! file's name inside it, which the store's walker refuses) is answered `500
//! store_unreadable` naming what could not be read, with none of DataFusion's wrappers:
//! the server's failure, since any statement fails the same until the store is mended.
//! Before, it was `400 query_failed` "External error: ...", blaming the client's
//! statement. Once the store is mended the same query is answered.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::Value;
use server_support::*;

async fn query(s: &TestServer, params: &[(&str, &str)]) -> (u16, Value) {
    let resp = s
        .client
        .get(s.url("/v1/query"))
        .query(params)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_inside_the_store_is_a_500_naming_it_and_the_statement_is_not_blamed() {
    let s = start(STORE).await;
    let (status, _, answer) = post(&s, event("n1", 1).to_string(), None).await;
    assert_eq!(status, 200, "{answer}");
    let segment = auditrail_store::StoreFiles::walk(&s.store())
        .unwrap()
        .segments()
        .next()
        .unwrap()
        .path
        .clone();
    let link = segment.with_file_name("00000000000000000099.jsonl");
    std::os::unix::fs::symlink(&segment, &link).unwrap();

    let sql = [("sql", "SELECT count(*) AS n FROM events")];
    for params in [&sql[..], &[("report", "node-usage")][..]] {
        let (status, answer) = query(&s, params).await;
        assert_eq!(status, 500, "{params:?}: {answer}");
        assert_eq!(answer["error"], "store_unreadable", "{params:?}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{}: is a symbolic link", link.display())),
            "{params:?}: {message}"
        );
    }

    std::fs::remove_file(&link).unwrap();
    let (status, answer) = query(&s, &sql).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rows"][0]["n"], 1, "{answer}");
}
