//! A store's timeline (what retention deletes against) left behind the wall clock by a
//! downtime catches up at no more than `[retention] catch_up_rate` times the elapsed
//! time, never past the wall clock; with `catch_up_rate = 1` it never catches up (the
//! behaviour before the key existed).
//!
//! The downtime is made with libfaketime: the first run's clock is set 30 minutes
//! back (its monotonic clock left alone), so its last checkpoint line's timeline is 30
//! minutes behind the true time the second run starts at. Each batch of the second
//! run gets a signed line carrying its `time` (the wall clock) and its `timeline`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use crate::serve_support::{lines_now, post_events, start, start_with_env};

const FAKETIME_LIB: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
const DOWN_MS: i64 = 30 * 60 * 1000;

fn ms(t: &str) -> i64 {
    t.parse::<auditrail::Timestamp>().unwrap().unix_millis()
}

/// Each line of the store's checkpoint log: its `time` and `timeline` (unix ms).
fn lines(store: &Path) -> Vec<(i64, i64)> {
    std::fs::read_to_string(store.join("checkpoints.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let time = ms(v["time"].as_str().unwrap());
            (time, v["timeline"].as_str().map_or(time, ms))
        })
        .collect()
}

/// A store whose last line was written with the clock 30 minutes back; returns the
/// number of lines it has.
fn store_left_30_minutes_behind(dir: &Path, rate: &str) -> usize {
    assert!(
        Path::new(FAKETIME_LIB).exists(),
        "{FAKETIME_LIB} is missing: apt-get install faketime (cargo xtask test does)"
    );
    std::fs::write(
        dir.join("server.toml"),
        format!(
            "[retention]\ncatch_up_rate = {rate}\n\
             [[destinations]]\nname = \"s\"\ntype = \"store\"\npath = \"s\"\n"
        ),
    )
    .unwrap();
    let args = [
        "--listen",
        "127.0.0.1:0",
        "--config",
        "server.toml",
        "--data-dir",
        "data",
    ];
    let server = start_with_env(
        dir,
        &args,
        &[
            ("LD_PRELOAD", FAKETIME_LIB),
            ("FAKETIME", "-30m"),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ],
    );
    let (status, answer) = post_events(&server.addr, &lines_now("n1", 1..=1, 881), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
    let before = lines(&dir.join("data/s"));
    let (time, timeline) = *before.last().unwrap();
    let behind = auditrail::Timestamp::now().unix_millis() - timeline;
    assert!(
        (DOWN_MS - 60_000..DOWN_MS + 60_000).contains(&behind) && timeline <= time,
        "libfaketime did not set the first run's clock back: its last line is {behind} ms \
         behind the true time"
    );
    before.len()
}

/// Posts a batch every 200 ms (each gets a line) until `done` says so of the lines of
/// this run, or `limit`; returns those lines.
fn lines_while(
    dir: &Path,
    skip: usize,
    limit: Duration,
    done: impl Fn(&[(i64, i64)]) -> bool,
) -> Vec<(i64, i64)> {
    let server = start(dir, &["--config", "server.toml", "--data-dir", "data"]);
    let store = dir.join("data/s");
    let until = Instant::now() + limit;
    let mut seq = 2;
    let run = loop {
        let (status, answer) =
            post_events(&server.addr, &lines_now("n1", seq..=seq, 881), None).unwrap();
        assert_eq!(status, 200, "{answer}");
        seq += 1;
        let run = lines(&store).split_off(skip);
        if done(&run) || Instant::now() > until {
            break run;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(server.terminate(), 0);
    run
}

/// Checks that the timeline never gained more than `rate` times the wall clock's
/// elapsed time since the run's first line (a second of slack for the readings of the
/// two clocks), was never past the wall clock, and did not jump to it at the start.
fn assert_bounded(run: &[(i64, i64)], rate: i64) {
    let (time0, timeline0) = run[0];
    assert!(
        time0 - timeline0 > DOWN_MS - 60_000,
        "the timeline jumped to the wall clock at the start: {run:?}"
    );
    for &(time, timeline) in run {
        assert!(timeline <= time, "a timeline past the wall clock: {run:?}");
        assert!(
            timeline - timeline0 <= rate * (time - time0) + 1_000,
            "the timeline gained more than {rate} times the elapsed time: {run:?}"
        );
    }
}

#[test]
fn a_downtime_is_caught_up_at_no_more_than_the_catch_up_rate() {
    let dir = tempfile::tempdir().unwrap();
    // 30 minutes caught up at 99 times the elapsed time beyond it: about 18 s.
    let skip = store_left_30_minutes_behind(dir.path(), "100");
    let caught_up = |run: &[(i64, i64)]| run.iter().any(|&(time, timeline)| time == timeline);
    let run = lines_while(dir.path(), skip, Duration::from_secs(90), caught_up);
    assert_bounded(&run, 100);
    assert!(
        caught_up(&run),
        "the timeline did not catch up with the wall clock within 90 s: {run:?}"
    );
}

#[test]
fn at_rate_one_the_timeline_never_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let skip = store_left_30_minutes_behind(dir.path(), "1");
    // Long enough for rate 100 to have caught up a good part (5 s: more than 8 of
    // the 30 minutes).
    let run = lines_while(dir.path(), skip, Duration::from_secs(5), |_| false);
    assert_bounded(&run, 1);
    let &(time, timeline) = run.last().unwrap();
    assert!(time - timeline > DOWN_MS - 60_000, "{run:?}");
}
