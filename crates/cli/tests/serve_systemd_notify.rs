//! `auditrail serve` under systemd's notification protocol, without systemd: a unix
//! datagram socket stands in for the service manager (`NOTIFY_SOCKET`), and the real
//! binary tells it `READY=1` once its port accepts connections (the status names the
//! bound address), pings `WATCHDOG=1` when `WATCHDOG_USEC` asks for it, brackets a
//! SIGHUP reload with `RELOADING=1` and `READY=1`, and says `STOPPING=1` on SIGTERM.
//! No timing assertions: each message is waited for (up to 30 s) and checked in order.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::{Duration, Instant};

use serve_support::*;

/// What the stand-in service manager received, in order.
struct Manager {
    socket: UnixDatagram,
    seen: Vec<String>,
}

impl Manager {
    fn bind(path: &Path) -> Manager {
        let socket = UnixDatagram::bind(path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Manager {
            socket,
            seen: Vec::new(),
        }
    }

    /// Waits (up to 30 s) for a message holding the line `line`; returns that message.
    fn wait_for(&mut self, line: &str) -> String {
        let until = Instant::now() + Duration::from_secs(30);
        let mut buf = [0u8; 4096];
        while Instant::now() < until {
            if let Ok(n) = self.socket.recv(&mut buf) {
                let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
                self.seen.push(msg.clone());
                if msg.lines().any(|l| l == line) {
                    return msg;
                }
            }
        }
        panic!("no {line:?} within 30 s; received {:?}", self.seen);
    }
}

#[test]
fn ready_after_listening_watchdog_pings_reload_and_stop_are_announced() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("notify.sock");
    let mut manager = Manager::bind(&socket);
    // A short watchdog (pings every 0.5 s), so the test sees one soon.
    let socket_path = socket.to_str().unwrap();
    let server = start_with_env(
        dir.path(),
        &["--listen", "127.0.0.1:0", "--data-dir", "data"],
        &[("NOTIFY_SOCKET", socket_path), ("WATCHDOG_USEC", "1000000")],
    );

    let ready = manager.wait_for("READY=1");
    assert!(
        ready.contains(&format!("STATUS=listening on http://{}", server.addr)),
        "{ready:?}"
    );
    // Ready means accepting: the first request after it is answered, no retry.
    let (status, _) = request(&server.addr, "GET", "/readyz", &[], b"").unwrap();
    assert_eq!(status, 200);
    assert!(
        !manager.seen[..manager.seen.len() - 1]
            .iter()
            .any(|m| m.contains("WATCHDOG=1")),
        "watchdog pings before READY=1: {:?}",
        manager.seen
    );

    manager.wait_for("WATCHDOG=1");

    hangup(&server);
    manager.wait_for("RELOADING=1");
    let after = manager.wait_for("READY=1");
    assert!(!after.contains("RELOADING=1"), "{after:?}");

    assert_eq!(server.terminate(), 0);
    manager.wait_for("STOPPING=1");
}
