//! A keyless server on loopback (the default) answers only requests for its addresses,
//! `localhost` and the names in `allowed_hosts`: a page whose name was re-pointed to
//! 127.0.0.1 (DNS rebinding) is same-origin for the browser, but its requests still
//! carry that name in `Host`, and get `403 host_not_allowed` (neither its query nor
//! its events are answered). Programs, which send no browser header, are answered
//! whatever name they use.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::io::{Read, Write};
use std::net::TcpStream;

use serve_support::*;

/// One request with `host` in its `Host` header, as a browser sends it (`Sec-Fetch-Site`)
/// or as a program does (no browser header): status and body.
fn for_host(addr: &str, host: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    request_for(
        addr,
        host,
        "Sec-Fetch-Site: same-origin\r\n",
        method,
        path,
        body,
    )
}

fn request_for(
    addr: &str,
    host: &str,
    browser: &str,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{browser}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    (status, text.split_once("\r\n\r\n").unwrap().1.to_owned())
}

#[test]
fn a_foreign_host_name_is_refused_and_own_names_answered() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\nallowed_hosts = [\"Audit.Example.com\"]\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let addr = server.addr.as_str();
    let port = addr.rsplit_once(':').unwrap().1;
    let (status, answer) =
        post_events(addr, &(event_line(&new_id(1, 3), "n1", 1) + "\n"), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let query = "/v1/query?sql=SELECT%20node%20FROM%20events";

    let rebound = format!("rebind.attacker.example:{port}");
    let (status, body) = for_host(addr, &rebound, "GET", query, "");
    assert_eq!(status, 403, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["error"], "host_not_allowed", "{body}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("\"rebind.attacker.example:")
            && answer["message"]
                .as_str()
                .unwrap()
                .contains("allowed_hosts"),
        "{body}"
    );
    let forged = event_line(&new_id(2, 3), "forged", 1) + "\n";
    let (status, body) = for_host(addr, &rebound, "POST", "/v1/events", &forged);
    assert_eq!(status, 403, "{body}");

    // A program (a node behind a proxy, an `/etc/hosts` alias) sends no browser header:
    // it is answered whatever name it uses (a 403 would make a node set its events
    // aside for good).
    let (status, body) = request_for(addr, &rebound, "", "GET", query, "");
    assert_eq!(status, 200, "{body}");

    for own in [
        addr.to_string(),
        format!("localhost:{port}"),
        format!("audit.example.com:{port}"),
    ] {
        let (status, body) = for_host(addr, &own, "GET", query, "");
        assert_eq!(status, 200, "{own}: {body}");
        assert!(
            body.contains("n1") && !body.contains("forged"),
            "{own}: {body}"
        );
    }
}
