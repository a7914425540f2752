//! Eight concurrent 15 MiB bodies whose events parse to ~12 times their size (many
//! small message fields) keep the server's peak memory under 1 GiB: bodies are counted
//! against `max_body_memory_bytes` (512 MiB by default) before they take memory, and
//! the ones that do not fit are answered 503 `memory_budget` after their upload (not
//! a reset connection). Before the budget, the same load peaked at ~1.6 GB; the
//! defaults allowed ~11 GB (../shared/cases/server-11). At least one body is always
//! parsed: a refused body gives its part back at once, so the last upload left fits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::*;

const BODY_BYTES: usize = 15 << 20;

/// Valid events of 100 small fields each, then one invalid line: the whole body is
/// parsed, nothing is stored.
fn amplifying_body() -> Vec<u8> {
    let mut message = serde_json::Map::new();
    message.insert("msgType".into(), "x".into());
    for i in 0..100 {
        message.insert(format!("k{i}"), i.into());
    }
    let mut body = Vec::with_capacity(BODY_BYTES + 4096);
    let mut seq = 0;
    while body.len() < BODY_BYTES {
        seq += 1;
        let line = serde_json::json!({
            "id": new_id(seq, 11), "timestamp": "2026-11-25T16:55:49.123Z",
            "topic": "generic", "node": "n1", "seq": seq, "message": message,
        });
        serde_json::to_writer(&mut body, &line).unwrap();
        body.push(b'\n');
    }
    body.extend_from_slice(b"{\"bad\":1}\n");
    body
}

/// The kernel's record of the process's peak resident memory (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

#[test]
fn concurrent_amplifying_bodies_stay_under_a_gib() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let body = std::sync::Arc::new(amplifying_body());
    let answers: Vec<(u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (addr, body) = (server.addr.clone(), body.clone());
                s.spawn(move || {
                    request(
                        &addr,
                        "POST",
                        "/v1/events",
                        &[("Content-Type", "application/x-ndjson")],
                        &body,
                    )
                    .expect("an HTTP answer, not a reset connection")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let peak_mib = peak_rss_kib(server.child.id()) / 1024;
    for (status, text) in &answers {
        match status {
            400 => assert!(text.contains("invalid_event"), "{text}"),
            503 => assert!(text.contains("memory_budget"), "{text}"),
            other => panic!("unexpected answer {other}: {text}"),
        }
    }
    assert!(
        answers.iter().any(|(s, _)| *s == 400),
        "at least one body was parsed whole: {:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    assert!(peak_mib < 1024, "peak RSS {peak_mib} MiB");
    assert_eq!(server.terminate(), 0);
}
