//! `auditrail serve` killed (`kill -9`, the OOM killer, a crash) while a `/v1/query`
//! runs: its query worker process was re-parented and went on computing, with its
//! memory, past the 30 s a query may run (until its CPU-time limit, twice that). A
//! restarted server does not know it; every crash during queries left such orphans.
//! The worker ends itself once its parent is no longer the server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::query_support;
use crate::serve_support;

use serve_support::*;

/// Whether process `pid` still runs (exists and is not a zombie waiting for its
/// reaper).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

#[test]
fn a_query_worker_does_not_outlive_its_killed_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let first = event_line(&new_id(1, 91), "n1", 1);
    assert_eq!(post_events(&server.addr, &first, None).unwrap().0, 200);

    // A query that computes for far longer than this test waits.
    let asking = query_support::ask_a_long_query(server.addr.clone());
    let pid = server.child.id();
    let until = Instant::now() + Duration::from_secs(30);
    let worker = loop {
        if let Some(w) = query_support::workers_of(pid).first() {
            break *w;
        }
        assert!(Instant::now() < until, "no query worker started");
        std::thread::sleep(Duration::from_millis(20));
    };

    server.kill9();
    let _ = asking.join();
    // Bounded wait: without the fix the worker runs for up to a minute of CPU time.
    let until = Instant::now() + Duration::from_secs(20);
    while running(worker) {
        if Instant::now() > until {
            let _ = std::process::Command::new("kill")
                .args(["-9", &worker.to_string()])
                .status();
            panic!("the query worker {worker} still ran 20 s after its server was killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
