//! A test that runs part of itself in a second process (a writer to kill, a second
//! opener of a locked store) starts its own test binary again with `--exact NAME`; and
//! running a command fed on its standard input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// The name under which the test harness knows the test function `function` of the
/// module whose `module_path!()` is `module_path`: the path without the binary's own
/// crate name. The integration tests of a crate are modules of one binary
/// (`tests/main.rs`), so a bare function name matches no test there, and the child would
/// run nothing and pass.
///
/// ```
/// assert_eq!(
///     auditrail_testkit::process::harness_name("integration::store_kill9", "child"),
///     "store_kill9::child"
/// );
/// assert_eq!(auditrail_testkit::process::harness_name("alone", "child"), "child");
/// ```
pub fn harness_name(module_path: &str, function: &str) -> String {
    match module_path.split_once("::") {
        Some((_, module)) => format!("{module}::{function}"),
        None => function.to_owned(),
    }
}

/// Runs `cmd` to its end, feeding it `stdin` (from another thread, so that a command
/// that writes much before it reads cannot block on a full pipe); its output.
#[allow(clippy::unwrap_used)] // test support: a failed step is a failed test
pub fn output_fed(mut cmd: Command, stdin: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}
