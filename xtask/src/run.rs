//! Running child processes with clear errors.

use std::process::Command;

/// Prints a step header (CI logs read better with them).
pub fn step(what: &str) {
    eprintln!("\n=== xtask: {what}");
}

/// `cargo ARGS`, failing with the command line when it fails.
pub fn cargo(args: &[&str]) -> Result<(), String> {
    cargo_env(args, &[])
}

/// `cargo ARGS` with extra environment variables.
pub fn cargo_env(args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(&cargo);
    cmd.args(args).current_dir(workspace_root());
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
pub fn workspace_root() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}
