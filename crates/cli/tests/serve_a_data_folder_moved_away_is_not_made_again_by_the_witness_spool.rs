//! The data folder moved away while a server with an `eventserver` witness runs (`mv
//! data data.moved`): the witness dispatcher keeps that target's spool and receipts
//! under `<data_dir>/witness/`. Before, the next checkpoint line handed to the witness
//! found the spool folder gone and made it again at the old path with its lock file
//! (ERROR "the spool folder was removed ... created again ... LOST"), and the answer's
//! receipt made `witness/receipts/`: the data folder was made again at its path, its
//! state split across two folders, and `mv data.moved data` then failed or nested. Now
//! the spool asks the data folder's check (`DispatcherBuilder::folder_check`) before it
//! makes its folder again: nothing is made at the path, an ERROR names the data folder,
//! `/readyz` says `data_folder_moved`, and once the folder is moved back the witness
//! gets the lines again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crate::serve_support::{
    self, assert_not_made_again, paths_under, post_accepted, start, start_sealing_every_record,
    wait_until, ServerProc,
};

const SALT: u64 = 6503;

/// The highest checkpoint index among the lines the witness server's store holds.
fn newest_witnessed(store: &Path) -> u64 {
    let Ok(files) = auditrail_store::StoreFiles::walk(store) else {
        return 0;
    };
    let mut best = 0;
    for segment in files.segments() {
        let Ok(reader) = auditrail_store::SegmentReader::open(&segment.path) else {
            continue;
        };
        let _ = reader.for_each_line(|l| {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(l.bytes) {
                if let Some(n) = v["clientEvent"]["message"]["checkpoint"].as_u64() {
                    best = best.max(n);
                }
            }
        });
    }
    best
}

/// Waits (bounded: a hang guard, no timing asserted) until the witness holds a line
/// past `after`; returns its index.
fn wait_for_witnessed(server: &ServerProc, store: &Path, after: u64) -> u64 {
    let mut n = 0;
    wait_until(
        &format!("the witness to hold a line past #{after}"),
        &[server],
        || {
            n = newest_witnessed(store);
            n > after
        },
    );
    n
}

const REFUSED: &str = "the spool folder is gone with the data folder holding it";

#[test]
fn the_witness_spool_does_not_make_a_moved_data_folder_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let witness = start(d, &["--data-dir", "w-data"]);
    let witnessed = d.join("w-data/store");
    let server = start_sealing_every_record(
        d,
        &format!(
            "[[witnesses]]\ntype = \"eventserver\"\nurl = \"http://{}\"\n",
            witness.addr
        ),
    );
    let data = d.join("data");
    post_accepted(&server, 1, SALT);
    let before = wait_for_witnessed(&server, &witnessed, 0);
    assert!(data.join("witness/spool").is_dir(), "{}", server.stderr());

    let moved = d.join("data.moved");
    std::fs::rename(&data, &moved).unwrap();
    post_accepted(&server, 2, SALT);
    post_accepted(&server, 3, SALT);
    // Either the refusal, or (the fault) the folder made again.
    wait_until("the refusal", &[&server], || {
        server.stderr().contains(REFUSED) || data.exists()
    });
    assert_not_made_again(&server, &data);
    let log = server.stderr();
    let refused: Vec<&str> = log.lines().filter(|l| l.contains(REFUSED)).collect();
    assert_eq!(refused.len(), 1, "said once: {refused:#?}");
    assert!(
        refused[0].contains("ERROR")
            && refused[0].contains(&format!("the data folder {}", data.display()))
            && refused[0].contains("nothing is created under it"),
        "{refused:?}"
    );
    assert!(
        !log.contains("is created again with its lock file"),
        "{log}"
    );
    let (_, ready) = serve_support::request(&server.addr, "GET", "/readyz", &[], b"").unwrap();
    assert!(ready.contains("data_folder_moved"), "{ready}");
    assert!(!data.exists(), "{:?}", paths_under(&data));

    // Back: the witness gets the lines again, from the spool moved back with it.
    std::fs::rename(&moved, &data).unwrap();
    post_accepted(&server, 4, SALT);
    wait_for_witnessed(&server, &witnessed, before);
    assert!(
        !server
            .stderr()
            .contains("is created again with its lock file"),
        "{}",
        server.stderr()
    );
    assert_eq!(server.terminate(), 0);
    drop(witness);
}
