//! Running child processes with clear errors.

use std::process::Command;

/// Prints a step header (CI logs read better with them).
pub(crate) fn step(what: &str) {
    eprintln!("\n=== xtask: {what}");
}

/// Prints the free space where cargo writes its build, so that a CI log that ends in
/// "No space left on device" shows how much there was at each step. Informational:
/// `df` missing or failing only prints why.
pub(crate) fn disk_report() {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    // The target folder may not exist yet; its nearest existing ancestor is on the same
    // file system in every layout cargo uses.
    let probe = target
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(std::path::Path::new("/"))
        .to_path_buf();
    match Command::new("df").arg("-Pk").arg(&probe).output() {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            // POSIX `df -P`: "Filesystem 1024-blocks Used Available Capacity Mounted on".
            let avail_kib = text
                .lines()
                .nth(1)
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|v| v.parse::<u64>().ok());
            match avail_kib {
                Some(kib) => eprintln!(
                    "xtask: {:.1} GiB free for the build in {}",
                    kib as f64 / (1024.0 * 1024.0),
                    target.display()
                ),
                None => eprintln!("xtask: cannot read free space from `df -Pk`: {text}"),
            }
        }
        Ok(out) => eprintln!(
            "xtask: `df -Pk {}` failed ({})",
            probe.display(),
            out.status
        ),
        Err(e) => eprintln!("xtask: cannot run df: {e}"),
    }
}

/// `cargo ARGS`, failing with the command line when it fails.
pub(crate) fn cargo(args: &[&str]) -> Result<(), String> {
    cargo_env(args, &[])
}

/// `cargo ARGS` with extra environment variables.
pub(crate) fn cargo_env(args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(&cargo);
    cmd.args(args).current_dir(workspace_root());
    // `cargo xtask` is `cargo run`, which gives xtask its own package's variables
    // (CARGO_PKG_NAME=xtask, CARGO_MANIFEST_DIR, ...). Passed on, they end up in the
    // fingerprint of build scripts that declare `rerun-if-env-changed` on them (ring
    // does), so every build through xtask and every plain `cargo build` would rebuild
    // ring and all that depends on it for the other.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_MANIFEST_LINKS",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
            ]
            .contains(&key.as_ref())
        {
            cmd.env_remove(key.as_ref());
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    eprintln!("xtask: $ cargo {}", args.join(" "));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

/// The workspace root (xtask lives one level below it).
pub(crate) fn workspace_root() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// A program on `PATH`, or where `cargo install` puts it (`$CARGO_HOME/bin`,
/// `~/.cargo/bin`): the tools the tests need (tansu, s3s-fs) are found the same way
/// before and after xtask installs them.
pub(crate) fn which(name: &str) -> Option<std::path::PathBuf> {
    use std::path::PathBuf;
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
