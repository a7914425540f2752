//! A `/v1/query` query that allocates beyond its memory limit (here `repeat` of 2 GB: a
//! scalar function, which DataFusion's memory pool does not see) fails alone with
//! `503 query_memory_limit` naming the limit (the server's limit, not a fault of the
//! statement: it was `400 query_failed`); the server, whose memory it never was, then
//! answers the next query and stores the next event.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::query_support;
use crate::serve_support;

use query_support::query;
use serve_support::*;

#[test]
fn a_query_beyond_its_memory_fails_and_the_server_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let first = event_line(&new_id(1, 71), "n1", 1);
    assert_eq!(post_events(&server.addr, &first, None).unwrap().0, 200);

    let (status, answer) = query(&server.addr, "SELECT length(repeat('x', 2000000000)) AS n");
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"], "query_memory_limit", "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("exceeded its memory limit of 1024 MiB"),
        "{message}"
    );

    let (status, answer) = query(&server.addr, "SELECT count(*) AS n FROM events");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rows"][0]["n"], 1);
    let second = event_line(&new_id(2, 71), "n1", 2);
    assert_eq!(post_events(&server.addr, &second, None).unwrap().0, 200);
    let (status, answer) = query(&server.addr, "SELECT count(*) AS n FROM events");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rows"][0]["n"], 2);
    assert_eq!(server.terminate(), 0);
}
