//! A `/v1/query` worker is one thread computing flat out for up to 30 s, and 2 run at
//! once: at the server's own CPU priority they took the cores of a small machine from
//! ingest (acknowledgements fell to a quarter while two long queries ran on 2 cores).
//! A worker runs at a lower priority (a higher niceness) than its server, every thread
//! of it, so that collection gets the CPU it needs first.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::query_support;
use crate::serve_support;

use serve_support::*;

/// The niceness of each thread of process `pid` (field 19 of `/proc/PID/task/TID/stat`;
/// on Linux each thread has its own).
fn niceness_of_threads(pid: u32) -> Vec<i32> {
    let mut found = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return found;
    };
    for task in tasks.map_while(Result::ok) {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ...`: comm may hold spaces, so count the fields after `)`
        // (the state is field 3, the niceness field 19).
        if let Some(nice) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(16))
            .and_then(|n| n.parse().ok())
        {
            found.push(nice);
        }
    }
    found
}

#[test]
fn a_query_worker_runs_at_a_lower_cpu_priority_than_its_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let first = event_line(&new_id(1, 92), "n1", 1);
    assert_eq!(post_events(&server.addr, &first, None).unwrap().0, 200);

    // A query that computes for far longer than this test looks at it.
    let asking = query_support::ask_a_long_query(server.addr.clone());
    let pid = server.child.id();
    let until = Instant::now() + Duration::from_secs(30);
    // The worker lowers its priority itself, right after reading its request: look
    // until its query thread runs (two threads at least: main and the query's).
    let (worker, nices) = loop {
        if let Some(&w) = query_support::workers_of(pid).first() {
            let nices = niceness_of_threads(w);
            if nices.len() >= 2 {
                break (w, nices);
            }
        }
        assert!(Instant::now() < until, "no query worker ran its query");
        std::thread::sleep(Duration::from_millis(20));
    };
    let server_nices = niceness_of_threads(pid);
    server.kill9();
    let _ = asking.join();
    let _ = std::process::Command::new("kill")
        .args(["-9", &worker.to_string()])
        .status();

    let server_nice = server_nices.iter().copied().max().unwrap();
    assert!(
        nices.iter().all(|&n| n > server_nice),
        "the query worker's threads run at niceness {nices:?}, not below the server's \
         priority (its threads: {server_nices:?})"
    );
}
