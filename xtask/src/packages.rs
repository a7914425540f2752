//! Tools the benchmarks run that come from the machine's distribution (rsyslog, strace,
//! perf): found on the PATH or in the sbin folders, else installed with `apt-get`. Never
//! downloaded as binaries.

use std::path::PathBuf;
use std::process::Command;

/// The path of `binary`, installing the distribution's `package` with `apt-get install -y`
/// when it is missing.
pub(crate) fn ensure(binary: &str, package: &str) -> Result<PathBuf, String> {
    if let Some(path) = find(binary) {
        return Ok(path);
    }
    if find("apt-get").is_none() {
        return Err(format!(
            "`{binary}` is not installed and there is no apt-get: install the distribution's \
             `{package}` package, then run again"
        ));
    }
    crate::run::step(&format!("apt-get install -y {package} (for `{binary}`)"));
    let status = Command::new("apt-get")
        .args(["install", "-y", package])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if !status.success() {
        return Err(format!(
            "`apt-get install -y {package}` failed ({status}); it needs root, and maybe an \
             `apt-get update` first"
        ));
    }
    find(binary).ok_or_else(|| format!("`{package}` was installed but `{binary}` is not found"))
}

/// `binary` on the PATH, or in `/usr/sbin` or `/sbin` (daemons live there, and they are
/// not on an ordinary user's PATH).
pub(crate) fn find(binary: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(binary))
        .find(|p| p.is_file())
}

/// The installed version of a Debian package (`dpkg-query`), if dpkg knows it.
pub(crate) fn version(package: &str) -> Option<String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}", package])
        .output()
        .ok()?;
    let v = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !v.is_empty()).then_some(v)
}
