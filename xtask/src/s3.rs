//! An S3-compatible server for the archive tests: `s3s-fs` from crates.io, installed
//! when missing (pinned) and handed to the tests through [`S3S_ENV`]; each test starts
//! its own on a free loopback port. Set `AUDITRAIL_S3S_FS` to use another binary.

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
    if crate::run::which("s3s-fs").is_none() {
        eprintln!(
            "xtask: s3s-fs is not installed; installing it from crates.io (a few minutes, once)"
        );
        install(crate::run::Output::Terminal)?;
    }
    let binary = crate::run::which("s3s-fs")
        .ok_or_else(|| "s3s-fs was installed but is not on PATH (add ~/.cargo/bin)".to_owned())?;
    // Safe: set before any test process is spawned, and xtask is single-threaded here.
    std::env::set_var(S3S_ENV, &binary);
    Ok(())
}

/// Whether [`ensure`] would install s3s-fs (no binary given, none found).
pub(crate) fn missing() -> bool {
    std::env::var_os(S3S_ENV).is_none() && crate::run::which("s3s-fs").is_none()
}

/// `cargo install s3s-fs`, pinned, with its binary.
pub(crate) fn install(out: crate::run::Output<'_>) -> Result<(), String> {
    crate::run::cargo_install(
        &[
            "s3s-fs",
            "--locked",
            "--version",
            S3S_FS_VERSION,
            "--features",
            "binary",
        ],
        out,
    )
}
