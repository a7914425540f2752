//! A `/v1/stream` follower that stops reading while events flow holds no memory of its
//! own: the events not yet sent wait in the one buffer all followers share (4096
//! events), ingest goes on at its pace (every batch answered), and once the follower
//! reads again it is told how many it missed (`event: lagged`, `missed`): every event
//! accepted is either sent to it or counted in a `lagged` message, none twice, none
//! passed over in silence.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::io::Read;

use serve_support::*;

/// Far more than the shared buffer and what the connection's buffers take.
const EVENTS: u64 = 20_000;
const BATCH: u64 = 1000;

#[test]
fn a_stalled_follower_gets_every_event_or_its_count_in_lagged() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let addr = server.addr.as_str();
    let (mut follower, head) = ask_without_reading(addr, "/v1/stream");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    // The follower reads nothing meanwhile: every batch is still answered.
    for first in (1..=EVENTS).step_by(BATCH as usize) {
        let body = lines_now("n1", first..=first + BATCH - 1, 0x5eed_0105);
        let (status, answer) = post_events(addr, &body, None).unwrap();
        assert_eq!(
            status, 200,
            "ingest stalled behind a follower that reads nothing: {answer:?}"
        );
    }

    // It reads again: each accepted event is sent, or counted as missed.
    let mut text = String::new();
    let mut buf = vec![0u8; 64 * 1024];
    let (mut sent, mut missed, mut lagged) = (0u64, 0u64, 0u64);
    let mut scanned = 0;
    while sent + missed < EVENTS {
        let n = follower.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "the stream closed after {sent} events and {missed} missed"
        );
        text.push_str(std::str::from_utf8(&buf[..n]).unwrap());
        // Whole lines only (a read may end inside one).
        let Some(end) = text.rfind('\n') else {
            continue;
        };
        for line in text[scanned..end].lines() {
            if line.starts_with("data: {\"clientEvent\"") {
                sent += 1;
            } else if let Some(count) = line.strip_prefix("data: {\"missed\":") {
                lagged += 1;
                missed += count.trim_end_matches('}').parse::<u64>().unwrap();
            }
        }
        scanned = end;
    }
    assert_eq!(sent + missed, EVENTS, "{sent} sent, {missed} missed");
    assert!(
        lagged > 0,
        "a follower {EVENTS} events behind was never told it lagged"
    );
    assert!(
        text.contains("event: lagged\ndata: {\"missed\":"),
        "the lagged message: {}",
        &text[text.find("missed").unwrap_or(0).saturating_sub(100)..][..200]
    );
    server.kill9();
}
