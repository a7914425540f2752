//! `auditrail serve` without a config keeps its data in ./auditrail-data, and `query`,
//! `keys` and `store` read that folder when given none; `verify` alone refused to run
//! ("the following required arguments were not provided: <DIR>"), the one command a
//! new user runs next to check what the server stored. Without a folder (and without
//! `--config` or `--archive`) it now verifies the data dir `serve` uses, and, when
//! that folder is not there, says so naming it and both ways to say what to verify.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use crate::serve_support;

fn verify(dir: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .arg("verify")
        .env_remove("AUDITRAIL_DATA_DIR")
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn verify_alone_checks_the_data_dir_of_serve_without_a_config() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = verify(dir.path());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("auditrail-data")
            && out.contains("auditrail verify DIR")
            && out.contains("auditrail verify --config FILE"),
        "{out}"
    );

    // `serve` with its defaults (no config, no --data-dir), three events, a clean stop.
    let server = serve_support::start(dir.path(), &[]);
    let lines: Vec<String> = (1..=3)
        .map(|seq| serve_support::event_line(&serve_support::new_id(seq, 0x7e41), "n1", seq))
        .collect();
    let (status, answer) =
        serve_support::post_events(&server.addr, &lines.join("\n"), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
    assert!(dir.path().join("auditrail-data/store").is_dir());

    let (code, out) = verify(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("auditrail-data"), "{out}");
    assert!(out.contains("3 records"), "{out}");
}
