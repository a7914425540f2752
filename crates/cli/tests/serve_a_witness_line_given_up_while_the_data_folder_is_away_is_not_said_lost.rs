//! The data folder moved away while a server with a witness that gives up
//! (`retry_max_elapsed_s`) runs: the witness dispatcher gives the next checkpoint line
//! up and its dead letter is refused by the data folder's check (nothing is made at the
//! path). The line is not lost: it stays in the store's checkpoint log, its index is not
//! recorded as given, and the next start publishes it again. Before, the log said
//! `EVENT LOST: cannot write the dead-letter file` for it. Now the witness dispatcher
//! declares that its events are made again (`made_again_while_folder_gone`), and a
//! dead letter refused by the folder check (`FolderGone`) is said at WARN as not
//! dead-lettered and made again, naming the data folder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::{
    post_accepted, wait_until, witness_giving_up_with_the_data_folder_moved, Port,
};

const SALT: u64 = 6605;
const LOST: &str = "EVENT LOST: cannot write the dead-letter file";
const MADE_AGAIN: &str = "event not dead-lettered while the data folder is away";

#[test]
fn a_witness_line_given_up_while_the_data_folder_is_away_is_not_logged_as_lost() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let witness = Port::new();
    let server = witness_giving_up_with_the_data_folder_moved(d, &witness, SALT);
    let data = d.join("data");
    post_accepted(&server, 2, SALT);
    // The line given up, its dead letter refused: said one way or the other.
    wait_until("the line given up", &[&server], || {
        let log = server.stderr();
        log.contains(MADE_AGAIN) || log.contains(LOST)
    });
    let log = server.stderr();
    assert!(
        !log.contains(LOST),
        "said lost, though published again:\n{log}"
    );
    let said = log.lines().find(|l| l.contains(MADE_AGAIN)).unwrap();
    assert!(said.contains("WARN"), "{said}");
    assert!(
        said.contains(&format!("the data folder {}", data.display())),
        "{said}"
    );
    assert!(said.contains("the next start publishes it"), "{said}");
    drop(server);
}
