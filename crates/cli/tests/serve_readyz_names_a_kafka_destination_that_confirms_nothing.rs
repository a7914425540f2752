//! A `kafka` destination whose brokers cannot be reached is named under `/readyz`'s
//! `degraded` (`destination_behind`) once an event it was handed has waited longer than
//! `ack_timeout_ms`: `/readyz` said `ready` with nothing else while every batch routed
//! to it was answered `503 ack_timeout`, and only the log said why. The server stays
//! ready: the store beside it takes its batches (docs/protocol.md, `GET /readyz`).
//!
//! Needs a broker (`AUDITRAIL_KAFKA_BROKERS`, which `cargo xtask test` starts): the
//! destination's brokers are a closed gate in front of it.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::full_disk_support::readyz;
use crate::kafka_support::{unique, Gate};
use crate::serve_support::{post_events, start};
use crate::tamper_support::ten;

const SALT: u64 = 634;

#[test]
fn readyz_names_the_kafka_destination_behind_and_stays_ready() {
    let gate = Gate::closed();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        format!(
            "data_dir = \"data\"\nack_timeout_ms = 1000\n\
             [[destinations]]\nname = \"a\"\ntype = \"store\"\npath = \"a\"\nrouting_keys = [\"svc-a\"]\n\
             [[destinations]]\nname = \"k\"\ntype = \"kafka\"\nbrokers = \"{}\"\n\
             topic = \"{}\"\nrouting_keys = [\"svc-k\"]\n",
            gate.addr,
            unique("readyz-behind")
        ),
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let (status, answer) = readyz(&server.addr);
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("degraded").is_none(), "{answer}");

    let (status, answer) = post_events(&server.addr, &ten("svc-k", 1, SALT), None).unwrap();
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("ack_timeout")),
        "{answer}"
    );
    // The event's wait passes ack_timeout_ms just after the answer: asked until then.
    let until = Instant::now() + Duration::from_secs(60);
    let behind = loop {
        let (status, answer) = readyz(&server.addr);
        assert_eq!(status, 200, "the store takes batches: {answer}");
        let found = answer["degraded"].as_array().and_then(|d| {
            d.iter()
                .find(|d| d["reason"] == "destination_behind")
                .cloned()
        });
        if let Some(found) = found {
            break found;
        }
        assert!(
            Instant::now() < until,
            "never named: {answer}\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(behind["destination"], "k", "{behind}");
    assert!(
        // Named once its wait passed ack_timeout_ms (1000): in whole ms, 1000 or more.
        behind["oldest_undelivered_ms"].as_u64().unwrap() >= 1000,
        "{behind}"
    );
    assert!(
        behind["message"]
            .as_str()
            .unwrap()
            .starts_with("destination \"k\" (kafka) has not confirmed an event"),
        "{behind}"
    );
    let (status, answer) = post_events(&server.addr, &ten("svc-a", 1, SALT), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    server.kill9();
}
