//! Event ids are chosen by clients, and two different events sent with one id are both
//! stored. `auditrail prove --event-id` then refuses instead of proving whichever record
//! it found first: it names every record holding the id (its chainSeq and segment
//! file), and `--chain-seq` picks one, which must be one of them. The same holds when
//! two stores of the config each hold the id: `--store` picks one. An id held once is
//! proven as before.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::proof_support;
use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use std::path::Path;

use proof_support::{check, key, prove};
use retention_support::{post_day, run, write_config};
use serve_support::{new_id, post_events, start, ServerProc};

const ID: &str = "0190b8a2-1c3d-7000-8000-00000000abcd";

/// Posts an event with the shared [`ID`], of `day`, `topic` and user `user`.
fn post_shared(server: &ServerProc, day: &str, topic: &str, user: &str, seq: u64) {
    let line = serde_json::json!({
        "id": ID, "timestamp": format!("{day}T12:00:00.000Z"), "topic": topic,
        "node": "n2", "seq": seq, "message": {"msgType": "login", "authUser": user}
    })
    .to_string();
    let (status, answer) = post_events(&server.addr, &format!("{line}\n"), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["accepted"], 1,
        "another event, not a duplicate: {answer}"
    );
}

/// Every record of `store` whose event id is `id`: (chainSeq, segment file relative to
/// the store, the record line), in chain order.
fn records_of(store: &Path, id: &str) -> Vec<(u64, String, String)> {
    let mut out = Vec::new();
    for segment in auditrail_store::StoreFiles::walk(store).unwrap().segments() {
        auditrail_store::SegmentReader::open(&segment.path)
            .unwrap()
            .for_each_line(|line| {
                let record = line.record().unwrap();
                if record.identity().unwrap().id.to_string() == id {
                    let seq = record.link.unwrap().seq;
                    let text = String::from_utf8_lossy(line.bytes).into_owned();
                    out.push((seq, segment.rel.clone(), text));
                }
            })
            .unwrap();
    }
    out.sort();
    out
}

#[test]
fn two_records_of_one_id_are_named_and_the_picked_one_is_proven() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2025-01-01", 4, 1);
    post_shared(&server, "2025-01-02", "generic", "alice", 1);
    post_day(&server, "2025-01-02", 3, 2);
    post_shared(&server, "2025-01-03", "authfail", "mallory", 2);
    assert_eq!(tamper_support::stop(server), 0);
    let store = dir.path().join("data/store");
    let shared = records_of(&store, ID);
    assert_eq!(shared.len(), 2, "{shared:?}");
    assert_ne!(shared[0].1, shared[1].1, "two partitions: {shared:?}");
    let key = key(dir.path());

    // Without a pick: refused, every record named.
    let (code, out) = run(
        dir.path(),
        &["prove", "--config", "server.toml", "--event-id", ID],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("2 records of store"), "{out}");
    for (seq, segment, _) in &shared {
        assert!(
            out.contains(&format!("chainSeq {seq} in {segment}")),
            "{out}"
        );
    }
    assert!(out.contains("--chain-seq"), "{out}");

    // Each record, picked by its chainSeq, is proven: the bundle holds that record.
    for (seq, _, line) in &shared {
        let file = format!("proof-{seq}.json");
        let bundle = prove(
            dir.path(),
            &["--event-id", ID, "--chain-seq", &seq.to_string()],
            &file,
        );
        assert_eq!(bundle["record"].as_str(), Some(line.as_str()), "{bundle:#}");
        assert_eq!(bundle["leafIndex"], seq - 1, "{bundle:#}");
        let (code, out) = check(dir.path(), &bundle, &file, &key);
        assert_eq!(code, 0, "{out}");
        assert!(
            out.contains(&format!("event {ID} is record chainSeq {seq} ")),
            "{out}"
        );
    }

    // A chainSeq that is another event's record: refused, naming the event's records.
    let other = records_of(&store, &new_id(2, 1));
    let other_seq = other[0].0.to_string();
    let (code, out) = run(
        dir.path(),
        &[
            "prove",
            "--config",
            "server.toml",
            "--event-id",
            ID,
            "--chain-seq",
            &other_seq,
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("record chainSeq {other_seq} of store ")),
        "{out}"
    );
    assert!(
        out.contains(&format!("data/store is not event {ID}")),
        "{out}"
    );
    for (seq, segment, _) in &shared {
        assert!(
            out.contains(&format!("chainSeq {seq} in {segment}")),
            "{out}"
        );
    }

    // An id held by one record is proven without a pick, as before.
    let single = new_id(3, 2);
    let bundle = prove(dir.path(), &["--event-id", &single], "single.json");
    assert_eq!(bundle["eventId"], single.as_str());
}

#[test]
fn an_id_held_in_two_stores_is_refused_until_the_store_is_picked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\n\
         [[destinations]]\ntype = \"store\"\npath = \"a\"\ntopics = [\"generic\"]\n\
         [[destinations]]\ntype = \"store\"\npath = \"b\"\ntopics = [\"authfail\"]\n",
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2025-01-01", 4, 1);
    post_shared(&server, "2025-01-02", "generic", "alice", 1);
    post_shared(&server, "2025-01-02", "authfail", "mallory", 2);
    assert_eq!(tamper_support::stop(server), 0);
    let (a, b) = (dir.path().join("data/a"), dir.path().join("data/b"));
    let (in_a, in_b) = (records_of(&a, ID), records_of(&b, ID));
    assert_eq!((in_a.len(), in_b.len()), (1, 1), "{in_a:?} {in_b:?}");

    let (code, out) = run(
        dir.path(),
        &["prove", "--config", "server.toml", "--event-id", ID],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("2 stores hold event {ID}")), "{out}");
    for (store, records) in [("data/a", &in_a), ("data/b", &in_b)] {
        assert!(
            out.contains(&format!(
                "{store}: chainSeq {} in {}",
                records[0].0, records[0].1
            )),
            "{out}"
        );
    }
    assert!(out.contains("--store"), "{out}");

    // Picked by --store: that store's record.
    let (code, out) = run(
        dir.path(),
        &[
            "prove",
            "--store",
            "data/b",
            "--event-id",
            ID,
            "--out",
            "b.json",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("b.json")).unwrap()).unwrap();
    assert_eq!(bundle["record"].as_str(), Some(in_b[0].2.as_str()));

    // An id one store holds is proven through the config, as before.
    let single = new_id(2, 1);
    let bundle = prove(dir.path(), &["--event-id", &single], "single.json");
    assert_eq!(bundle["eventId"], single.as_str());
}
