//! A SIGTERM sent the moment `auditrail serve` is ready (it listens and prints its
//! address; systemd is told) stops it cleanly: final checkpoint, exit 0. The server
//! watches SIGTERM before it announces readiness; a handler installed only afterwards
//! leaves a window in which the signal's default action kills the process (seen in CI,
//! where a test stopped a server right after reading its address).
//!
//! The window is made deterministic: the server's stdout is a pipe that is already full,
//! so the server blocks on printing its address, after it started listening and before
//! anything that comes later in its start. The test waits until the port accepts
//! connections, sends SIGTERM, and only then drains the pipe.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rustix::fs::{fcntl_getfl, fcntl_setfl, OFlags};

#[test]
fn a_sigterm_right_after_readiness_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    // Fill the pipe: non-blocking writes until it is full, then blocking again (the flag
    // belongs to the open pipe, which the child shares).
    let (reader, writer) = rustix::pipe::pipe().unwrap();
    let flags = fcntl_getfl(&writer).unwrap();
    fcntl_setfl(&writer, flags | OFlags::NONBLOCK).unwrap();
    let mut filler = std::fs::File::from(writer.try_clone().unwrap());
    let mut filled = 0usize;
    loop {
        match filler.write(&[b'.'; 4096]) {
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => panic!("filling the pipe: {e}"),
        }
    }
    drop(filler);
    fcntl_setfl(&writer, flags).unwrap();
    assert!(filled > 0);

    let stderr_path = dir.path().join("stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        // Port 0: the address is read from the log (stdout is blocked), whose
        // `listening` line comes right after the bind.
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(["--data-dir", "data"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let stderr = || std::fs::read_to_string(&stderr_path).unwrap_or_default();

    // Listening: the server is past its start and blocked on printing its address.
    let until = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        if let Some(addr) = logged_address(&stderr()) {
            break addr;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the server ended before listening ({status}): {}", stderr());
        }
        assert!(
            Instant::now() < until,
            "the server never listened: {}",
            stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    TcpStream::connect(&addr).unwrap_or_else(|e| panic!("{addr} does not accept: {e}"));
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::TERM,
    )
    .unwrap();

    // Unblock it and read what it printed.
    let drain = std::thread::spawn(move || {
        let mut out = Vec::new();
        std::fs::File::from(reader).read_to_end(&mut out).unwrap();
        String::from_utf8_lossy(&out).into_owned()
    });
    let until = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("the server did not stop after SIGTERM: {}", stderr());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let printed = drain.join().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "{status}: the server must catch a SIGTERM sent once it is ready: {}",
        stderr()
    );
    assert!(printed.contains("listening on http://"), "{printed}");
    assert!(stderr().contains("stopped cleanly"), "{}", stderr());
}

/// The address of the JSON log's `listening` line, once it is written.
fn logged_address(log: &str) -> Option<String> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["fields"]["message"] == "listening")
        .and_then(|l| l["fields"]["address"].as_str().map(str::to_owned))
}
