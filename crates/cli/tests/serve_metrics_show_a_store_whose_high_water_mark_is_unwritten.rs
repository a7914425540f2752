//! A store whose high-water mark cannot be written (the data folder moved away while the
//! server runs, the store kept outside it): its batches are sealed and acknowledged, the
//! mark lags, and the checkpoint task now says so once in its log, not every second.
//! What lasts is a gauge per store an operator can alert on,
//! `auditrail_server_store_high_water_mark_unwritten`: 1 while the mark cannot be
//! written, 0 again once it is (and `highWaterMarkUnwritten` in `/v1/stats`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::serve_support::{event_line, new_id, post_events, request, start, ServerProc};

const GAUGE: &str = "auditrail_server_store_high_water_mark_unwritten";
const SALT: u64 = 6452;

fn post(server: &ServerProc, n: u64) {
    let (status, answer) = post_events(&server.addr, &event_line(&new_id(n, SALT), "n1", n), None)
        .unwrap_or_else(|e| panic!("no answer: {e}\n{}", server.stderr()));
    assert_eq!(status, 200, "{answer}\n{}", server.stderr());
}

/// The gauge's sample of the store destination `a`.
fn gauge(server: &ServerProc) -> String {
    let (status, text) = request(&server.addr, "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(status, 200, "{text}");
    let sample = format!("{GAUGE}{{destination=\"a\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&sample))
        .unwrap_or_else(|| panic!("no {sample:?} in /metrics: {text}"))
        .to_owned()
}

/// Waits (bounded: a hang guard, no timing asserted) for the gauge to read `value`.
fn wait_for(server: &ServerProc, value: &str) {
    let until = Instant::now() + Duration::from_secs(60);
    while gauge(server) != value {
        assert!(
            Instant::now() < until,
            "{GAUGE} not {value}\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_gauge_is_one_while_the_mark_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("stores/a");
    std::fs::write(
        dir.path().join("server.toml"),
        format!(
            "data_dir = \"data\"\n[checkpoints]\nevery_records = 1\n\
             [[destinations]]\nname = \"a\"\ntype = \"store\"\npath = {store:?}\n"
        ),
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    post(&server, 1);
    assert_eq!(gauge(&server), "0");

    let data = dir.path().join("data");
    let moved = dir.path().join("data.moved");
    std::fs::rename(&data, &moved).unwrap();
    post(&server, 2);
    wait_for(&server, "1");
    let (status, stats) = request(&server.addr, "GET", "/v1/stats", &[], b"").unwrap();
    assert_eq!(status, 200, "{stats}");
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(
        stats["stores"]["a"]["highWaterMarkUnwritten"], true,
        "{stats}"
    );

    std::fs::rename(&moved, &data).unwrap();
    post(&server, 3);
    wait_for(&server, "0");
    assert_eq!(server.terminate(), 0);
}
