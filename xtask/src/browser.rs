//! A browser for the web console's tests: Debian's `chromium` and `chromium-driver`,
//! installed with apt when missing (CI runs as root on Debian), their paths passed to
//! the tests through [`CHROMEDRIVER_ENV`] and [`CHROMIUM_ENV`]. Set both variables to
//! use binaries elsewhere.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run::Output;

/// Environment variable the browser tests read chromedriver's path from.
pub(crate) const CHROMEDRIVER_ENV: &str = "AUDITRAIL_CHROMEDRIVER";
/// Environment variable the browser tests read Chromium's path from.
pub(crate) const CHROMIUM_ENV: &str = "AUDITRAIL_CHROMIUM";

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Makes chromedriver and Chromium available to the tests.
pub(crate) fn ensure() -> Result<(), String> {
    let given = |env: &str| std::env::var_os(env).map(PathBuf::from);
    if let (Some(driver), Some(browser)) = (given(CHROMEDRIVER_ENV), given(CHROMIUM_ENV)) {
        eprintln!(
            "xtask: using chromedriver {} and Chromium {} ({CHROMEDRIVER_ENV}, {CHROMIUM_ENV})",
            driver.display(),
            browser.display()
        );
        return Ok(());
    }
    if !installed() {
        eprintln!("xtask: chromium or chromedriver is missing; installing Debian's packages");
        install(Output::Terminal)?;
    }
    // Safe: set before any test process is spawned, and xtask is single-threaded here.
    std::env::set_var(CHROMEDRIVER_ENV, CHROMEDRIVER);
    std::env::set_var(CHROMIUM_ENV, CHROMIUM);
    Ok(())
}

fn installed() -> bool {
    Path::new(CHROMEDRIVER).is_file() && Path::new(CHROMIUM).is_file()
}

/// Whether [`ensure`] would install the packages (no paths given, binaries missing).
pub(crate) fn missing() -> bool {
    (std::env::var_os(CHROMEDRIVER_ENV).is_none() || std::env::var_os(CHROMIUM_ENV).is_none())
        && !installed()
}

/// `apt-get install` of Debian's chromium and chromium-driver.
pub(crate) fn install(out: Output<'_>) -> Result<(), String> {
    apt(&["update"], out)?;
    apt(
        &[
            "install",
            "-y",
            "--no-install-recommends",
            "chromium",
            "chromium-driver",
        ],
        out,
    )?;
    for path in [CHROMEDRIVER, CHROMIUM] {
        if !Path::new(path).is_file() {
            return Err(format!(
                "apt-get installed the packages but {path} is missing"
            ));
        }
    }
    Ok(())
}

fn apt(args: &[&str], out: Output<'_>) -> Result<(), String> {
    let mut cmd = Command::new("apt-get");
    cmd.args(args)
        // No questions (a CI job has no terminal).
        .env("DEBIAN_FRONTEND", "noninteractive");
    out.attach(&mut cmd, &format!("apt-get {}", args.join(" ")))?;
    let status = cmd.status().map_err(|e| {
        format!(
            "cannot run apt-get ({e}): install chromium and chromium-driver, or set \
             {CHROMEDRIVER_ENV} and {CHROMIUM_ENV}"
        )
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`apt-get {}` failed ({status}); the browser tests need Debian's chromium and \
             chromium-driver (as root), or {CHROMEDRIVER_ENV} and {CHROMIUM_ENV} set",
            args.join(" ")
        ))
    }
}
