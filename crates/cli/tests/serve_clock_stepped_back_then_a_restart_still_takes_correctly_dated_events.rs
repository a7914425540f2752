//! A server whose wall clock is stepped back while it runs, then restarted before the
//! clock is fixed, still takes the nodes' correctly dated events. The checkpoint lines'
//! timeline follows a clock set back (retention's earliest plausible time must never be
//! later than the true time), so the restart's retention timeline is as wrong as the
//! clock; the bound on timestamps ahead (`max_timestamp_ahead_s`) counted from it and
//! answered every node 400 `timestamp_ahead` ("fix the sending node's clock"): the
//! nodes set the events aside. It counts from the lines' `latest` now, which a clock
//! set back does not take back (tryout60/03).
//!
//! The clock is stepped with libfaketime's offset file, read again at each call
//! (`FAKETIME_NO_CACHE`), the monotonic clock left alone, as a `date -s` does.
//!
//! The same fault through a Kafka source (a broker-acknowledged record dead-lettered
//! and refused for good, tryout60/06; the partition stores' bound is the same
//! `ahead::bound_now` over their own clock) has no test of this kind: a server with a
//! Kafka source started under libfaketime with its clock behind hangs in librdkafka's
//! `rd_kafka_new` (a condition wait whose deadline libfaketime moves by the offset),
//! one start in two with the offset file and every time with `FAKETIME=-2d` (CI 153;
//! gdb showed the wait). The unit tests of `retention_clock` and `ahead` cover that
//! path's rule; the tryout script passes when its restart gets past the hang.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use crate::serve_support::{lines_now, post_events, start_with_env, ServerProc};

const FAKETIME_LIB: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
const DAY_MS: i64 = 86_400_000;

fn start_faked(dir: &Path, offset_file: &str) -> ServerProc {
    let args = [
        "--listen",
        "127.0.0.1:0",
        "--config",
        "server.toml",
        "--data-dir",
        "data",
    ];
    start_with_env(
        dir,
        &args,
        &[
            ("LD_PRELOAD", FAKETIME_LIB),
            ("FAKETIME_TIMESTAMP_FILE", offset_file),
            ("FAKETIME_NO_CACHE", "1"),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ],
    )
}

/// Posts event `seq` of node `n1`, stamped with the true time; returns the answer.
fn post_now(server: &ServerProc, seq: u64) -> (u16, serde_json::Value) {
    post_events(&server.addr, &lines_now("n1", seq..=seq, 6031), None).unwrap()
}

/// The `time` of the store's last checkpoint line (unix ms): the server's wall clock.
fn last_line_time(store: &Path) -> i64 {
    let log = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();
    let v: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    v["time"]
        .as_str()
        .unwrap()
        .parse::<auditrail::Timestamp>()
        .unwrap()
        .unix_millis()
}

#[test]
fn a_restart_after_the_clock_was_stepped_back_while_running_refuses_no_correctly_dated_event() {
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
    let fake_path = fake.to_str().unwrap();
    std::fs::write(&fake, "+0\n").unwrap();
    // A first run, so that the store has a checkpoint from before the next start.
    let server = start_faked(d, fake_path);
    assert_eq!(post_now(&server, 1).0, 200);
    assert_eq!(server.terminate(), 0);

    // The clock is stepped two days back while the server runs: taken (bound by the
    // time the store signed before this start), and the lines follow the clock.
    let server = start_faked(d, fake_path);
    std::fs::write(&fake, "-2d\n").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let (status, answer) = post_now(&server, 2);
    assert_eq!(status, 200, "during the step: {answer}");
    assert_eq!(server.terminate(), 0);
    let behind = auditrail::Timestamp::now().unix_millis() - last_line_time(&d.join("data/s"));
    assert!(
        (2 * DAY_MS - 600_000..2 * DAY_MS + 600_000).contains(&behind),
        "libfaketime did not step the clock back: the last line is {behind} ms behind"
    );

    // Restarted, the clock still two days behind: a correctly dated event is taken.
    let server = start_faked(d, fake_path);
    let (status, answer) = post_now(&server, 3);
    let stderr = server.stderr();
    assert_eq!(server.terminate(), 0);
    assert_eq!(
        status, 200,
        "after the restart with the clock behind: {answer}\n{stderr}"
    );
}
