//! `auditrail serve` given, by socket activation (fd 3, `LISTEN_FDS=1`), a TCP socket
//! that does not listen refuses to start, saying so: a connected socket (what a systemd
//! `.socket` unit with `Accept=yes` passes: one connection) names `Accept=no`, a socket
//! bound and never listened on says that. Both were taken (`/work/tryout` case
//! `s48-edge-g/02-socket-activation-non-listening-socket-says-listening.sh`): the
//! server printed `listening on http://...`, reported ready, then logged `accept failed:
//! Invalid argument (os error 22)` twenty times a second and never answered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::net::{TcpListener, TcpStream};
use std::os::fd::OwnedFd;

/// Runs `auditrail serve` with `socket` as fd 3 in a fresh folder; its exit code and
/// its stdout and stderr, or a panic when it is still running after 30 s (it took the
/// socket).
fn serve_with(socket: OwnedFd) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = auditrail_testkit::port::hand_socket_to(env!("CARGO_BIN_EXE_auditrail"), socket);
    cmd.args(["serve", "--data-dir", "data", "--listen", "127.0.0.1:0"]);
    serve_support::exit_of_refused_start(
        &mut cmd,
        dir.path(),
        "the server took the socket and runs",
    )
}

#[test]
fn a_connected_socket_is_refused_naming_accept_no() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (accepted, _) = listener.accept().unwrap();
    let (code, out, err) = serve_with(accepted.into());
    assert_ne!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(!out.contains("listening on"), "{out}");
    assert!(
        err.contains("file descriptor (3)")
            && err.contains("is a TCP socket that is not listening")
            && err.contains("Accept=no"),
        "{err}"
    );
}

#[test]
fn a_socket_bound_and_never_listened_on_is_refused() {
    let socket = rustix::net::socket(
        rustix::net::AddressFamily::INET,
        rustix::net::SocketType::STREAM,
        None,
    )
    .unwrap();
    rustix::net::bind(
        &socket,
        &"127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap(),
    )
    .unwrap();
    let (code, out, err) = serve_with(socket);
    assert_ne!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(!out.contains("listening on"), "{out}");
    assert!(
        err.contains("is a TCP socket that is not listening") && err.contains("never listened on"),
        "{err}"
    );
}
