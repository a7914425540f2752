//! Queries asked at once beyond the number that run at once (2) wait for their turn:
//! eight at once are all answered 200 (none refused, as the web console's five
//! reports at once must be), and no more than two worker processes ever run together.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::query_support;
use crate::serve_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use query_support::{query, workers_of};
use serve_support::*;

/// Long enough (hundreds of ms in a debug build) that eight of them overlap. A sum:
/// a count of `range` would be answered from its statistics, without reading a row.
const SLOW: &str = "SELECT sum(value) AS n FROM range(3000000)";

#[test]
fn eight_queries_at_once_are_all_answered_two_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let line = event_line(&new_id(1, 72), "n1", 1);
    assert_eq!(post_events(&server.addr, &line, None).unwrap().0, 200);

    let pid = server.child.id();
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut most = 0;
            while !done.load(Ordering::SeqCst) {
                most = most.max(workers_of(pid).len());
                std::thread::sleep(Duration::from_millis(5));
            }
            most
        })
    };
    let askers: Vec<_> = (0..8)
        .map(|_| {
            let addr = server.addr.clone();
            std::thread::spawn(move || query(&addr, SLOW))
        })
        .collect();
    for asker in askers {
        let (status, answer) = asker.join().unwrap();
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["rows"][0]["n"], 3_000_000u64 * 2_999_999 / 2);
    }
    done.store(true, Ordering::SeqCst);
    let most = watcher.join().unwrap();
    assert!(most >= 1, "no query worker was ever seen");
    assert!(most <= 2, "{most} query workers ran at once");
    assert_eq!(server.terminate(), 0);
}
