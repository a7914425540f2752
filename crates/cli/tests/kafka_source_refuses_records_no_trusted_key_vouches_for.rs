//! A Kafka source with `signing_keys` stores a record only when a key it trusts signed
//! it for this topic, and that key may write the record's event: a node's `kafka`
//! target with `signing_key` (made by `auditrail keys new`) signs, and its event is
//! stored with the key's id as `keyId`. Each forgery is refused alone, dead-lettered
//! with its offset and its reason, counted and logged, and the next good record of the
//! same partition is stored: a record without the headers, one signed by another key
//! under the trusted key's id, one naming a key id the source does not know, one whose
//! value was changed after signing, one signed for another topic and copied onto this
//! one, one signed by a key whose `topics` do not include the event's.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::path::Path;
use std::time::{Duration, Instant};

use auditrail::kafka_sig::{signed_message, HEADER_KEY_ID, HEADER_SIG};
use auditrail_integrity::Signer;
use kafka_support::{
    id_counts, metric, one_source, produce_with_headers, OneSource, RecordHeaders,
};
use serve_support::{event_line, new_id, start};

/// `auditrail keys new --out <dir>/<name>`: the key and its printed public half.
fn new_key(dir: &Path, name: &str) -> (Signer, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["keys", "new", "--out", name])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let public = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let signer = Signer::load(&dir.join(name)).unwrap();
    assert_eq!(public, signer.public_key().to_string());
    // Never replaced: its public half may be listed somewhere already.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["keys", "new", "--out", name])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert_eq!(
        Signer::load(&dir.join(name)).unwrap().public_key(),
        signer.public_key()
    );
    (signer, public)
}

/// The headers of a record of `topic` keyed `n1` signed by `signer` as `key_id`.
fn signed(signer: &Signer, topic: &str, key_id: &str, value: &[u8]) -> RecordHeaders<'static> {
    let sig = signer.sign(&signed_message(topic, Some(b"n1"), key_id, Some(value)));
    vec![
        (HEADER_KEY_ID, key_id.as_bytes().to_vec()),
        (HEADER_SIG, hex::encode(sig).into_bytes()),
    ]
}

