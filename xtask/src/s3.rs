//! An S3-compatible server for the archive tests: `s3s-fs` from crates.io, installed
//! when missing (pinned) and handed to the tests through [`S3S_ENV`]; each test starts
//! its own on a free loopback port. Set `AUDITRAIL_S3S_FS` to use another binary.

use std::path::PathBuf;

/// The newest s3s-fs whose `rust-version` our toolchain meets (0.15 and later need
/// Rust 1.96).
const S3S_FS_VERSION: &str = "0.14.1";
/// Environment variable the archive tests read the `s3s-fs` binary from.
pub(crate) const S3S_ENV: &str = "AUDITRAIL_S3S_FS";

/// Makes `s3s-fs` available to the tests through [`S3S_ENV`].
pub(crate) fn ensure() -> Result<(), String> {
    if let Ok(existing) = std::env::var(S3S_ENV) {
        eprintln!("xtask: using s3s-fs at {existing} ({S3S_ENV})");
        return Ok(());
    }
    let binary = match find("s3s-fs") {
        Some(found) => found,
        None => {
            eprintln!("xtask: s3s-fs is not installed; installing it from crates.io (a few minutes, once)");
            let version = ["--version", S3S_FS_VERSION, "--features", "binary"];
            crate::run::cargo(&[&["install", "s3s-fs", "--locked"][..], &version[..]].concat())?;
            find("s3s-fs").ok_or_else(|| {
                "s3s-fs was installed but is not on PATH (add ~/.cargo/bin)".to_owned()
            })?
        }
    };
    // Safe: set before any test process is spawned, and xtask is single-threaded here.
    std::env::set_var(S3S_ENV, &binary);
    Ok(())
}

fn find(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}
