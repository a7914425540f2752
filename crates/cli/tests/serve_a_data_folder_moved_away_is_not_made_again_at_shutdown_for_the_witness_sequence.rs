//! The data folder moved away while a server with `[[witnesses]]` runs, then the
//! server stopped (SIGTERM): the witness dispatcher's graceful shutdown records its
//! next sequence number in `<data_dir>/witness/seq/<node>`, and the sequence file's
//! writer makes its folder again when it is gone (right for a node's run folder
//! removed by a cleanup job). Before, that made the data folder again at its path,
//! holding only `witness/seq/`. Now the writer asks the data folder's check first
//! (`DispatcherBuilder::folder_check`): nothing is made at the path, and the stop says
//! why the number is not recorded, naming the data folder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::{
    file_witness, paths_under, post_accepted, start_sealing_every_record, wait_for_log,
};

const SALT: u64 = 6504;

#[test]
fn the_witness_sequence_file_does_not_make_a_moved_data_folder_again_at_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = start_sealing_every_record(d, &file_witness(&d.join("witness-out")));
    let data = d.join("data");
    post_accepted(&server, 1, SALT);
    assert!(data.join("witness/seq").is_dir(), "{}", server.stderr());

    let moved = d.join("data.moved");
    std::fs::rename(&data, &moved).unwrap();
    post_accepted(&server, 2, SALT);
    // The data folder's move is seen (by the marks) before the stop.
    wait_for_log(&server, "moved away or removed while the server runs");
    let stderr = server.stderr_path.clone();
    server.terminate();
    let log = std::fs::read_to_string(stderr).unwrap();
    assert!(
        !data.exists(),
        "made again at its path: {:?}\n{log}",
        paths_under(&data),
    );
    let said: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("cannot record the next sequence number"))
        .collect();
    assert_eq!(said.len(), 1, "{log}");
    assert!(
        said[0].contains(&format!("the data folder {}", data.display())),
        "{said:?}"
    );
    assert!(moved.join("witness/seq").is_dir());
}
