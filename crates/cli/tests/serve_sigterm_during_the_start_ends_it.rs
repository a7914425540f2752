//! A SIGTERM (`systemctl stop`, `restart`) sent while `auditrail serve` reads its
//! stores to start (minutes on a large store) is logged at once and ends the start at
//! its next file: exit 0 as a stop, a line saying the start was stopped and where,
//! never listening nor telling systemd it is ready. It used to be seen only once the
//! start had ended and the server listened, so that systemd's stop timeout killed it
//! meanwhile. The store is left as a crash would leave it at worst: the next start
//! opens it and finds every event.
//!
//! The start is watched through the service manager's socket (`NOTIFY_SOCKET`, a unix
//! datagram socket standing in for systemd): its first message comes as the start
//! begins, before the store of a few thousand partitions is walked and read twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::io::Read;
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serve_support::*;

#[test]
fn a_sigterm_while_the_stores_are_read_ends_the_start_with_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let partitions = 4000;
    store_of_hourly_partitions(dir.path(), partitions, 0x5202);
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let stderr_path = dir.path().join("stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"])
        .env("NOTIFY_SOCKET", &socket_path)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let stderr = || std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let mut seen: Vec<String> = Vec::new();
    let mut buf = [0u8; 4096];
    let mut receive = |seen: &mut Vec<String>| {
        if let Ok(n) = socket.recv(&mut buf) {
            seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    };
    // The start began: its first extension.
    let until = Instant::now() + Duration::from_secs(30);
    while !seen.iter().any(|m| m.contains("STATUS=starting")) {
        assert!(Instant::now() < until, "no start message: {}", stderr());
        receive(&mut seen);
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        receive(&mut seen);
        if Instant::now() > until {
            let _ = child.kill();
            panic!("still running 30 s after SIGTERM: {}", stderr());
        }
    };
    while socket.recv(&mut buf).is_ok_and(|n| {
        seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        true
    }) {}
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let log = stderr();
    assert!(
        !seen.iter().any(|m| m.lines().any(|l| l == "READY=1")) && stdout.is_empty(),
        "the start ended before the SIGTERM came (a store too small for this machine?) \
         or went on after it: stdout {stdout:?}, notifications {seen:?}, log {log}"
    );
    assert!(log.contains("SIGTERM"), "{log}");
    assert!(
        log.contains("the start was stopped while "),
        "no line saying the start was stopped: {log}"
    );
    assert_eq!(code, Some(0), "{log}");
    assert!(
        seen.iter().any(|m| m.lines().any(|l| l == "STOPPING=1")),
        "{seen:?}"
    );

    // Nothing was left half done: the next start opens the store with every event.
    let server = start(dir.path(), &["--data-dir", "data"]);
    assert_eq!(server.terminate(), 0);
    assert_eq!(
        stored_ids(&dir.path().join("data/store")).len(),
        partitions as usize
    );
}
