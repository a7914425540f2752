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

use crate::serve_support::{
    self, assert_not_made_again, event_line, new_id, paths_under, post_accepted, post_events,
    post_until_accepted, start_with_config, wait_until,
};

const SALT: u64 = 6511;

#[test]
fn a_file_destination_does_not_make_a_moved_data_folder_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = d.join("stores/a");
    // A short acknowledgement timeout: the batch sent while the folder is away is
    // answered `503` (the file destination cannot write it) without a long wait.
    let server = start_with_config(
        d,
        &format!(
            "data_dir = \"data\"\nack_timeout_ms = 1000\n\
             [[destinations]]\nname = \"a\"\ntype = \"store\"\npath = {store:?}\n\
             [[destinations]]\nname = \"f\"\ntype = \"file\"\n"
        ),
    );
    let data = d.join("data");
    post_accepted(&server, 1, SALT);
    assert!(
        data.join("audit/audit.log").is_file(),
        "{}",
        server.stderr()
    );

    let moved = d.join("data.moved");
    std::fs::rename(&data, &moved).unwrap();
    let (status, answer) =
        post_events(&server.addr, &event_line(&new_id(2, SALT), "n1", 2), None).unwrap();
    assert_eq!(
        status, 503,
        "the file destination cannot write it: {answer}"
    );
    assert_not_made_again(&server, &data);
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
    assert!(!data.exists(), "{:?}", paths_under(&data));

    // Back: the destination writes into the audit file moved back with it, the batch
    // held meanwhile included.
    std::fs::rename(&moved, &data).unwrap();
    // Sent again while answered 503, as a node does: the held batch may still be in
    // its retry's back-off (past a second by then) when the next one comes, which then
    // waits past the 1 s acknowledgement time-out (CI failed so once under load).
    post_until_accepted(&server, 3, SALT);
    let audit = data.join("audit/audit.log");
    wait_until("the three events in the audit file", &[&server], || {
        let lines = std::fs::read_to_string(&audit).unwrap();
        let has = |n: u64| lines.contains(&new_id(n, SALT));
        has(1) && has(2) && has(3)
    });
    assert!(
        !data.join("data.moved").exists(),
        "{:?}",
        paths_under(&data)
    );
    assert_eq!(server.terminate(), 0);
}
