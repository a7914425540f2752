//! A server with `[[keys]]` on loopback still answers `/v1/stats` and `/metrics` without
//! a key (`require_auth_for_stats = false`, the default), and the stats name nodes,
//! routing keys and clients. A page whose name was re-pointed to 127.0.0.1 (DNS
//! rebinding) is same-origin for the browser: before, such a server did not check
//! `Host` at all (only keyless ones did), so the page read the stats. Its requests now
//! get `403 host_not_allowed`; the server's own names and programs (no browser header)
//! are answered as before, and a server that asks a key for the stats too checks
//! nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::io::{Read, Write};
use std::net::TcpStream;

use serve_support::start;

const KEYS: &str = "data_dir = \"data\"\n\
    [[keys]]\nid = \"k1\"\nsecret = \"secret-four-0000\"\n\
    [[stats_keys]]\nid = \"st\"\nsecret = \"stats-secret-1234\"\n\
    [[destinations]]\ntype = \"store\"\npath = \"store\"\n";

/// `GET path` with `host` in `Host`, as a browser sends it (`Sec-Fetch-Site`) when
/// `browser`, else as a program does: the status.
fn get(addr: &str, host: &str, browser: bool, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mark = if browser {
        "Sec-Fetch-Site: same-origin\r\n"
    } else {
        ""
    };
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{mark}\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    (status, text)
}

#[test]
fn a_rebound_page_does_not_read_the_open_stats_of_a_server_with_keys() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), KEYS).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let addr = server.addr.as_str();
    let port = addr.rsplit_once(':').unwrap().1;
    let rebound = format!("rebind.attacker.example:{port}");
    for path in ["/v1/stats", "/metrics"] {
        let (status, text) = get(addr, &rebound, true, path);
        assert_eq!(status, 403, "{path}: {text}");
        assert!(text.contains("host_not_allowed"), "{path}: {text}");
        // Its own names, and programs whatever name they use, are answered.
        let (status, text) = get(addr, &format!("localhost:{port}"), true, path);
        assert_eq!(status, 200, "{path}: {text}");
        let (status, text) = get(addr, &rebound, false, path);
        assert_eq!(status, 200, "{path}: {text}");
    }
}

#[test]
fn a_server_that_asks_a_key_for_its_stats_too_checks_no_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        format!("require_auth_for_stats = true\n{KEYS}"),
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let addr = server.addr.as_str();
    let port = addr.rsplit_once(':').unwrap().1;
    // No key: refused for the key, not for the name.
    let (status, text) = get(
        addr,
        &format!("rebind.attacker.example:{port}"),
        true,
        "/v1/stats",
    );
    assert_eq!(status, 401, "{text}");
}