#[test]
fn only_records_a_trusted_key_signed_for_this_topic_and_event_are_stored() {
    let OneSource {
        dir,
        brokers,
        topic,
        root,
        ..
    } = one_source("signed", "");
    let d = dir.path();
    let (node_a, public_a) = new_key(d, "node-a.key");
    let (other, _) = new_key(d, "other.key");
    let (node_b, public_b) = new_key(d, "node-b.key");
    // The source trusts node-a for everything and node-b for `authfail` events only.
    let config = std::fs::read_to_string(d.join("s.toml"))
        .unwrap()
        .replace("accept_unsigned = true\n", "");
    std::fs::write(
        d.join("s.toml"),
        format!(
            "{config}[[sources.signing_keys]]\nid = \"node-a\"\npublic_key = \"{public_a}\"\n\
             [[sources.signing_keys]]\nid = \"node-b\"\npublic_key = \"{public_b}\"\n\
             topics = [\"authfail\"]\n"
        ),
    )
    .unwrap();

    // Offset 0: the node's own kafka target, signing.
    std::fs::write(
        d.join("node.toml"),
        format!(
            "node = \"n1\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"kafka\"\nname = \"k\"\n\
             brokers = \"{brokers}\"\ntopic = \"{topic}\"\nkey = \"node\"\n\
             signing_key = \"node-a.key\"\nkey_id = \"node-a\"\n"
        ),
    )
    .unwrap();
    let sent = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["send", "--config", "node.toml", "--topic", "generic"])
        .args(["--msg-type", "login", "--user", "alice"])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(sent.status.success(), "{sent:?}");

    let good = |n: u64| event_line(&new_id(n, 77), "n1", n).into_bytes();
    let good_record = |n: u64| {
        let v = good(n);
        let h = signed(&node_a, &topic, "node-a", &v);
        ("n1", v, h)
    };
    let altered = {
        let h = signed(&node_a, &topic, "node-a", &good(20));
        let v = String::from_utf8(good(20))
            .unwrap()
            .replace("alice", "mallory");
        ("n1", v.into_bytes(), h)
    };
    let records: Vec<(&str, Vec<u8>, RecordHeaders<'_>)> = vec![
        // 1: no headers.
        ("n1", good(10), Vec::new()),
        good_record(2),
        // 3: another key, claiming to be node-a.
        ("n1", good(30), signed(&other, &topic, "node-a", &good(30))),
        good_record(4),
        // 5: a key id the source does not list.
        (
            "n1",
            good(50),
            signed(&other, &topic, "stranger", &good(50)),
        ),
        good_record(6),
        // 7: the value changed after node-a signed it.
        altered,
        good_record(8),
        // 9: signed by node-a for another topic, copied onto this one.
        (
            "n1",
            good(90),
            signed(&node_a, "elsewhere", "node-a", &good(90)),
        ),
        good_record(10),
        // 11: node-b may write `authfail` events only; this one is `generic`.
        (
            "n1",
            good(110),
            signed(&node_b, &topic, "node-b", &good(110)),
        ),
        good_record(12),
    ];
    let borrowed: Vec<(&str, &[u8], RecordHeaders<'_>)> = records
        .iter()
        .map(|(k, v, h)| (*k, v.as_slice(), h.clone()))
        .collect();
    produce_with_headers(&brokers, &topic, &borrowed);

    let server = start(d, &["--config", "s.toml"]);
    let until = Instant::now() + Duration::from_secs(60);
    while id_counts(&root).len() < 7
        || metric(&server, "auditrail_kafka_source_unverified_total") < 6
    {
        assert!(
            Instant::now() < until,
            "not stored / counted: {:?}\n{}",
            id_counts(&root),
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        metric(&server, "auditrail_kafka_source_unverified_total"),
        6
    );
    assert_eq!(
        metric(&server, "auditrail_kafka_source_events_stored_total"),
        7
    );
    let log = server.stderr();
    assert_eq!(server.terminate(), 0);
    assert!(
        log.contains("records no trusted key vouches for were dead-lettered")
            && log.contains(&format!("the first at offset 1 of {topic}/0"))
            && log.contains("unsigned record"),
        "{log}"
    );

    let dead = std::fs::read_to_string(d.join("s-data/deadletter/source-kafka.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = dead
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let refused: Vec<(i64, String)> = lines
        .iter()
        .map(|l| {
            assert_eq!(l["kafka"]["topic"], topic.as_str());
            assert_eq!(l["kafka"]["partition"], 0);
            (
                l["kafka"]["offset"].as_i64().unwrap(),
                l["error"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        (1, "unsigned record"),
        (3, "does not verify under key \"node-a\""),
        (
            5,
            "signed by key id \"stranger\", which is not among the source's `signing_keys`",
        ),
        (7, "does not verify under key \"node-a\""),
        (9, "does not verify under key \"node-a\""),
        (11, "key \"node-b\" may not write topic \"generic\""),
    ];
    assert_eq!(refused.len(), expected.len(), "{dead}");
    for ((offset, error), (want_offset, want)) in refused.iter().zip(expected) {
        assert_eq!(*offset, want_offset, "{dead}");
        assert!(error.contains(want), "offset {offset}: {error}");
    }

    // The good ones, each with the key that vouched for it.
    let store = kafka_support::partition_stores(&root);
    let kept: Vec<(i64, String)> = auditrail_testkit::store::records(&store[0])
        .iter()
        .map(|r| {
            (
                r["source"]["kafka"]["offset"].as_i64().unwrap(),
                r["keyId"].as_str().unwrap_or("(none)").to_owned(),
            )
        })
        .collect();
    let want: Vec<(i64, String)> = [0, 2, 4, 6, 8, 10, 12]
        .into_iter()
        .map(|o| (o, "node-a".to_owned()))
        .collect();
    assert_eq!(kept, want);
}
