//! The only store's folder moved away while the server runs: once its batch failed,
//! every batch is answered `503 store_failing`, and `/readyz` says so
//! (`not_ready`, `reason` `store_failing`). It answered `reason` `io_error` with a
//! message saying "events of the partitions it has open are stored", which was not
//! true (final62/03).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::full_disk_support::readyz;
use crate::serve_support::{post_events, start};
use crate::tamper_support::ten;

const SALT: u64 = 631;

#[test]
fn readyz_says_store_failing_once_the_only_stores_batch_failed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\nack_timeout_ms = 600000\n\
         [[destinations]]\nname = \"a\"\ntype = \"store\"\npath = \"a\"\n",
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let (status, answer) = post_events(&server.addr, &ten("svc-a", 1, SALT), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    std::fs::rename(dir.path().join("data/a"), dir.path().join("data/a.moved")).unwrap();
    // Answered 503 store_failing once its retry failed too.
    let (status, answer) = post_events(&server.addr, &ten("svc-a", 11, SALT), None).unwrap();
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("store_failing")),
        "{answer}"
    );
    let until = Instant::now() + Duration::from_secs(30);
    let answer = loop {
        let (status, answer) = readyz(&server.addr);
        if status == 503 && answer["reason"] == "store_failing" {
            break answer;
        }
        assert!(
            Instant::now() < until,
            "/readyz never said store_failing: {status} {answer}\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(answer["status"], "not_ready", "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("store destination \"a\": its last batch failed (No such file")
            && !message.contains("partitions it has open are stored"),
        "{answer}"
    );
    server.kill9();
}
