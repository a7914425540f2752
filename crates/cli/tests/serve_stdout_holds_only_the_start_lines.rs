//! `auditrail serve` writes to stdout only at start (the address, the data dir, the
//! stores): scripts read the address there. Everything about stopping goes to stderr,
//! so that a process still finishing its shutdown never writes into a stdout file that
//! a script has already truncated for the next start (which left NULs before the next
//! server's address and made `grep` call the file binary: the ops-01 case's restart).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::sync::mpsc;
use std::time::Duration;

use serve_support::*;

#[test]
fn shutdown_lines_go_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path(), &["--data-dir", "data"]);
    let stdout = std::mem::replace(&mut server.stdout, mpsc::channel().1);
    let stderr = server.stderr_path.clone();
    assert_eq!(server.terminate(), 0);

    let mut later = Vec::new();
    while let Ok(line) = stdout.recv_timeout(Duration::from_secs(10)) {
        later.push(line);
    }
    assert!(
        later
            .iter()
            .all(|l| l.starts_with("data in ") || l.starts_with("storing in ")),
        "stdout after the address: {later:?}"
    );
    let stderr = std::fs::read_to_string(stderr).unwrap();
    assert!(stderr.contains("stopped cleanly"), "{stderr}");
}
