//! `systemd-analyze verify` of `packaging/auditrail.service`, in `cargo xtask ci` where
//! systemd-analyze exists (skipped with a note elsewhere: macOS, minimal containers).
//!
//! systemd-analyze also checks that `ExecStart`'s program exists, and CI has no
//! installed `auditrail`: the unit is verified from a copy whose `ExecStart` names an
//! executable that exists here (this xtask binary). Everything else is the file as
//! shipped. Any output fails the check: unknown or misspelt directives are only
//! warnings to systemd ("Unknown key name ..., ignoring").

use std::path::{Path, PathBuf};
use std::process::Command;

/// The unit as installed (`ExecStart=` names this program).
const INSTALLED_BINARY: &str = "/usr/local/bin/auditrail";

pub(crate) fn verify() -> Result<(), String> {
    let Some(analyze) = on_path("systemd-analyze") else {
        println!("note: systemd-analyze not found; packaging/auditrail.service not verified");
        return Ok(());
    };
    let unit = crate::run::workspace_root().join("packaging/auditrail.service");
    let text = std::fs::read_to_string(&unit).map_err(|e| format!("{}: {e}", unit.display()))?;
    let exe = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
    let dir = std::env::temp_dir().join(format!("auditrail-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // Same file name: systemd derives the unit name from it.
    let copy = dir.join("auditrail.service");
    let written = std::fs::write(
        &copy,
        text.replace(INSTALLED_BINARY, &exe.display().to_string()),
    )
    .map_err(|e| format!("{}: {e}", copy.display()));
    let result = written.and_then(|()| run(&analyze, &copy));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run(analyze: &Path, unit: &Path) -> Result<(), String> {
    let out = Command::new(analyze)
        .arg("verify")
        .arg(unit)
        .output()
        .map_err(|e| format!("{}: {e}", analyze.display()))?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && said.trim().is_empty() {
        println!("packaging/auditrail.service: systemd-analyze verify passed");
        Ok(())
    } else {
        Err(format!(
            "systemd-analyze verify packaging/auditrail.service ({}):\n{said}",
            out.status
        ))
    }
}

/// `name` found in a folder of `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}
