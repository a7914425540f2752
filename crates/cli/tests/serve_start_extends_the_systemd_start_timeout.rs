//! A start reads every stored record once (minutes on a large store): `auditrail
//! serve` tells systemd it is starting and extends the start timeout
//! (`EXTEND_TIMEOUT_USEC=`) from the moment it begins, before `READY=1`, so that
//! `TimeoutStartSec=` does not kill a server in the middle of a long start (and again
//! at every restart). A unix datagram socket stands in for the service manager.
//! No timing assertions: the first extension is sent as the start begins.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use serve_support::*;

#[test]
fn the_start_timeout_is_extended_before_ready() {
    let dir = tempfile::tempdir().unwrap();
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
    let extended = seen[..ready]
        .iter()
        .find(|m| m.lines().any(|l| l.starts_with("EXTEND_TIMEOUT_USEC=")))
        .unwrap_or_else(|| panic!("no EXTEND_TIMEOUT_USEC= before READY=1: {seen:?}"));
    let usec: u64 = extended
        .lines()
        .find_map(|l| l.strip_prefix("EXTEND_TIMEOUT_USEC="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        usec >= 10_000_000,
        "an extension of {usec} µs: {extended:?}"
    );
    assert!(extended.contains("STATUS=starting"), "{extended:?}");
    // Nothing extends the start after it (systemd would apply it to the running state).
    assert!(
        !seen[ready..]
            .iter()
            .any(|m| m.contains("EXTEND_TIMEOUT_USEC=")),
        "{seen:?}"
    );
    assert_eq!(server.terminate(), 0);
}
