//! A storing server whose wall clock is stepped back while it runs, then restarted
//! before the clock is fixed, stores the correctly dated records it reads. The
//! partition store's checkpoint lines carry a timeline that follows a clock set back
//! (retention's, which must never be later than the true time), and the Kafka source's
//! bound on timestamps ahead (`max_timestamp_ahead_s`) counted from it after the
//! restart: every record was "more than 86400 s ahead of the server's clock",
//! dead-lettered, and its verdict written to `refused-ahead.jsonl`, so a record the
//! broker had acknowledged to the node was never stored, also after the clock was
//! fixed (tryout60/06). The bound counts from the lines' `latest` now, which a clock
//! set back does not take back.
//!
//! The clock is stepped with libfaketime's offset file, read again at each call
//! (`FAKETIME_NO_CACHE`), the monotonic clock left alone, as a `date -s` does.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::path::Path;
use std::time::{Duration, Instant};

use kafka_support::{
    brokers, create_topic, id_counts, produce, shared_key, storing_config, unique,
};
use serve_support::{lines_now, new_id, start_with_env, ServerProc};

const FAKETIME_LIB: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
const SALT: u64 = 6033;

fn start_faked(dir: &Path, offset_file: &Path) -> ServerProc {
    start_with_env(
        dir,
        &["--listen", "127.0.0.1:0", "--config", "s.toml"],
        &[
            ("LD_PRELOAD", FAKETIME_LIB),
            ("FAKETIME_TIMESTAMP_FILE", offset_file.to_str().unwrap()),
            ("FAKETIME_NO_CACHE", "1"),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ],
    )
}

/// Produces event `n` of `node-1`, stamped with the true time.
fn produce_now(brokers: &str, topic: &str, n: u64) {
    let value = lines_now("node-1", n..=n, SALT).into_bytes();
    produce(brokers, topic, &[("node-1", Some(value.as_slice()))]);
}

/// Waits (bounded) until event `n` is stored, or something is dead-lettered.
fn wait_stored_or_dead_lettered(server: &ServerProc, root: &Path, dead: &Path, n: u64) {
    let until = Instant::now() + Duration::from_secs(60);
    while !id_counts(root).contains_key(&new_id(n, SALT)) && !dead.exists() {
        assert!(
            Instant::now() < until,
            "event {n} neither stored nor dead-lettered: {:?}\n{}",
            id_counts(root),
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn records_read_after_a_restart_with_the_clock_stepped_back_are_stored_not_refused_for_good() {
    assert!(
        Path::new(FAKETIME_LIB).exists(),
        "{FAKETIME_LIB} is missing: apt-get install faketime (cargo xtask test does)"
    );
    let brokers = brokers();
    let topic = unique("clock-back");
    create_topic(&brokers, &topic, 1);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, _) = shared_key(d);
    let root = d.join("partitions");
    let config = storing_config("s-data", &key, &brokers, &topic, &unique("g"), &root);
    std::fs::write(d.join("s.toml"), config).unwrap();
    let dead = d.join("s-data/deadletter/source-kafka.jsonl");
    let fake = d.join("fake");
    std::fs::write(&fake, "+0\n").unwrap();

    let server = start_faked(d, &fake);
    produce_now(&brokers, &topic, 1);
    wait_stored_or_dead_lettered(&server, &root, &dead, 1);
    // Stepped two days back while running: still stored.
    std::fs::write(&fake, "-2d\n").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    produce_now(&brokers, &topic, 2);
    wait_stored_or_dead_lettered(&server, &root, &dead, 2);
    assert_eq!(server.terminate(), 0);

    // Restarted, the clock still two days behind.
    let server = start_faked(d, &fake);
    produce_now(&brokers, &topic, 3);
    wait_stored_or_dead_lettered(&server, &root, &dead, 3);
    let stderr = server.stderr();
    assert_eq!(server.terminate(), 0);

    let counts = id_counts(&root);
    let mut stored: Vec<(&String, &usize)> = counts.iter().collect();
    stored.sort();
    assert_eq!(
        stored,
        [
            (&new_id(1, SALT), &1),
            (&new_id(2, SALT), &1),
            (&new_id(3, SALT), &1)
        ],
        "dead letters: {}\n{stderr}",
        std::fs::read_to_string(&dead).unwrap_or_default()
    );
    assert!(!dead.exists());
    assert!(!root
        .join(&topic)
        .join("0")
        .join("refused-ahead.jsonl")
        .exists());
}
