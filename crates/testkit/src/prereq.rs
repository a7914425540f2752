//! Tests that need what a machine may lack (root, a loop device, `mkfs.ext4`,
//! `unshare`, a tmpfs mount, `chattr +i`): where that is missing they cannot check
//! anything, and returning early would show them green.
//!
//! [`skip`] is what such a test calls before returning: with
//! `AUDITRAIL_REQUIRE_ROOT_TESTS=1` (set by `cargo xtask ci`, which CI runs as root
//! with everything installed) it fails the test with the reason; otherwise it prints a
//! `SKIPPED <test>: <reason>` line on the real stderr, past the test harness's output
//! capture, so that a local `cargo test` shows it even for a passing test.

#![allow(clippy::panic)] // a test that cannot run here fails by panicking, by design

use std::io::Write;

/// The environment variable that turns a skip into a failure.
pub const REQUIRE_ENV: &str = "AUDITRAIL_REQUIRE_ROOT_TESTS";

/// Whether a test that cannot run here must fail ([`REQUIRE_ENV`] is `1`).
pub fn required() -> bool {
    std::env::var_os(REQUIRE_ENV).is_some_and(|v| v == "1")
}

/// The calling test cannot run here because of `why`: a failure (panic) when
/// [`required`], else a `SKIPPED` line. The caller returns afterwards, checking nothing.
#[track_caller]
pub fn skip(why: &str) {
    skip_as(why, required());
}

#[track_caller]
fn skip_as(why: &str, required: bool) {
    // libtest names each test's thread after the test.
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    if required {
        panic!("{test} cannot run here: {why} ({REQUIRE_ENV}=1: a test that cannot run fails)");
    }
    // Straight to the process's stderr: `eprintln!` output of a passing test is
    // captured and never shown.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {why}; nothing checked ({REQUIRE_ENV}=1 makes this a failure)"
    );
}

/// The first of `programs` found neither on `PATH` nor in `/sbin`, `/usr/sbin` (where
/// `mkfs.ext4` and `losetup` live, often not on a user's `PATH`).
pub fn missing_program<'a>(programs: &[&'a str]) -> Option<&'a str> {
    let mut dirs: Vec<std::path::PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/sbin", "/usr/sbin", "/bin", "/usr/bin"].map(Into::into));
    programs
        .iter()
        .copied()
        .find(|p| !dirs.iter().any(|d| d.join(p).is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "cannot run here: no loop device")]
    fn a_required_test_that_cannot_run_fails_with_the_reason() {
        skip_as("no loop device", true);
    }

    #[test]
    fn an_optional_test_that_cannot_run_only_says_so() {
        skip_as("no loop device", false);
    }

    #[test]
    fn a_program_that_is_nowhere_is_named() {
        assert_eq!(
            missing_program(&["sh", "auditrail-no-such-program"]),
            Some("auditrail-no-such-program")
        );
        assert_eq!(missing_program(&["sh"]), None);
    }
}
