//! `auditrail serve` with `LISTEN_FDS` set for it (`LISTEN_PID` its pid) to something
//! that is not a number refuses to start naming the variable, as sd_listen_fds(3) refuses
//! it (`-EINVAL`). It was ignored in silence, and the server bound its own `listen`
//! address instead of the socket it was meant to be given (`/work/tryout` case
//! `s48-edge-g/02-socket-activation-non-listening-socket-says-listening.sh`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn listen_fds_that_is_not_a_number_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stdout");
    let err = dir.path().join("stderr");
    let mut child = Command::new("sh")
        .args(["-c", "LISTEN_PID=$$ exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_auditrail"))
        .args(["serve", "--data-dir", "data", "--listen", "127.0.0.1:0"])
        .env("LISTEN_FDS", "abc")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the server started anyway; stdout: {}\nstderr: {}",
                std::fs::read_to_string(&out).unwrap(),
                std::fs::read_to_string(&err).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = std::fs::read_to_string(&out).unwrap();
    let err = std::fs::read_to_string(&err).unwrap();
    assert_ne!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(!out.contains("listening on"), "{out}");
    assert!(err.contains("LISTEN_FDS is \"abc\", not a number"), "{err}");
}
