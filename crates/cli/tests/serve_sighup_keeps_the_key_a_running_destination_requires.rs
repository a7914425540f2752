//! A SIGHUP whose `[[keys]]` no longer have the key a running destination requires
//! (the key renamed, and the destination's `required_key` renamed with it in the same
//! edit) keeps the running configuration, naming the destination, the key and what to
//! do. Destinations change at the next start only: the reload checked the file's
//! `required_key` (the new id, there) and was taken, and the running destination, still
//! requiring the old id, accepted no event until the restart while each one was
//! answered `200` and stored in the other destinations alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::*;

const CONFIG: &str = "data_dir = \"data\"\n\
                      [[keys]]\nid = \"k1\"\nsecret = \"secret-one-1234\"\n\
                      [[destinations]]\nname = \"main\"\ntype = \"store\"\npath = \"main\"\n\
                      [[destinations]]\nname = \"k1only\"\ntype = \"store\"\npath = \"k1only\"\n\
                      required_key = \"k1\"\n";

#[test]
fn a_reload_renaming_the_key_a_running_destination_requires_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    std::fs::write(&file, CONFIG).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    // The key renamed, and the file's destination with it: the file alone is sound.
    replace_file(&file, &CONFIG.replace("\"k1\"", "\"k1b\""));
    hangup(&server);
    wait_for_log(&server, "not reloaded");
    let log = server.stderr();
    assert!(
        log.contains(
            "the running destination \"k1only\" requires key \"k1\", which the new [[keys]] \
             no longer have (the [[keys]] ids are \"k1b\")"
        ),
        "{log}"
    );
    assert!(
        log.contains("keep the [[keys]] entry \"k1\"") && log.contains("or restart the server"),
        "the log does not say what to do: {log}"
    );
    // The running key still sends to the running destination.
    let id = new_id(1, 66);
    let body = event_line(&id, "tenant-1", 1) + "\n";
    let (status, answer) = post_events(&server.addr, &body, Some("secret-one-1234")).unwrap();
    assert_eq!(status, 200, "the running key stopped working: {answer}");
    assert_eq!(server.terminate(), 0);
    let data = dir.path().join("data");
    assert_eq!(stored_ids(&data.join("main")).get(&id), Some(&1));
    assert_eq!(
        stored_ids(&data.join("k1only")).get(&id),
        Some(&1),
        "the event of the running key did not reach the destination requiring it"
    );
}
