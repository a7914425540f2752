//! A storing server whose Kafka brokers are down (here from its start) says so as a
//! state: librdkafka hands the same errors over every ~50 ms ("Global error:
//! AllBrokersDown", and the same as a read error), and each is logged once, then at
//! most once a minute with the count of its repeats (`still: ... (N times in the last
//! 60 s)`), and once more when the brokers answer again (`ended after S s (N times in
//! all): ...`). Before, every repeat was a WARN line: 400 lines in 10 s, ~140 000 an
//! hour, and journald's rate limit then dropped the server's other messages (tryout
//! s49-edge-h/03).
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::time::{Duration, Instant};

use kafka_support::{brokers, create_topic, shared_key, storing_config, unique, Gate};
use serve_support::{start, wait_for_log};

#[test]
fn brokers_down_at_start_are_said_once_then_said_over() {
    let topic = unique("down");
    create_topic(&brokers(), &topic, 1);
    let gate = Gate::closed();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, _) = shared_key(d);
    let config = storing_config(
        "s-data",
        &key,
        &gate.addr,
        &topic,
        &unique("g"),
        &d.join("partitions"),
    );
    std::fs::write(d.join("s.toml"), config).unwrap();
    let server = start(d, &["--config", "s.toml"]);
    wait_for_log(&server, "AllBrokersDown");
    // A window in which librdkafka reports the outage ~100 times: a count of lines,
    // not a time, is asserted.
    std::thread::sleep(Duration::from_secs(5));
    let log = server.stderr();
    let down: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("AllBrokersDown"))
        .collect();
    assert!(
        down.len() <= 4,
        "{} lines of the same outage in a few seconds:\n{}",
        down.len(),
        down.iter().take(10).copied().collect::<Vec<_>>().join("\n")
    );

    gate.open();
    let until = Instant::now() + Duration::from_secs(60);
    while !server
        .stderr()
        .lines()
        .any(|l| l.contains("ended after") && l.contains("AllBrokersDown"))
    {
        assert!(
            Instant::now() < until,
            "the end of the outage was never said: {}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let log = server.stderr();
    let ended = log.lines().find(|l| l.contains("ended after")).unwrap();
    assert!(ended.contains(" times in all): "), "{ended}");
    assert_eq!(server.terminate(), 0);
}
