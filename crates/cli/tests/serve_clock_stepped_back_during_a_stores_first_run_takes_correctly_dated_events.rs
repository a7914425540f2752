//! A store's first run (no checkpoint from before the start) whose wall clock is
//! stepped back while it runs still takes the nodes' correctly dated events. Without a
//! checkpoint, the server had no time but the wall clock to bound timestamps ahead
//! (`max_timestamp_ahead_s`) from, and answered every node 400 `timestamp_ahead` at
//! once; the store's latest plausible time starts at the wall clock of the start and
//! goes on by the monotonic clock, which a step does not move (tryout60, area 3).
//!
//! The clock is stepped with libfaketime's offset file, read again at each call
//! (`FAKETIME_NO_CACHE`), the monotonic clock left alone, as a `date -s` does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use crate::serve_support::{lines_now, post_events, start_with_env};

const FAKETIME_LIB: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

#[test]
fn a_clock_stepped_back_during_a_stores_first_run_refuses_no_correctly_dated_event() {
    assert!(
        Path::new(FAKETIME_LIB).exists(),
        "{FAKETIME_LIB} is missing: apt-get install faketime (cargo xtask test does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("server.toml"),
        "[[destinations]]\nname = \"s\"\ntype = \"store\"\npath = \"s\"\n",
    )
    .unwrap();
    let fake = d.join("fake");
    std::fs::write(&fake, "+0\n").unwrap();
    let args = [
        "--listen",
        "127.0.0.1:0",
        "--config",
        "server.toml",
        "--data-dir",
        "data",
    ];
    let server = start_with_env(
        d,
        &args,
        &[
            ("LD_PRELOAD", FAKETIME_LIB),
            ("FAKETIME_TIMESTAMP_FILE", fake.to_str().unwrap()),
            ("FAKETIME_NO_CACHE", "1"),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ],
    );
    std::fs::write(&fake, "-2d\n").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let (status, answer) = post_events(&server.addr, &lines_now("n1", 1..=1, 6032), None).unwrap();
    let stderr = server.stderr();
    assert_eq!(server.terminate(), 0);
    assert_eq!(status, 200, "{answer}\n{stderr}");
    // The step took: the line this batch got carries the clock two days back.
    let log = std::fs::read_to_string(d.join("data/s/checkpoints.jsonl")).unwrap();
    let v: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    let time = v["time"]
        .as_str()
        .unwrap()
        .parse::<auditrail::Timestamp>()
        .unwrap();
    let behind = auditrail::Timestamp::now().unix_millis() - time.unix_millis();
    assert!(
        behind > 86_400_000,
        "libfaketime did not step the clock back: the last line is {behind} ms behind"
    );
}
