//! A file where `verify` looks for its folder (a backup tarball named `auditrail-data`,
//! `AUDITRAIL_DATA_DIR` naming `signing.key`, a file given as DIR) was said not to
//! exist: the operator looked for a missing folder while a file was in its place.
//! `verify` now says what is there, in the words of `query --dir` ("is a file, not a
//! folder"), and "does not exist" only of a path where nothing is.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

fn verify(dir: &Path, args: &[&str], data_dir: Option<&Path>) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_auditrail"));
    command.arg("verify").args(args).current_dir(dir);
    match data_dir {
        Some(d) => command.env("AUDITRAIL_DATA_DIR", d),
        None => command.env_remove("AUDITRAIL_DATA_DIR"),
    };
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn a_file_in_the_data_dirs_place_is_said_to_be_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("auditrail-data");
    std::fs::write(&file, "not a folder\n").unwrap();
    for (args, data_dir) in [
        (&[][..], None),
        (&["auditrail-data"][..], None),
        (&[][..], Some(file.as_path())),
    ] {
        let (code, out) = verify(dir.path(), args, data_dir);
        assert_eq!(code, 1, "{args:?} {data_dir:?}: {out}");
        assert!(
            out.contains("auditrail-data") && out.contains("is a file, not a folder"),
            "{args:?} {data_dir:?}: {out}"
        );
        assert!(
            !out.contains("does not exist"),
            "{args:?} {data_dir:?}: {out}"
        );
    }
    // Nothing there: still "does not exist".
    std::fs::remove_file(&file).unwrap();
    let (code, out) = verify(dir.path(), &["auditrail-data"], None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("auditrail-data: does not exist"), "{out}");
}
