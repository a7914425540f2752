//! The data folder moved away while the server runs, with `[[witnesses]]`: the record
//! of the checkpoint lines the witnesses received (`<data_dir>/witness/handed/<store
//! id>`) was written with `create_dir_all`, which made the folder again at its old
//! path holding only that record, while the signing key, the lock, the marks and the
//! witness's own state were in the folder moved away. Now the record asks the same
//! folder check as the high-water marks (`data_folder_moved`): nothing is made at the
//! path, the refusal is said once at WARN, and the record is written once the folder
//! is back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crate::serve_support::{event_line, new_id, post_events, start, wait_for_log, ServerProc};

const SALT: u64 = 6451;

fn post(server: &ServerProc, n: u64) {
    let (status, answer) = post_events(&server.addr, &event_line(&new_id(n, SALT), "n1", n), None)
        .unwrap_or_else(|e| panic!("no answer: {e}\n{}", server.stderr()));
    assert_eq!(status, 200, "{answer}\n{}", server.stderr());
}

/// The index recorded as given for the one store, once there is one.
fn handed(data: &Path) -> Option<u64> {
    let entry = std::fs::read_dir(data.join("witness/handed"))
        .ok()?
        .flatten()
        .find(|e| !e.file_name().to_string_lossy().ends_with(".tmp"))?;
    std::fs::read_to_string(entry.path())
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Waits (bounded: a hang guard, no timing asserted) until the record holds an index
/// past `after`; returns it.
fn wait_for_handed(server: &ServerProc, data: &Path, after: u64) -> u64 {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        match handed(data) {
            Some(index) if index > after => return index,
            found => assert!(
                std::time::Instant::now() < until,
                "recorded: {found:?}, not past #{after}\n{}",
                server.stderr()
            ),
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn the_witness_record_does_not_make_a_moved_data_folder_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("stores/a");
    let out = dir.path().join("witness-out");
    std::fs::write(
        dir.path().join("server.toml"),
        format!(
            "data_dir = \"data\"\n[checkpoints]\nevery_records = 1\n\
             [[witnesses]]\nname = \"w\"\ntype = \"file\"\ndir = {out:?}\n\
             [[destinations]]\nname = \"a\"\ntype = \"store\"\npath = {store:?}\n"
        ),
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let data = dir.path().join("data");
    post(&server, 1);
    let before = wait_for_handed(&server, &data, 0);

    let moved = dir.path().join("data.moved");
    std::fs::rename(&data, &moved).unwrap();
    post(&server, 2);
    wait_for_log(&server, "is not recorded as given in");
    assert!(
        !data.exists(),
        "made again at its path: {:?}\n{}",
        std::fs::read_dir(&data).map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>()),
        server.stderr()
    );
    post(&server, 3);
    let refused: Vec<String> = server
        .stderr()
        .lines()
        .filter(|l| l.contains("is not recorded as given in"))
        .map(str::to_owned)
        .collect();
    assert_eq!(refused.len(), 1, "said once: {refused:?}");
    assert!(
        refused[0].contains("WARN")
            && refused[0]
                .contains("the folder is gone (moved away or removed while the server runs)")
            && refused[0].contains("the record waits for the folder to be back"),
        "{refused:?}"
    );
    assert!(!data.exists(), "{}", server.stderr());
    assert_eq!(
        handed(&moved),
        Some(before),
        "the record moved away as it was"
    );

    // Back: the lines given meanwhile are recorded there.
    std::fs::rename(&moved, &data).unwrap();
    post(&server, 4);
    wait_for_handed(&server, &data, before);
    wait_for_log(&server, "the data folder is back at its path");
    assert_eq!(server.terminate(), 0);
}
