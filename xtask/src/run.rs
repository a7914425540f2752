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
    cargo_to(args, env, Output::Terminal)
}

/// Where a child's output goes.
#[derive(Clone, Copy)]
pub(crate) enum Output<'a> {
    /// xtask's own stdout and stderr.
    Terminal,
    /// Appended to a log file, stdin closed: an install that runs in the background
    /// while another step prints (see `installs.rs`).
    Log(&'a std::fs::File),
}

impl Output<'_> {
    /// Points `cmd`'s output here; echoes the command line where its output goes.
    pub(crate) fn attach(self, cmd: &mut Command, line: &str) -> Result<(), String> {
        match self {
            Output::Terminal => eprintln!("xtask: $ {line}"),
            Output::Log(file) => {
                use std::io::Write as _;
                let mut f = file;
                let _ = writeln!(f, "xtask: $ {line}");
                let clone = || {
                    file.try_clone()
                        .map_err(|e| format!("cannot share the install log: {e}"))
                };
                cmd.stdin(std::process::Stdio::null())
                    .stdout(clone()?)
                    .stderr(clone()?);
            }
        }
        Ok(())
    }
}

/// `cargo ARGS` with extra environment variables, its output sent to `out`.
pub(crate) fn cargo_to(args: &[&str], env: &[(&str, &str)], out: Output<'_>) -> Result<(), String> {
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
    out.attach(&mut cmd, &format!("cargo {}", args.join(" ")))?;
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

/// `cargo install ARGS` (the crate's name first), built in a folder of its own under
/// the system's temporary folder, deleted afterwards: never in `CARGO_TARGET_DIR`, whose
/// lock would make an install in the background and the workspace's build wait for
/// each other, and whose disk space the workspace needs.
pub(crate) fn cargo_install(args: &[&str], out: Output<'_>) -> Result<(), String> {
    let name = args.first().copied().unwrap_or("crate");
    let dir = std::env::temp_dir().join(format!(
        "auditrail-xtask-install-{name}-{}",
        std::process::id()
    ));
    let dir_text = dir.to_string_lossy().into_owned();
    let mut full = vec!["install", "--target-dir", dir_text.as_str()];
    full.extend(args);
    let result = cargo_to(&full, &[], out);
    let _ = std::fs::remove_dir_all(&dir);
    result
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A child told to log writes its command line and all its output to the file, and
    /// reads nothing (a background install must never wait for the terminal).
    #[test]
    fn a_logged_child_writes_to_the_file_and_reads_nothing() {
        let dir = std::env::temp_dir().join(format!("xtask-run-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        let file = std::fs::File::create(&path).unwrap();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; cat; echo read-done"]);
        Output::Log(&file).attach(&mut cmd, "sh -c test").unwrap();
        assert!(cmd.status().unwrap().success());
        let text = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(text, "xtask: $ sh -c test\nout\nerr\nread-done\n");
    }
}
