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

use std::time::{Duration, Instant};

use crate::serve_support::{event_line, new_id, post_events, start, Port, ServerProc};

const SALT: u64 = 6605;
const LOST: &str = "EVENT LOST: cannot write the dead-letter file";
const MADE_AGAIN: &str = "event not dead-lettered while the data folder is away";

fn post(server: &ServerProc, n: u64) {
    let (status, answer) = post_events(&server.addr, &event_line(&new_id(n, SALT), "n1", n), None)
        .unwrap_or_else(|e| panic!("no answer: {e}\n{}", server.stderr()));
    assert_eq!(status, 200, "{answer}\n{}", server.stderr());
}

#[test]
fn a_witness_line_given_up_while_the_data_folder_is_away_is_not_logged_as_lost() {
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

    std::fs::rename(&data, d.join("data.moved")).unwrap();
    post(&server, 2);
    // The line given up, its dead letter refused: said one way or the other.
    let until = Instant::now() + Duration::from_secs(60);
    while !server.stderr().contains(MADE_AGAIN) && !server.stderr().contains(LOST) {
        assert!(Instant::now() < until, "{}", server.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
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
