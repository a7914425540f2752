//! Opening a store (the walk of its folders and the recovery's read of every segment)
//! is the first long phase of a start: half a minute on a year of hourly partitions.
//! It is counted like the rest of the start, so that systemd's start timeout is
//! extended while it progresses (`EXTEND_TIMEOUT_USEC=`) and `STATUS=` says how far
//! it got; once the store is open, what its opening read is sent at once, before
//! `READY=1`. The open of a store used to count nothing: the start was extended once,
//! then logged that it read nothing while it read the store. A unix datagram socket
//! stands in for the service manager. No timing assertions: a phase's end is sent as
//! it ends, whatever the machine's speed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use serve_support::*;

#[test]
fn the_opening_of_each_store_is_reported_as_progress_before_ready() {
    let dir = tempfile::tempdir().unwrap();
    let partitions = 1500;
    let files = store_of_hourly_partitions(dir.path(), partitions, 0x5201);
    assert!(files >= partitions as usize, "{files} segment files");
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let server = start_with_env(
        dir.path(),
        &["--listen", "127.0.0.1:0", "--data-dir", "data"],
        &[("NOTIFY_SOCKET", socket_path.to_str().unwrap())],
    );
    let mut seen: Vec<String> = Vec::new();
    let until = Instant::now() + Duration::from_secs(30);
    let mut buf = [0u8; 4096];
    while Instant::now() < until && !seen.iter().any(|m| m.lines().any(|l| l == "READY=1")) {
        if let Ok(n) = socket.recv(&mut buf) {
            seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    let ready = seen
        .iter()
        .position(|m| m.lines().any(|l| l == "READY=1"))
        .unwrap_or_else(|| panic!("no READY=1 within 30 s: {seen:?}"));
    let extended_with = |status: &str| {
        seen[..ready].iter().find(|m| {
            m.lines().any(|l| l.starts_with("EXTEND_TIMEOUT_USEC="))
                && m.lines()
                    .any(|l| l.starts_with(&format!("STATUS=starting: {status}")))
        })
    };
    // The opening: every partition folder walked, every segment file read.
    let opened = extended_with("store \"store\" opened: ")
        .unwrap_or_else(|| panic!("no extension saying the store was opened: {seen:?}"));
    assert!(
        opened.contains(&format!(", {files} segment files (")),
        "{files} segment files were read to open the store: {opened:?}"
    );
    // Then the de-duplication's own read of every record.
    let rebuilt = extended_with("de-duplication rebuilt: ")
        .unwrap_or_else(|| panic!("no extension saying de-duplication was rebuilt: {seen:?}"));
    assert!(
        rebuilt.contains(&format!(": {partitions} stored records read")),
        "{rebuilt:?}"
    );
    assert_eq!(server.terminate(), 0);
}
