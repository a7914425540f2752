//! `auditrail serve` given, by socket activation (fd 3, `LISTEN_FDS=1`), a TCP socket
//! that does not listen refuses to start, saying so: a connected socket (what a systemd
//! `.socket` unit with `Accept=yes` passes: one connection) names `Accept=no`, a socket
//! bound and never listened on says that. Both were taken (`/work/tryout` case
//! `s48-edge-g/02-socket-activation-non-listening-socket-says-listening.sh`): the
//! server printed `listening on http://...`, reported ready, then logged `accept failed:
//! Invalid argument (os error 22)` twenty times a second and never answered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Runs `auditrail serve` with `socket` as fd 3 in a fresh folder; its exit code and
/// its stdout and stderr, or a panic when it is still running after 30 s (it took the
/// socket).
fn serve_with(socket: OwnedFd) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stdout");
    let err = dir.path().join("stderr");
    let mut cmd = auditrail_testkit::port::hand_socket_to(env!("CARGO_BIN_EXE_auditrail"), socket);
    let mut child = cmd
        .args(["serve", "--data-dir", "data", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    drop(cmd);
    let until = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the server took the socket and runs; stdout: {}\nstderr: {}",
                std::fs::read_to_string(&out).unwrap(),
                std::fs::read_to_string(&err).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        code,
        std::fs::read_to_string(&out).unwrap(),
        std::fs::read_to_string(&err).unwrap(),
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
