//! The data folder moved away while a server with a `file` destination at its default
//! folder (`<data_dir>/audit`) runs (`mv data data.moved`). Before, the next batch found
//! the audit folder gone and the file destination made it again
//! (`data/audit/audit.log`, "the audit folder was moved away ... created again"): the
//! data folder was back at its path while `/readyz` said `data_folder_moved`, and the
//! documented fix (`mv data.moved data`) nested the folder. Now the file destination
//! asks the data folder's check (given to the destinations' dispatcher) before it makes
//! its folder again: nothing is made at the path, the write is retried with an error
//! naming the data folder, and once the folder is moved back the destination writes
//! into its audit file there again (the batch held meanwhile included).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use crate::serve_support::{self, event_line, new_id, post_events, start};

const SALT: u64 = 6511;

#[test]
fn a_file_destination_does_not_make_a_moved_data_folder_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = d.join("stores/a");
    // A short acknowledgement timeout: the batch sent while the folder is away is
    // answered `503` (the file destination cannot write it) without a long wait.
    std::fs::write(
        d.join("server.toml"),
        format!(
            "data_dir = \"data\"\nack_timeout_ms = 1000\n\
             [[destinations]]\nname = \"a\"\ntype = \"store\"\npath = {store:?}\n\
             [[destinations]]\nname = \"f\"\ntype = \"file\"\n"
        ),
    )
    .unwrap();
    let server = start(d, &["--config", "server.toml"]);
    let data = d.join("data");
    let post = |n: u64| {
        post_events(&server.addr, &event_line(&new_id(n, SALT), "n1", n), None)
            .unwrap_or_else(|e| panic!("no answer: {e}\n{}", server.stderr()))
    };
    let (status, answer) = post(1);
    assert_eq!(status, 200, "{answer}\n{}", server.stderr());
    assert!(
        data.join("audit/audit.log").is_file(),
        "{}",
        server.stderr()
    );

    let moved = d.join("data.moved");
    std::fs::rename(&data, &moved).unwrap();
    let (status, answer) = post(2);
    assert_eq!(
        status, 503,
        "the file destination cannot write it: {answer}"
    );
    assert!(
        !data.exists(),
        "made again at its path: {:?}\n{}",
        walk(&data),
        server.stderr()
    );
    let log = server.stderr();
    assert!(
        log.contains(&format!(
            "cannot create the folder again: the data folder {}",
            data.display()
        )) && log.contains("nothing is created under it"),
        "{log}"
    );
    let (_, ready) = serve_support::request(&server.addr, "GET", "/readyz", &[], b"").unwrap();
    assert!(ready.contains("data_folder_moved"), "{ready}");
    assert!(!data.exists(), "{:?}", walk(&data));

    // Back: the destination writes into the audit file moved back with it, the batch
    // held meanwhile included.
    std::fs::rename(&moved, &data).unwrap();
    // Sent again while answered 503, as a node does: the held batch may still be in
    // its retry's back-off (past a second by then) when the next one comes, which then
    // waits past the 1 s acknowledgement time-out (CI failed so once under load).
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, answer) = post(3);
        if status == 200 {
            break;
        }
        assert!(
            status == 503 && Instant::now() < until,
            "{status} {answer}\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let audit = data.join("audit/audit.log");
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let lines = std::fs::read_to_string(&audit).unwrap();
        let has = |n: u64| lines.contains(&new_id(n, SALT));
        if has(1) && has(2) && has(3) {
            break;
        }
        assert!(Instant::now() < until, "{lines}\n{}", server.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!data.join("data.moved").exists(), "{:?}", walk(&data));
    assert_eq!(server.terminate(), 0);
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
