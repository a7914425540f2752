//! `[[witnesses]]` with a real Kafka broker (the one `cargo xtask test` starts, or
//! `AUDITRAIL_KAFKA_BROKERS`): every published checkpoint reaches the topic, and
//! `auditrail verify --witness` with the records read back passes on the genuine store
//! and names the rollback when an older consistent copy replaces it.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;
use crate::tamper_support;

use std::path::Path;

use kafka_support::{brokers, create_topic, read_values};
use serve_support::{event_line, new_id, post_events, start};
use tamper_support::stop;

fn verify(dir: &Path, key: &str, witness: &str) -> (i32, serde_json::Value) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args([
            "verify",
            "a-data",
            "--public-key",
            key,
            "--json",
            "--witness",
            witness,
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

#[test]
fn a_kafka_witness_holds_every_published_checkpoint() {
    let brokers = brokers();
    let topic = format!(
        "witness-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    create_topic(&brokers, &topic, 1);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("a.toml"),
        format!(
            "data_dir = \"a-data\"\n[checkpoints]\nevery_records = 10\n\
             [[witnesses]]\ntype = \"kafka\"\nbrokers = \"{brokers}\"\ntopic = \"{topic}\"\n\
             [[destinations]]\ntype = \"store\"\npath = \"store\"\n"
        ),
    )
    .unwrap();
    let post = |server: &serve_support::ServerProc, first: u64| {
        let body: String = (first..first + 10)
            .map(|n| event_line(&new_id(n, 5), "n1", n) + "\n")
            .collect();
        let (status, answer) = post_events(&server.addr, &body, None).unwrap();
        assert_eq!(status, 200, "{answer}");
    };
    let a = start(d, &["--config", "a.toml"]);
    post(&a, 1);
    assert_eq!(stop(a), 0);
    let old = d.join("a-data-old");
    std::fs::create_dir_all(&old).unwrap();
    let cp = std::process::Command::new("cp")
        .args(["-a", "a-data/.", "a-data-old/"])
        .current_dir(d)
        .status()
        .unwrap();
    assert!(cp.success());
    let a = start(d, &["--config", "a.toml"]);
    post(&a, 11);
    post(&a, 21);
    assert_eq!(stop(a), 0);

    let values = read_values(&brokers, &topic);
    assert!(values.len() >= 3, "{values:?}");
    std::fs::write(d.join("witness.jsonl"), values.join("\n") + "\n").unwrap();
    let key = std::fs::read_to_string(d.join("a-data/signing.pub")).unwrap();
    let (code, report) = verify(d, key.trim(), "witness.jsonl");
    assert_eq!(code, 0, "{report:#}");
    assert!(
        report["stores"][0]["witnessed"].as_u64().unwrap() >= 3,
        "{report:#}"
    );

    std::fs::rename(d.join("a-data"), d.join("a-data-real")).unwrap();
    std::fs::rename(&old, d.join("a-data")).unwrap();
    let (code, report) = verify(d, key.trim(), "witness.jsonl");
    assert_eq!(code, 1, "{report:#}");
    assert!(report.to_string().contains("rolled-back"), "{report:#}");
}
