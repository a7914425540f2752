//! `auditrail serve` started with a listening socket passed by the service manager
//! (systemd socket activation: fd 3, `LISTEN_FDS=1`, `LISTEN_PID` its pid) serves on that
//! socket, not on its `listen` address, and prints the socket's address. The tests rely
//! on it to start a server on a port they named to clients before (a node's config, a
//! forward destination) without releasing the port in between.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::io::ErrorKind;
use std::net::TcpStream;

use serve_support::*;

#[test]
fn the_server_serves_on_the_passed_socket_and_prints_its_address() {
    let dir = tempfile::tempdir().unwrap();
    let port = Port::new();
    // A `listen` of its own that the server must not use.
    let server = start_on(
        dir.path(),
        &port,
        &["--listen", "127.0.0.1:1", "--data-dir", "data"],
    );
    assert_eq!(server.addr, port.addr().to_string());
    let (status, body) =
        post_events(&server.addr, &event_line(&new_id(1, 7), "n1", 1), None).unwrap();
    assert_eq!(status, 200, "{body}");
    let log = server.stderr();
    assert!(log.contains("LISTEN_FDS"), "the start says so: {log}");
    assert_eq!(server.terminate(), 0);
    assert_eq!(stored_ids(&dir.path().join("data/store")).len(), 1);
    // The socket went with the server: the port (still held by the test) refuses.
    let err = TcpStream::connect(port.addr()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
}
