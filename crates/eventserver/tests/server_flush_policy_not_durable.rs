//! A store with a flush policy is not durable: the 200 says so (`"durable": false`).

use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_says_not_durable() {
    let s = start(
        "[[destinations]]\ntype = \"store\"\npath = \"store\"\nflush = { every_bytes = 1048576, every_seconds = 1 }\n",
    )
    .await;
    let (status, _, body) = post(&s, ndjson(&[event("n1", 1)]), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["durable"], false);
    assert!(body["note"].as_str().unwrap().contains("flush policy"));
}
