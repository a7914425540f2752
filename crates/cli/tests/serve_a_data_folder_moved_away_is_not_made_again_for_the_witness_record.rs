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

use crate::serve_support::{
    assert_not_made_again, file_witness, post_accepted, start_sealing_every_record, wait_for_log,
    wait_until, ServerProc,
};

const SALT: u64 = 6451;

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
    let mut found = None;
    wait_until(&format!("a record past #{after}"), &[server], || {
        found = handed(data);
        found.is_some_and(|index| index > after)
    });
    found.unwrap()
}

#[test]
fn the_witness_record_does_not_make_a_moved_data_folder_again() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("witness-out");
    let server = start_sealing_every_record(dir.path(), &file_witness(&out));
    let data = dir.path().join("data");
    post_accepted(&server, 1, SALT);
    let before = wait_for_handed(&server, &data, 0);

    let moved = dir.path().join("data.moved");
    std::fs::rename(&data, &moved).unwrap();
    post_accepted(&server, 2, SALT);
    wait_for_log(&server, "is not recorded as given in");
    assert_not_made_again(&server, &data);
    post_accepted(&server, 3, SALT);
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
    post_accepted(&server, 4, SALT);
    wait_for_handed(&server, &data, before);
    wait_for_log(&server, "the data folder is back at its path");
    assert_eq!(server.terminate(), 0);
}
