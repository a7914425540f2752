//! Hundreds of connections that send nothing neither exhaust the server's file
//! descriptors nor lock a legitimate client out: the server holds at most
//! `max_connections` (the rest wait in the listen backlog) and closes silent ones after
//! `header_read_timeout_ms`, so a real request is answered while they are all held.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::net::TcpStream;

use serve_support::*;

#[test]
fn a_legitimate_client_is_served_while_hundreds_of_idle_connections_are_held() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\nmax_connections = 40\nheader_read_timeout_ms = 500\n\
         [[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let idle: Vec<TcpStream> = (0..300)
        .map(|_| TcpStream::connect(&server.addr).unwrap())
        .collect();
    let body = event_line(&new_id(1, 11), "node-legit", 1) + "\n";
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    drop(idle);
    let log = server.stderr();
    assert!(!log.contains("Too many open files"), "{log}");
    assert_eq!(server.terminate(), 0);
}
