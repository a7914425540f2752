//! The data folder on a full file system (a real tmpfs filled up), the store on
//! another with room: every batch was stored (`200`), yet `/readyz` answered `503
//! disk_full` ("the data folder refuses a new file"), as its probe's block did not fit
//! in the data folder: a load balancer took away a server that stores. Now `/readyz`
//! says `disk_full` when the ingest would refuse a batch for a full disk (the data
//! folder under `min_free_bytes`, or a store whose last batch met a full disk,
//! named; docs/protocol.md, `GET /readyz`), and this server is ready.
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::Tmpfs;
use crate::serve_support::{event_line, new_id, post_events, request, start};

use std::time::Duration;

#[test]
fn readyz_is_200_while_the_data_folders_disk_is_full_and_the_store_takes_batches() {
    let Some(data) = Tmpfs::mount("2m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        format!(
            "data_dir = {:?}\n[[destinations]]\ntype = \"store\"\npath = {:?}\n",
            data.path().join("data"),
            dir.path().join("store")
        ),
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let addr = server.addr.clone();
    data.fill();
    // A verdict is kept up to a second: this one is taken after the fill.
    std::thread::sleep(Duration::from_millis(1100));

    let (status, answer) = post_events(&addr, &event_line(&new_id(1, 97), "n1", 1), None).unwrap();
    assert_eq!(status, 200, "the store has room: {answer}");
    let (status, body) = request(&addr, "GET", "/readyz", &[], b"").unwrap();
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"status":"ready"}"#),
        "a batch sent now is stored, so the server is ready\n{}",
        server.stderr()
    );
}
