//! A witness that is down while the server signs checkpoint lines: they wait in the
//! witness spool (`<data_dir>/witness/spool`). The server is killed and the spool's
//! segment is lost (removed by hand as "just a queue", or with a disk); then both
//! start again. The lines are still in the server's checkpoint log, so the witness must
//! get the last of them (whose `prev` links vouch for the others). Before, the server
//! recorded each line as given to the witness (`<data_dir>/witness/handed/<store id>`)
//! as soon as its spool took it, so its start published none again: the witness held
//! nothing of the store, and a rollback went unseen. Now the index moves only once the
//! witness received the lines.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::path::Path;
use std::time::{Duration, Instant};

use serve_support::{event_line, new_id, post_events, start, start_on, Port};

/// The highest checkpoint index among the lines a witness server's store holds.
fn newest_witnessed(store: &Path) -> u64 {
    let Ok(files) = auditrail_store::StoreFiles::walk(store) else {
        return 0;
    };
    let mut best = 0;
    for segment in files.segments() {
        auditrail_store::SegmentReader::open(&segment.path)
            .unwrap()
            .for_each_line(|l| {
                let v: serde_json::Value = serde_json::from_slice(l.bytes).unwrap();
                if let Some(n) = v["clientEvent"]["message"]["checkpoint"].as_u64() {
                    best = best.max(n);
                }
            })
            .unwrap();
    }
    best
}

#[test]
fn lines_lost_from_the_witness_spool_are_published_again_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let witness_port = Port::new();
    std::fs::write(
        d.join("a.toml"),
        format!(
            "data_dir = \"a-data\"\nshutdown_timeout_s = 2\n[checkpoints]\nevery_records = 10\n\
             [[witnesses]]\ntype = \"eventserver\"\nurl = \"{}\"\n\
             [[destinations]]\ntype = \"store\"\npath = \"store\"\n",
            witness_port.url()
        ),
    )
    .unwrap();
    // The witness is down: three lines wait in the spool.
    let a = start(d, &["--config", "a.toml"]);
    for batch in 0..3u64 {
        let body: String = (1..=10u64)
            .map(|i| {
                let n = batch * 10 + i;
                event_line(&new_id(n, 8), "n1", n) + "\n"
            })
            .collect();
        let (status, answer) = post_events(&a.addr, &body, None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    let spool = d.join("a-data/witness/spool/eventserver-0");
    let until = Instant::now() + Duration::from_secs(30);
    let segments = loop {
        let segments: Vec<_> = std::fs::read_dir(&spool)
            .map(|r| {
                r.map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|x| x == "seg"))
                    .collect()
            })
            .unwrap_or_default();
        let stats = serve_support::request(&a.addr, "GET", "/v1/stats", &[], b"")
            .unwrap()
            .1;
        let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
        if stats["witnesses"]["linesHanded"].as_u64() >= Some(3) && !segments.is_empty() {
            break segments;
        }
        assert!(
            Instant::now() < until,
            "the lines never reached the spool: {stats:#}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    a.kill9();
    let log = std::fs::read_to_string(d.join("a-data/store/checkpoints.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    let last = last["checkpoint"].as_u64().unwrap();
    assert!(last >= 3, "{log}");
    for s in segments {
        std::fs::remove_file(s).unwrap();
    }

    let witness = start_on(d, &witness_port, &["--data-dir", "witness-data"]);
    let a = start(d, &["--config", "a.toml"]);
    let until = Instant::now() + Duration::from_secs(30);
    while newest_witnessed(&d.join("witness-data/store")) < last {
        assert!(
            Instant::now() < until,
            "the witness never got checkpoint #{last}, still in the log, after the spool lost it (it holds up to #{}); server: {}",
            newest_witnessed(&d.join("witness-data/store")),
            a.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(a);
    drop(witness);
}
