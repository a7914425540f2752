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

use std::time::{Duration, Instant};

use crate::serve_support::{event_line, new_id, post_events, start, Port, ServerProc};

const SALT: u64 = 6505;

fn post(server: &ServerProc, n: u64) {
    let (status, answer) = post_events(&server.addr, &event_line(&new_id(n, SALT), "n1", n), None)
        .unwrap_or_else(|e| panic!("no answer: {e}\n{}", server.stderr()));
    assert_eq!(status, 200, "{answer}\n{}", server.stderr());
}

#[test]
fn witness_dead_letters_do_not_make_a_moved_data_folder_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = d.join("stores/a");
    // Nothing listens there: the lines wait in the spool, which is all this needs.
    let witness = Port::new();
    std::fs::write(
        d.join("server.toml"),
        format!(
            "data_dir = \"data\"\n[checkpoints]\nevery_records = 1\n\
             [[witnesses]]\ntype = \"eventserver\"\nurl = \"{}\"\nretry_max_elapsed_s = 1\n\
             [[destinations]]\nname = \"a\"\ntype = \"store\"\npath = {store:?}\n",
            witness.url()
        ),
    )
    .unwrap();
    let server = start(d, &["--config", "server.toml"]);
    let data = d.join("data");
    post(&server, 1);

    let moved = d.join("data.moved");
    std::fs::rename(&data, &moved).unwrap();
    post(&server, 2);
    // The line given up (its dead letter refused), or (the fault) the folder made again.
    let until = Instant::now() + Duration::from_secs(60);
    while !server
        .stderr()
        .contains("event not dead-lettered while the data folder is away")
        && !data.exists()
    {
        assert!(Instant::now() < until, "{}", server.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !data.exists(),
        "made again at its path: {:?}\n{}",
        std::fs::read_dir(&data).map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>()),
        server.stderr()
    );
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
