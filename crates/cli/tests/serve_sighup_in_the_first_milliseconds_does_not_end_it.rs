//! `serve` took SIGHUP over once its runtime was built, a few milliseconds after `main`
//! started (the arguments, the log, the runtime's threads): a SIGHUP there (a
//! `systemctl reload` or a config-management tool right after a start) ended the
//! process by the signal's default action, exit 129, silently. Now `main` blocks
//! SIGHUP before anything else and `serve` takes the one that came once it watches
//! it: a reload once the server serves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::serve_support;

/// Bits of `/proc/PID/status`'s signal masks (bit `signal - 1`).
const SIGHUP_BIT: u64 = 1 << 0;
const SIGBUS_BIT: u64 = 1 << 6;

/// The process's caught-signal mask, `None` once it ended (a zombie) or is gone.
fn caught(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
    };
    if field("State:")?.starts_with('Z') {
        return None;
    }
    u64::from_str_radix(field("SigCgt:")?, 16).ok()
}

/// Starts the server and sends it SIGHUPs from shortly after its `main` is about to
/// run until its handler is in place (or the process ended). `None` when none could be sent
/// in that time (this thread was not scheduled in it).
fn start_under_sighups(dir: &std::path::Path) -> Option<serve_support::Starting> {
    // A long `RUST_LOG` (5000 directives more, ~100 KB: under the 128 KiB a variable
    // may hold) makes `main`'s work before `serve`
    // takes SIGHUP over (reading the log filter) last tens of milliseconds instead of
    // a few, so that the SIGHUPs below, sent from 5 ms after `main` is about to run,
    // fall inside it without the fix, and never before `main`'s first line with it.
    let mut filter = String::from("warn,auditrail=info");
    for i in 0..5000 {
        filter.push_str(&format!(",auditrail_x{i}=info"));
    }
    let starting =
        serve_support::spawn_with_env(dir, &["--data-dir", "data"], &[("RUST_LOG", &filter)]);
    let pid = starting.pid();
    // The standard library installs its SIGSEGV then SIGBUS handlers (the stack
    // overflow report) right before it calls `main`: before that the loader runs,
    // where no process can catch anything.
    let until = Instant::now() + Duration::from_secs(30);
    while caught(pid).is_some_and(|mask| mask & SIGBUS_BIT == 0) {
        assert!(Instant::now() < until, "the process never reached main");
        std::hint::spin_loop();
    }
    std::thread::sleep(Duration::from_millis(5));
    let mut sent = 0;
    while let Some(mask) = caught(pid) {
        if mask & SIGHUP_BIT != 0 {
            break;
        }
        if kill(Pid::from_raw(pid as i32), Signal::SIGHUP).is_err() {
            break;
        }
        sent += 1;
        std::thread::sleep(Duration::from_micros(100));
    }
    (sent > 0).then_some(starting)
}

#[cfg(target_os = "linux")]
#[test]
fn sighups_from_the_first_line_of_main_on_are_a_reload_once_it_serves() {
    let dir = tempfile::tempdir().unwrap();
    let starting = (0..20)
        .find_map(|_| start_under_sighups(dir.path()))
        .expect("no SIGHUP could be sent before the server watched it, in 20 starts");
    // Without the fix: "server did not print its address (Ok(ExitStatus(unix_wait_status(1))))"
    // (ended by SIGHUP).
    let server = starting.listening();
    serve_support::wait_for_log(&server, "SIGHUP: the server runs on its embedded defaults");
    let (status, _) = serve_support::request(&server.addr, "GET", "/healthz", &[], b"").unwrap();
    assert_eq!(status, 200);
    assert_eq!(server.terminate(), 0);
}
