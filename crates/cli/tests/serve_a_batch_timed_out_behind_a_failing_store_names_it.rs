//! The batch that meets store `a`'s folder moved away (its write fails, `No such file
//! or directory`, and is retried) waits out `ack_timeout_ms` (2 s here): it is answered
//! `503 store_failing` naming `a` and the OS error, saying the server retries it. It
//! was answered a bare `503 ack_timeout` ("the destinations did not acknowledge"),
//! naming neither the store nor the cause (tryout62/03).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::full_disk_support::two_stores_with;
use crate::serve_support::post_events;
use crate::tamper_support::ten;

const SALT: u64 = 629;

#[test]
fn a_batch_timed_out_behind_a_failing_store_is_answered_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let server = two_stores_with(dir.path(), &a, &b, SALT, 2_000, "");
    std::fs::rename(&a, dir.path().join("a.moved")).unwrap();

    let (status, answer) = post_events(&server.addr, &ten("svc-a", 11, SALT), None).unwrap();
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("store_failing")),
        "{answer}\n{}",
        server.stderr()
    );
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.starts_with("store destination \"a\": its last batch failed (No such file")
            && message.contains("not acknowledged within 2000 ms")
            && message.contains("the server retries it"),
        "{answer}"
    );
    server.kill9();
}
