//! A `/v1/query` query still running at the time limit is stopped: its worker process
//! is killed (none is left running), the answer is `503 query_time_limit`, and the
//! next query is answered. The server runs in this test's process, with the
//! `auditrail` binary as its query worker and a time limit of 2 s.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::query_support;
use crate::serve_support;

use std::time::Duration;

use query_support::{query, serve_with_worker, workers_of};
use serve_support::{event_line, new_id, post_events};

/// Hours of work: 10^11 rows (a sum: a count of `range` would come from its
/// statistics).
const ENDLESS: &str = "SELECT sum(value) AS n FROM range(100000000000)";

#[test]
fn a_query_past_the_time_limit_is_killed_and_answered_503() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve_with_worker(&dir.path().join("data"), |q| {
        q.time_limit = Duration::from_secs(2);
    });
    let addr = s.running.local_addr().to_string();
    let line = event_line(&new_id(1, 73), "n1", 1);
    assert_eq!(post_events(&addr, &line, None).unwrap().0, 200);

    let (status, answer) = query(&addr, ENDLESS);
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"], "query_time_limit", "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("longer than 2 s"),
        "{answer}"
    );
    // Answered only once its worker was killed and reaped (this test's server's: no
    // other test runs a worker in this process meanwhile, see `serve_with_worker`).
    assert_eq!(workers_of(std::process::id()), Vec::<u32>::new());

    let (status, answer) = query(&addr, "SELECT count(*) AS n FROM events");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rows"][0]["n"], 1);
    let report = s.runtime.block_on(s.running.shutdown());
    assert!(report.destinations.is_clean());
}
