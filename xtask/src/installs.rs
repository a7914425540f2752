//! Installing what the tests need while CI's checks run.
//!
//! On a fresh machine the test suite's outside programs (the tansu broker and s3s-fs,
//! each compiled by `cargo install`, and Debian's Chromium) took about 25 of CI's 65
//! minutes, one after the other and after the checks. The checks (fmt, clippy, the
//! feature matrix, rustdoc) are `cargo` runs that leave a core idle whenever one large
//! crate is being checked alone, so the installs start first, on a thread of their own,
//! and fill those gaps.
//!
//! This is a head start only: the test step's `ensure` functions still find, or install
//! in the foreground, what they need, so an install that failed here is retried there
//! with its output on the terminal. The installs' output goes to a log file meanwhile
//! (interleaved with clippy's it would be unreadable); its path is printed. When a
//! check fails, `ci` stops at once without waiting: an install still running finishes
//! on its own (it is a `cargo install` or `apt-get` child, not killed), so the next
//! run finds the program installed.

use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Instant;

use crate::run::Output;

/// One program's installer, its output sent where it is told.
type Install = fn(Output<'_>) -> Result<(), String>;

/// The installs running in the background.
pub(crate) struct Installs {
    thread: Option<JoinHandle<Result<(), String>>>,
    log: PathBuf,
    started: Instant,
}

/// Starts installing, on a thread of its own, every program the tests need that is
/// missing. Call it before anything else sets environment variables: the thread starts
/// child processes, which read the environment.
pub(crate) fn start() -> Installs {
    let log = std::env::temp_dir().join("auditrail-xtask-installs.log");
    let started = Instant::now();
    let mut wanted: Vec<(&str, Install)> = Vec::new();
    if crate::broker::missing() {
        wanted.push(("tansu", crate::broker::install));
    }
    if crate::s3::missing() {
        wanted.push(("s3s-fs", crate::s3::install));
    }
    if crate::browser::missing() {
        wanted.push(("chromium", crate::browser::install));
    }
    if wanted.is_empty() {
        return Installs {
            thread: None,
            log,
            started,
        };
    }
    let names: Vec<&str> = wanted.iter().map(|(name, _)| *name).collect();
    eprintln!(
        "xtask: installing {} in the background while the checks run (log: {})",
        names.join(", "),
        log.display()
    );
    let path = log.clone();
    let thread = std::thread::spawn(move || {
        let file = std::fs::File::create(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let mut failed = Vec::new();
        // One after the other: each is a build (or apt) that can use both cores alone.
        for (name, install) in wanted {
            if let Err(e) = install(Output::Log(&file)) {
                failed.push(format!("{name}: {e}"));
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(failed.join("; "))
        }
    });
    Installs {
        thread: Some(thread),
        log,
        started,
    }
}

impl Installs {
    /// Waits for the installs and says how they went. A failure is reported, not
    /// returned: the test step installs in the foreground what is still missing.
    pub(crate) fn finish(mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        if !thread.is_finished() {
            eprintln!("xtask: waiting for the background installs to finish");
        }
        let outcome = thread
            .join()
            .unwrap_or_else(|_| Err("the install thread panicked".to_owned()));
        let seconds = self.started.elapsed().as_secs();
        match outcome {
            Ok(()) => eprintln!(
                "xtask: background installs done, {seconds} s after they started (log: {})",
                self.log.display()
            ),
            Err(e) => eprintln!(
                "xtask: background installs failed after {seconds} s ({e}; log: {}); the \
                 test step retries what is missing",
                self.log.display()
            ),
        }
    }
}
