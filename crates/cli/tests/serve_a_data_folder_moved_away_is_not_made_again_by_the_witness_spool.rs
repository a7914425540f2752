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
use std::time::{Duration, Instant};

use crate::serve_support::{self, event_line, new_id, post_events, start, ServerProc};

const SALT: u64 = 6503;

fn post(server: &ServerProc, n: u64) {
    let (status, answer) = post_events(&server.addr, &event_line(&new_id(n, SALT), "n1", n), None)
        .unwrap_or_else(|e| panic!("no answer: {e}\n{}", server.stderr()));
    assert_eq!(status, 200, "{answer}\n{}", server.stderr());
}

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
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let n = newest_witnessed(store);
        if n > after {
            return n;
        }
        assert!(
            Instant::now() < until,
            "the witness holds up to #{n}, not past #{after}\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

const REFUSED: &str = "the spool folder is gone with the data folder holding it";

#[test]
fn the_witness_spool_does_not_make_a_moved_data_folder_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let witness = start(d, &["--data-dir", "w-data"]);
    let witnessed = d.join("w-data/store");
    let store = d.join("stores/a");
    std::fs::write(
        d.join("server.toml"),
        format!(
            "data_dir = \"data\"\n[checkpoints]\nevery_records = 1\n\
             [[witnesses]]\ntype = \"eventserver\"\nurl = \"http://{}\"\n\
             [[destinations]]\nname = \"a\"\ntype = \"store\"\npath = {store:?}\n",
            witness.addr
        ),
    )
    .unwrap();
    let server = start(d, &["--config", "server.toml"]);
    let data = d.join("data");
    post(&server, 1);
    let before = wait_for_witnessed(&server, &witnessed, 0);
    assert!(data.join("witness/spool").is_dir(), "{}", server.stderr());

    let moved = d.join("data.moved");
    std::fs::rename(&data, &moved).unwrap();
    post(&server, 2);
    post(&server, 3);
    // Either the refusal, or (the fault) the folder made again.
    let until = Instant::now() + Duration::from_secs(60);
    while !server.stderr().contains(REFUSED) && !data.exists() {
        assert!(Instant::now() < until, "{}", server.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !data.exists(),
        "made again at its path: {:?}\n{}",
        walk(&data),
        server.stderr()
    );
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
    assert!(!data.exists(), "{:?}", walk(&data));

    // Back: the witness gets the lines again, from the spool moved back with it.
    std::fs::rename(&moved, &data).unwrap();
    post(&server, 4);
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

/// What is under `dir` (for a failure's message).
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                todo.push(e.path());
            }
            out.push(e.path());
        }
    }
    out
}
