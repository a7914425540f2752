//! `/v1/query` holds an answer of at most 128 MiB (docs/protocol.md, "Limits"). A 110 MB
//! answer (110 rows of 1 MB) is answered, and a 150 MB one is refused by its size
//! (`400 query_failed` "the answer is larger than 128 MiB"). Before, the worker built
//! the answer whole, in copies that took some 9 times its size, so the 110 MB answer
//! ended the worker at its memory limit (`503 query_memory_limit` "exceeded its memory
//! limit of 1024 MiB"), and the answer limit was never what stopped a query.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::query_support;
use crate::serve_support;

use query_support::query;
use serve_support::*;

#[test]
fn an_answer_under_128_mib_is_answered_and_one_over_is_refused_by_its_size() {
    let dir = tempfile::tempdir().unwrap();
    // At the server's priority: on a machine busy with other work (CI runs tests side
    // by side), a worker at the default niceness 19 gets little CPU, and meets its time
    // limit before its answer is made.
    let server = start_with_env(
        dir.path(),
        &["--data-dir", "data"],
        &[("AUDITRAIL_QUERY_NICENESS", "0")],
    );
    let first = event_line(&new_id(1, 72), "n1", 1);
    assert_eq!(post_events(&server.addr, &first, None).unwrap().0, 200);

    let (status, answer) = query(
        &server.addr,
        "SELECT length(x) AS n, x FROM (SELECT repeat('x', 1000000) AS x FROM range(110))",
    );
    assert_eq!(status, 200, "{}", answer["message"]);
    assert_eq!(answer["count"], 110);
    assert_eq!(answer["rows"][109]["n"], 1_000_000);

    // Over the answer limit in its JSON text, not in the engine's memory: 25 MB of
    // U+0001, written `\u0001` (6 bytes each), is a 150 MB answer. (140 rows of 1 MB
    // of `x` were refused by the worker's memory limit first on some runs: the
    // engine's copies of 140 MB values, not the answer, reached it.)
    let (status, answer) = query(
        &server.addr,
        "SELECT repeat(chr(1), 1000000) AS x FROM range(25)",
    );
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"], "query_failed", "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("the answer is larger than 128 MiB"),
        "{message}"
    );
    assert_eq!(server.terminate(), 0);
}
