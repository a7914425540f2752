//! `verify --archive` downloads the archive into a temporary folder, removed when the
//! command ends. A run killed (`kill -9`, a crash, SIGINT) left its folder behind: one
//! more copy of the archive's audit data under `TMPDIR` per interrupted run, piling up.
//! Now each run holds a lock in its copy, and the next run removes the copies whose
//! lock nobody holds, and only those: a copy of a run still going is left alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::s3_support;
use crate::serve_support;
use crate::tamper_support;

use std::path::Path;
use std::process::{Child, Command, Stdio};

use retention_support::{post_day, prune, write_config};
use serve_support::start;

/// The copies under `tmp`.
fn copies(tmp: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("auditrail-verify-archive-"))
        .collect();
    names.sort();
    names
}

/// `verify --archive` of an S3 archive that never answers, its copy under `tmp`.
fn verify_frozen(dir: &Path, tmp: &Path, endpoint: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["verify", "--archive", "s3://audit/eu-1/store"])
        .args(["--archive-endpoint", endpoint, "--archive-allow-http"])
        .args(["--archive-region", "us-east-1"])
        .env("AWS_ACCESS_KEY_ID", s3_support::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", s3_support::SECRET_KEY)
        .env("TMPDIR", tmp)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn a_killed_runs_copy_is_removed_by_the_next_run_and_a_running_ones_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let archive = d.join("archive");
    let url = format!("file://{}", archive.display());
    write_config(d, &format!("archive = \"{url}\"\n"));
    let server = start(d, &["--config", "server.toml"]);
    post_day(&server, "2025-01-01", 5, 1);
    post_day(&server, "2025-01-02", 5, 2);
    assert_eq!(tamper_support::stop(server), 0);
    let (code, out) = prune(d, "2025-01-02", &[]);
    assert_eq!(code, 0, "{out}");
    let tmp = d.join("tmp");
    std::fs::create_dir(&tmp).unwrap();

    // A run still downloading.
    let frozen = s3_support::frozen();
    let mut running = verify_frozen(d, &tmp, &frozen.endpoint);
    frozen.wait_for_a_connection();
    let running_copy = copies(&tmp);
    assert_eq!(running_copy.len(), 1);
    // A copy of audit data: its folder is the owner's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let folder = tmp.join(&running_copy[0]);
        let mode = std::fs::metadata(&folder).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} has mode {mode:o}", folder.display());
    }

    // A run killed while it downloads: its copy stays behind.
    let other = s3_support::frozen();
    let mut killed = verify_frozen(d, &tmp, &other.endpoint);
    other.wait_for_a_connection();
    killed.kill().unwrap();
    killed.wait().unwrap();
    assert_eq!(copies(&tmp).len(), 2, "SIGKILL removes nothing");

    // The next run removes the killed run's copy, keeps the running one's, and its own
    // goes when it ends.
    let key = std::fs::read_to_string(d.join("data/signing.pub")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["verify", "--archive", &url, "--public-key", key.trim()])
        .env("TMPDIR", &tmp)
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let inside: Vec<String> = copies(&tmp)
        .iter()
        .flat_map(|c| std::fs::read_dir(tmp.join(c)).unwrap())
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    assert_eq!(
        copies(&tmp),
        running_copy,
        "{inside:?} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    running.kill().unwrap();
    running.wait().unwrap();
}
