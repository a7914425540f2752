//! `auditrail serve` started (a restart, a reboot, the watchdog) while its data folder's
//! disk is full: the start writes the stores' high-water marks and cannot, and it was
//! refused with `destination "store": tamper evidence: .../high-water.jsonl: No space
//! left on device`, a finding about the store's integrity to the reader (docs say to run
//! `auditrail verify` on such a refusal), when the disk is what needs the operator. The
//! refusal now says the file system is full and what to do, without "tamper evidence";
//! once there is space the same start succeeds.
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::Tmpfs;
use crate::serve_support;

use std::io::Write;

use serve_support::{event_line, exit_of_refused_start, new_id, post_events, start};

#[test]
fn the_refusal_says_the_disk_is_full_and_the_start_succeeds_once_there_is_space() {
    let Some(fs) = Tmpfs::mount("4m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let dir = fs.path();
    std::fs::write(
        dir.join("server.toml"),
        "data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    let server = start(dir, &["--config", "server.toml"]);
    let (status, answer) =
        post_events(&server.addr, &event_line(&new_id(1, 94), "n1", 1), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);

    // Every block taken.
    let filler = dir.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let block = vec![0u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    f.write_all(&[0u8; 1]).ok();
    drop(f);

    let tools = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(dir.join("server.toml"))
        .arg("--data-dir")
        .arg(dir.join("data"));
    let (code, out, err) =
        exit_of_refused_start(&mut cmd, tools.path(), "the server started on a full disk");
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(
        err.contains("the file system is full; free space on it, then start the server again"),
        "{err}"
    );
    assert!(!err.contains("tamper evidence"), "{err}");

    std::fs::remove_file(&filler).unwrap();
    let server = start(dir, &["--config", "server.toml"]);
    assert_eq!(server.terminate(), 0);
}
