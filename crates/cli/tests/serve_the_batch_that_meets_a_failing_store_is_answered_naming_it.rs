//! The batch that meets store `a`'s folder moved away (its write fails, `No such file
//! or directory`, and is retried, in order, before any later batch of `a`) is answered
//! `503 store_failing` naming `a` and the OS error once the retry failed too, not after
//! the whole `ack_timeout_ms`. It waited out `ack_timeout_ms` (30 s by default) for a
//! bare `503 ack_timeout` ("the destinations did not acknowledge"), naming neither the
//! store nor the cause (tryout62/03).
//!
//! "Before the time-out" without a timing assertion: `ack_timeout_ms` is 10 minutes and
//! the test's client waits at most 60 s, so a batch left waiting gets no answer at all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::full_disk_support::two_stores_with;
use crate::serve_support::post_events;
use crate::tamper_support::ten;

const SALT: u64 = 629;

#[test]
fn the_batch_that_meets_a_failing_store_is_answered_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let server = two_stores_with(dir.path(), &a, &b, SALT, 600_000, "");
    std::fs::rename(&a, dir.path().join("a.moved")).unwrap();

    let (status, answer) =
        post_events(&server.addr, &ten("svc-a", 11, SALT), None).unwrap_or_else(|e| {
            panic!(
                "no answer to the batch that met the moved folder: {e}\n{}",
                server.stderr()
            )
        });
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("store_failing")),
        "{answer}\n{}",
        server.stderr()
    );
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.starts_with("store destination \"a\": its last batch failed (No such file")
            && message.contains("the server retries it"),
        "{answer}"
    );
    server.kill9();
}
