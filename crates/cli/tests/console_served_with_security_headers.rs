//! `auditrail serve` serves the web console's three files from its binary, each with
//! its Content-Type, a strict Content-Security-Policy (scripts only from the server
//! itself, no inline script), `nosniff`, and `no-cache` with an ETag (a 304 when it
//! still matches).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::io::{Read, Write};
use std::net::TcpStream;

use serve_support::*;

/// GET `path`; returns the status, the headers (names lower-cased) and the body.
fn get(addr: &str, path: &str, extra: &str) -> (u16, Vec<(String, String)>, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
}

#[test]
fn the_console_files_carry_their_type_and_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    for (path, content_type, needle) in [
        (
            "/",
            "text/html; charset=utf-8",
            "<script src=\"/console/console.js\"",
        ),
        (
            "/console/console.js",
            "text/javascript; charset=utf-8",
            "textContent",
        ),
        ("/console/console.css", "text/css; charset=utf-8", "font"),
    ] {
        let (status, headers, body) = get(&server.addr, path, "");
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body.contains(needle), "{path}: {body}");
        assert_eq!(header(&headers, "content-type"), content_type, "{path}");
        let csp = header(&headers, "content-security-policy");
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
        assert_eq!(header(&headers, "cache-control"), "no-cache");
        let etag = header(&headers, "etag").to_owned();
        let (status, again, body) = get(&server.addr, path, &format!("If-None-Match: {etag}\r\n"));
        assert_eq!(status, 304, "{path}: {body}");
        assert!(body.is_empty(), "{path}: a 304 with a body: {body}");
        assert_eq!(header(&again, "etag"), etag);
    }
    // Anything else is still the API's JSON 404.
    let (status, _, body) = get(&server.addr, "/console/other.js", "");
    assert_eq!(status, 404, "{body}");
    server.kill9();
}
