//! A server with two destinations, its store and a forward to another server (`type =
//! "eventserver"`, `spool = false`), is killed while the store has a batch and the
//! forward is still retrying it (the other server is down): no `200` was given. After
//! the restart, with the other server up, the client's retry must reach the forward.
//! De-duplication is rebuilt from the store at start; taking the store's records as
//! "stored" once answered the retry `200` as duplicates, and the other server never got
//! the batch; now such a retry is a duplicate in the store and is sent again to the
//! forward (a destination that is not a store, `http/sent_again.rs`) (docs/eventserver.md: `200` means every destination whose filter takes an
//! event took it). Found by `kill -9` during ingest (tryout
//! `restart-dedup-skips-forward-destination.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::time::{Duration, Instant};

use serve_support::*;

#[test]
fn the_retry_after_a_crash_is_forwarded_to_the_server_that_missed_it() {
    let dir = tempfile::tempdir().unwrap();
    // B's port is named in A's config before B starts: held by the test until B
    // takes it (connections to it are refused meanwhile: B is down).
    let port_b = Port::new();
    std::fs::write(
        dir.path().join("a.toml"),
        format!(
            "data_dir = \"a\"\n\
             [[destinations]]\ntype = \"store\"\npath = \"store\"\n\
             [[destinations]]\ntype = \"eventserver\"\nname = \"fwd\"\n\
             url = \"http://127.0.0.1:{port_b}\"\nspool = false\n"
        ),
    )
    .unwrap();
    let batch: String = (1..=10)
        .map(|n| event_line(&new_id(n, 0xfeed), "n1", n) + "\n")
        .collect();

    // B is down: A's store takes the batch, the forward retries, no answer comes.
    let a = start(dir.path(), &["--config", "a.toml"]);
    let addr = a.addr.clone();
    let body = batch.clone();
    let _waiting = std::thread::spawn(move || post_events(&addr, &body, None));
    let store_a = dir.path().join("a/store");
    let until = Instant::now() + Duration::from_secs(30);
    while stored_ids(&store_a).len() < 10 {
        assert!(Instant::now() < until, "store a never held the batch");
        std::thread::sleep(Duration::from_millis(50));
    }
    a.kill9();

    // B comes up, A restarts, the client retries.
    let b_dir = dir.path().join("b-home");
    std::fs::create_dir_all(&b_dir).unwrap();
    let b = start_on(&b_dir, &port_b, &["--data-dir", "b"]);
    let a = start(dir.path(), &["--config", "a.toml"]);
    let (status, answer) = post_events(&a.addr, &batch, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    // `200`: every destination took the batch, the forward included.
    let in_b = stored_ids(&b_dir.join("b/store"));
    assert_eq!(
        in_b.len(),
        10,
        "server B holds {in_b:?}; A answered {answer}"
    );
    // A's store keeps its one record of each: the retry is a duplicate there, sent
    // again to the forward only (until stop 64 it was stored a second time).
    let in_a = stored_ids(&store_a);
    assert_eq!(in_a.len(), 10, "{in_a:?}");
    assert!(in_a.values().all(|&n| n == 1), "{in_a:?}");
    assert_eq!(a.terminate(), 0);
    assert_eq!(b.terminate(), 0);
}
