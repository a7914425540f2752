//! A server with one store, on a full disk, and a `kafka` destination takes the batches
//! whose events all go to Kafka, and `/readyz` says so: it answered `503 not_ready`
//! (`disk_full`, "no store takes a batch") while those batches were answered `200`,
//! and a load balancer following it sent the Kafka-bound nodes away too. Now it is
//! `200`, naming the full store under `degraded`; `503` only when no destination takes
//! a batch (docs/protocol.md, `GET /readyz`).
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run), and a broker
//! (`AUDITRAIL_KAFKA_BROKERS`, which `cargo xtask test` starts).
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::Tmpfs;
use crate::full_disk_support::{fail_on_the_full_disk, readyz};
use crate::kafka_support::{brokers, create_topic, unique};
use crate::serve_support::{post_events, start};
use crate::tamper_support::ten;

const SALT: u64 = 633;

#[test]
fn readyz_is_200_while_the_kafka_destination_takes_its_batches() {
    let Some(fs) = Tmpfs::mount("2m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let brokers = brokers();
    let topic = unique("readyz-full");
    create_topic(&brokers, &topic, 1);
    let dir = tempfile::tempdir().unwrap();
    let a = fs.path().join("a");
    std::fs::write(
        dir.path().join("server.toml"),
        format!(
            "data_dir = \"data\"\nack_timeout_ms = 2000\n\
             [[destinations]]\nname = \"a\"\ntype = \"store\"\npath = {a:?}\nrouting_keys = [\"svc-a\"]\n\
             [[destinations]]\nname = \"k\"\ntype = \"kafka\"\nbrokers = \"{brokers}\"\n\
             topic = \"{topic}\"\nrouting_keys = [\"svc-k\"]\n"
        ),
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    for key in ["svc-a", "svc-k"] {
        let (status, answer) = post_events(&server.addr, &ten(key, 1, SALT), None).unwrap();
        assert_eq!(status, 200, "{answer}\n{}", server.stderr());
    }
    fs.fill();
    fail_on_the_full_disk(&server, "svc-a", SALT);

    let (status, answer) = readyz(&server.addr);
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("ready")),
        "the kafka destination takes batches: {answer}\n{}",
        server.stderr()
    );
    let degraded = answer["degraded"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    let full: Vec<_> = degraded
        .iter()
        .filter(|d| d["reason"] == "disk_full")
        .collect();
    assert_eq!(full.len(), 1, "{answer}");
    assert_eq!(full[0]["store"], "a", "{answer}");
    assert!(
        full[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("batches whose events go only to destination \"k\" are taken"),
        "{answer}"
    );
    // What `/readyz` says is what the ingest does.
    let (status, answer) = post_events(&server.addr, &ten("svc-k", 11, SALT), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    server.kill9();
}
