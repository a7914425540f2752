//! The data folder moved away while a server with a forwarding `eventserver`
//! destination runs (`mv data data.moved`), its next hop down so that batches wait in
//! the destination's spool (`<data_dir>/spool/<name>`). Before, the next batch found
//! the spool folder gone and made it again at the old path with its lock file (ERROR
//! "the spool folder was removed ... created again"): the data folder was back at its
//! path, the spool split across two folders. Now the destinations' dispatcher is given
//! the data folder's check, which the spool asks before it makes its folder again:
//! nothing is made at the path, an ERROR names the data folder, and once the folder is
//! moved back the spool takes batches again, those it held still there.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::{
    assert_not_made_again, event_line, new_id, paths_under, post_accepted, post_events,
    post_until_accepted, request, start_with_config,
};

const SALT: u64 = 6512;
const REFUSED: &str = "the spool folder is gone with the data folder holding it";

#[test]
fn a_forwarding_spool_does_not_make_a_moved_data_folder_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A port held by the test, nobody listening: the next hop is down.
    let down = auditrail_testkit::port::Port::new();
    // A short acknowledgement timeout: the batch sent while the folder is away is
    // answered `503` (the spool cannot take it) without a long wait.
    let server = start_with_config(
        d,
        &format!(
            "data_dir = \"data\"\nshutdown_timeout_s = 1\nack_timeout_ms = 1000\n\
             [[destinations]]\nname = \"fwd\"\ntype = \"eventserver\"\nurl = \"http://{}\"\n",
            down.addr()
        ),
    );
    let data = d.join("data");
    post_accepted(&server, 1, SALT);
    assert!(data.join("spool/fwd").is_dir(), "{}", server.stderr());

    let moved = d.join("data.moved");
    std::fs::rename(&data, &moved).unwrap();
    let (status, answer) =
        post_events(&server.addr, &event_line(&new_id(2, SALT), "n1", 2), None).unwrap();
    assert_eq!(status, 503, "the spool cannot take it: {answer}");
    assert_not_made_again(&server, &data);
    let log = server.stderr();
    let refused: Vec<&str> = log.lines().filter(|l| l.contains(REFUSED)).collect();
    assert_eq!(refused.len(), 1, "said once: {refused:#?}\n{log}");
    assert!(
        refused[0].contains("ERROR")
            && refused[0].contains(&format!("the data folder {}", data.display())),
        "{refused:?}"
    );

    // Back: the spool takes batches again, the first one still in it.
    std::fs::rename(&moved, &data).unwrap();
    // Sent again as a client does while the answer is `503` (the held batch may still
    // be in its retry's back-off).
    post_until_accepted(&server, 3, SALT);
    let (status, body) = request(&server.addr, "GET", "/v1/stats", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    let fwd = &stats["destinations"][0];
    assert_eq!(fwd["lost"], 0, "{stats:#}");
    assert!(
        fwd["forwarding"]["pendingEvents"].as_u64().unwrap() >= 2,
        "{stats:#}"
    );
    assert!(
        !data.join("data.moved").exists(),
        "{:?}",
        paths_under(&data)
    );
    drop(server);
}
