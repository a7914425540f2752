//! Uploads that stop in the middle (the connection kept open) hold in the body memory
//! budget (`max_body_memory_bytes`) only their buffer, at most twice what they sent,
//! not 13 bytes per byte (what their events will cost once parsed): with 4 MiB of such
//! uploads against a budget of 14 MiB, another node's batch is still stored. Before,
//! ~1.1 MB of stalled uploads took the whole budget here (~40 MB against the default
//! 512 MiB), and every node got 503 `memory_budget` for as long as the uploads were
//! renewed (tryout hostile/01).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::net::TcpStream;

use crate::serve_support;

use serve_support::*;

/// `auditrail_server_body_memory_bytes` and `_limit_bytes` of `/metrics`.
fn body_memory(addr: &str) -> (usize, usize) {
    let (status, text) = request(addr, "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(status, 200, "{text}");
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    (
        value("auditrail_server_body_memory_bytes"),
        value("auditrail_server_body_memory_limit_bytes"),
    )
}

#[test]
fn a_batch_is_stored_while_stalled_uploads_are_held() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\nmax_body_bytes = 1048576\nmax_body_memory_bytes = 14680064\n\
         [[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    // Uploads of at most 4 MiB in all, as large as the room left allows, until the
    // budget is full or the 4 MiB are sent; each then sends nothing more.
    let mut stalled: Vec<TcpStream> = Vec::new();
    let mut sent = 0;
    while sent < 4 << 20 {
        let (used, limit) = body_memory(&server.addr);
        if limit - used < 1000 {
            break;
        }
        let size = ((limit - used) / 13 / 2)
            .clamp(1, 256 << 10)
            .min((4 << 20) - sent);
        let mut s = TcpStream::connect(&server.addr).unwrap();
        write!(
            s,
            "POST /v1/events HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-ndjson\r\n\
             Content-Length: 1048575\r\n\r\n",
            server.addr
        )
        .unwrap();
        s.write_all(&vec![b' '; size]).unwrap();
        stalled.push(s);
        sent += size;
        // Until the server counted what was sent (at least once each byte).
        for _ in 0..200 {
            if body_memory(&server.addr).0 >= used + size {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    let (used, limit) = body_memory(&server.addr);
    let line = event_line(&new_id(1, 41), "good", 1);
    let (status, answer) = post_events(&server.addr, &line, None).unwrap();
    assert_eq!(
        status,
        200,
        "{} stalled uploads of {sent} bytes in all held {used} of {limit} bytes: {answer}",
        stalled.len()
    );
    drop(stalled);
    assert_eq!(server.terminate(), 0);
}
