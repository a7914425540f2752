//! The data folder moved away while a server with a witness that gives up
//! (`retry_max_elapsed_s`) runs: the witness dispatcher gives the next checkpoint line
//! up, and its dead letter, which would make `<data_dir>/witness/deadletter/` again at
//! the path, is refused. The publisher's ERROR said "see its dead letters under
//! <data_dir>/witness/deadletter" all the same, where there was none to see. Now it
//! says that no dead letter was written, and why: the data folder, named.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::serve_support::{event_line, new_id, post_events, start, Port, ServerProc};

const SALT: u64 = 6703;
/// The start of the publisher's ERROR, before and after the change.
const NOT_TAKEN: &str = "the witness dispatcher could not take";

fn post(server: &ServerProc, n: u64) {
    let (status, answer) = post_events(&server.addr, &event_line(&new_id(n, SALT), "n1", n), None)
        .unwrap_or_else(|e| panic!("no answer: {e}\n{}", server.stderr()));
    assert_eq!(status, 200, "{answer}\n{}", server.stderr());
}

#[test]
fn the_error_of_a_line_given_up_while_the_data_folder_is_away_says_no_dead_letter_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = d.join("stores/a");
    // Nothing listens there: the lines wait in the spool, which is all this needs.
    let witness = Port::new();
    std::fs::write(
        d.join("server.toml"),
        format!(
            "data_dir = \"data\"\n[checkpoints]\nevery_records = 1\n\
             [[witnesses]]\nname = \"w1\"\ntype = \"eventserver\"\nurl = \"{}\"\nretry_max_elapsed_s = 1\n\
             [[destinations]]\nname = \"a\"\ntype = \"store\"\npath = {store:?}\n",
            witness.url()
        ),
    )
    .unwrap();
    let server = start(d, &["--config", "server.toml"]);
    let data = d.join("data");
    post(&server, 1);

    std::fs::rename(&data, d.join("data.moved")).unwrap();
    post(&server, 2);
    let until = Instant::now() + Duration::from_secs(60);
    while !server.stderr().contains(NOT_TAKEN) {
        assert!(Instant::now() < until, "{}", server.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = server.stderr();
    let said = log.lines().find(|l| l.contains(NOT_TAKEN)).unwrap();
    assert!(!said.contains("see its dead letters"), "{said}");
    assert!(said.contains("witness w1: "), "{said}");
    assert!(said.contains("no dead letter was written"), "{said}");
    // Why: the data folder is away (and nothing was made at its path).
    assert!(
        said.contains(&format!(
            "its dead letter was not written to {}",
            data.join("witness/deadletter/w1.jsonl").display()
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!("the data folder {}", data.display())),
        "{said}"
    );
    assert!(!data.exists());
    drop(server);
}
