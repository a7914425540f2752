//! The data folder moved away while a server with a witness that gives up
//! (`retry_max_elapsed_s`) runs: the witness's spool refuses the next checkpoint line
//! (its folder went with the data folder), the witness dispatcher gives the line up and
//! dead-letters it in `<data_dir>/witness/deadletter/`, a file its writer opens at its
//! path with its folder made again when it is gone. Before, that made the data folder
//! again at its path, holding only the dead letter (and, through the loss it records,
//! `witness/seq/`). Now both ask the data folder's check first
//! (`DispatcherBuilder::folder_check`): nothing is made at the path; the line, still in
//! the store's checkpoint log, is published again by the next start.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::{
    assert_not_made_again, post_accepted, wait_until, witness_giving_up_with_the_data_folder_moved,
    Port,
};

const SALT: u64 = 6505;

#[test]
fn witness_dead_letters_do_not_make_a_moved_data_folder_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let witness = Port::new();
    let server = witness_giving_up_with_the_data_folder_moved(d, &witness, SALT);
    let data = d.join("data");
    post_accepted(&server, 2, SALT);
    // The line given up (its dead letter refused), or (the fault) the folder made again.
    wait_until("the line given up", &[&server], || {
        server
            .stderr()
            .contains("event not dead-lettered while the data folder is away")
            || data.exists()
    });
    assert_not_made_again(&server, &data);
    let log = server.stderr();
    // (That it is said as made again, not as lost: see
    // `serve_a_witness_line_given_up_while_the_data_folder_is_away_is_not_said_lost`.)
    let refused = log
        .lines()
        .find(|l| l.contains("event not dead-lettered while the data folder is away"))
        .unwrap();
    assert!(
        refused.contains(&format!("the data folder {}", data.display())),
        "{refused}"
    );
    assert!(!data.exists());
    drop(server);
}
