//! `auditrail verify` of a store a running server holds (its writer lock is taken)
//! checks it as `--live` does, and its report says so and names the server's pid: the
//! records of a batch the server has appended but not sealed yet are no tampering.
//! docs/operations.md's upgrade procedure runs verify (without `--live`) right after
//! the restart, while the nodes send what they spooled: it ended `verdict: FAILED`
//! with an `[uncovered]` error on a healthy store, and an operator might roll back a
//! good upgrade.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use crate::serve_support::{event_line, new_id, post_events, start};

const CONFIG: &str =
    "data_dir = \"data\"\n[[destinations]]\nname = \"store\"\ntype = \"store\"\npath = \"store\"\n";

/// `auditrail verify ARGS` in `dir`: exit code and stdout + stderr.
fn verify(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .arg("verify")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn a_running_servers_unsealed_records_are_warnings_and_the_report_names_the_server() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let body: String = (1..=20u64)
        .map(|n| event_line(&new_id(n, 5021), "n1", n) + "\n")
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let key = key.trim();
    // A batch the server has appended and not sealed yet (its seal comes before its
    // answer): one more record, chained to the last one, after the last checkpoint.
    let (_, unsealed) =
        auditrail_testkit::store::append_chained(&dir.path().join("data/store"), |body| {
            body.replace("alice", "bob")
        });
    assert_eq!(unsealed, 21);

    let pid = server.child.id();
    // The upgrade procedure's command as docs/operations.md gives it, and the same
    // store named by its folder.
    for args in [
        &["--config", "server.toml", "--public-key", key][..],
        &["data/store", "--public-key", key][..],
    ] {
        let (code, out) = verify(dir.path(), args);
        assert_eq!(
            code, 0,
            "verify {args:?} failed a running server's store:\n{out}"
        );
        assert!(out.contains("verdict: OK"), "{out}");
        assert!(
            out.contains(&format!(
                "the store is held by a running server (pid {pid}, lock file "
            )) && out.contains("checked as --live"),
            "verify {args:?} does not say it checked the store as --live, held by pid {pid}:\n{out}"
        );
        // The unsealed record is still reported, as a warning.
        assert!(
            out.contains("warning [uncovered] chainSeq 21..21"),
            "verify {args:?}:\n{out}"
        );
    }

    // Stopped, the same command checks the store as closed again: the record nothing
    // sealed is an error.
    assert_eq!(server.terminate(), 0);
    let (code, out) = verify(
        dir.path(),
        &["--config", "server.toml", "--public-key", key],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ERROR ["), "{out}");
    assert!(!out.contains("held by"), "{out}");
}
