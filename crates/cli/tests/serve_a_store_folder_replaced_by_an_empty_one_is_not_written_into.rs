//! Store `a`'s folder moved away and an empty folder made at its path while the server
//! runs (`mv a a.moved; mkdir -p a`: a script, a restore): the server wrote the batch it
//! retried and the next ones into the new folder (no store id, no checkpoint log), and
//! the store's chain was split across two folders, neither of which verified
//! (final62/02). Now nothing is written there: `a`'s batches are answered `503
//! store_failing` ("not the folder the store opened"), and once the store's folder is
//! back the retried batch is written into it and the store verifies whole.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::full_disk_support::{readyz, two_stores_with};
use crate::serve_support::{post_events, stored_ids};
use crate::tamper_support::ten;

const SALT: u64 = 637;

#[test]
fn an_empty_folder_at_the_stores_path_is_not_written_into() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let server = two_stores_with(dir.path(), &a, &b, SALT, 600_000, "");
    let moved = dir.path().join("a.moved");
    std::fs::rename(&a, &moved).unwrap();
    std::fs::create_dir(&a).unwrap();

    let (status, answer) = post_events(&server.addr, &ten("svc-a", 11, SALT), None)
        .unwrap_or_else(|e| panic!("no answer: {e}\n{}", server.stderr()));
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("store_failing")),
        "{answer}\n{}",
        server.stderr()
    );
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("not the folder the store opened"),
        "{answer}"
    );
    let written: Vec<_> = std::fs::read_dir(&a).unwrap().collect();
    assert!(
        written.is_empty(),
        "written into the new folder: {written:?}"
    );

    // The store's folder back: the retried batch is written into it.
    std::fs::remove_dir(&a).unwrap();
    std::fs::rename(&moved, &a).unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while readyz(&server.addr).1.to_string().contains("store_failing") {
        assert!(Instant::now() < until, "still failing\n{}", server.stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, answer) = post_events(&server.addr, &ten("svc-a", 21, SALT), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
    assert_eq!(stored_ids(&a).len(), 30);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["verify", "--config", "server.toml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
