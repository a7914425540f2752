//! `auditrail serve` with `LISTEN_FDS` set for it (`LISTEN_PID` its pid) to something
//! that is not a number refuses to start naming the variable, as sd_listen_fds(3) refuses
//! it (`-EINVAL`). It was ignored in silence, and the server bound its own `listen`
//! address instead of the socket it was meant to be given (`/work/tryout` case
//! `s48-edge-g/02-socket-activation-non-listening-socket-says-listening.sh`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::process::Command;

#[test]
fn listen_fds_that_is_not_a_number_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "LISTEN_PID=$$ exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_auditrail"))
        .args(["serve", "--data-dir", "data", "--listen", "127.0.0.1:0"])
        .env("LISTEN_FDS", "abc");
    let (code, out, err) =
        serve_support::exit_of_refused_start(&mut cmd, dir.path(), "the server started anyway");
    assert_ne!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(!out.contains("listening on"), "{out}");
    assert!(err.contains("LISTEN_FDS is \"abc\", not a number"), "{err}");
}
