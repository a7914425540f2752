//! A record line or checkpoint line whose `chainSeq` was changed to a huge number (a
//! forged line, or a damaged digit) never crashes the server at start. A record line
//! inside the chain is damage like any other: the server starts, keeps every record in
//! place (one damaged line does not stop collection), and `verify` names the number. A
//! checkpoint line is refused as an edited log, naming it. Recovery used to keep a
//! bitmap indexed by chain number: `chainSeq` 2^64-1 or 10^12 asked for exabytes or
//! 125 GB and the process aborted (exit 134, "memory allocation failed"); a checkpoint
//! line at 2^64-1 overflowed `+ 1` and panicked; a forged first line of a segment made
//! the chain's head unfindable and the start failed with an empty path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serve_support::{event_line, new_id, post_events, start};

/// A stopped server's data dir with 5 events in one store.
fn stopped_store(dir: &Path) {
    let server = start(dir, &["--data-dir", "data"]);
    let body: String = (1..=5)
        .map(|i| event_line(&new_id(i, 3), "n1", i) + "\n")
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
}

/// Rewrites the `chainSeq` of line `line` (0-based) of `file` to `to`, in place (the
/// line keeps its shape: only the digits change).
fn forge(file: &Path, line: usize, to: u64) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let key = "\"chainSeq\":";
    let at = lines[line].find(key).unwrap() + key.len();
    let digits = lines[line][at..]
        .find(|c: char| !c.is_ascii_digit())
        .unwrap();
    lines[line].replace_range(at..at + digits, &to.to_string());
    std::fs::write(file, lines.join("\n") + "\n").unwrap();
}

fn segments(store: &Path) -> Vec<std::path::PathBuf> {
    auditrail_testkit::store::record_files(store)
}

/// `auditrail serve` on `dir`'s data: its exit code and stderr (it must not start; one
/// that still runs after a minute is killed and the test fails).
fn refused_start(dir: &Path) -> (Option<i32>, String) {
    let stderr_path = dir.join("refused-stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the server started: {}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status.code(),
        std::fs::read_to_string(&stderr_path).unwrap_or_default(),
    )
}

fn verify_fails(dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["verify", "data"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_record_with_a_huge_chain_number_is_damage_the_server_starts_on() {
    for (line, huge) in [(1, u64::MAX), (1, 1_000_000_000_000), (0, u64::MAX)] {
        let dir = tempfile::tempdir().unwrap();
        stopped_store(dir.path());
        let store = dir.path().join("data/store");
        let files = segments(&store);
        assert_eq!(files.len(), 1, "{files:?}");
        forge(&files[0], line, huge);
        let before = std::fs::read(&files[0]).unwrap();

        let server = start(dir.path(), &["--data-dir", "data"]);
        assert_eq!(server.terminate(), 0, "line {line} at {huge}");
        assert_eq!(
            segments(&store),
            files,
            "line {line} at {huge}: nothing set aside"
        );
        assert_eq!(
            std::fs::read(&files[0]).unwrap(),
            before,
            "line {line} at {huge}: nothing cut"
        );
        let report = verify_fails(dir.path());
        assert!(report.contains(&huge.to_string()), "{report}");
    }
}

#[test]
fn a_checkpoint_line_with_the_largest_chain_number_is_refused_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    stopped_store(dir.path());
    forge(
        &dir.path().join("data/store/checkpoints.jsonl"),
        0,
        u64::MAX,
    );
    let (code, stderr) = refused_start(dir.path());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("checkpoint log") && !stderr.contains("panicked"),
        "{stderr}"
    );
    verify_fails(dir.path());
}
