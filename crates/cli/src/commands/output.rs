//! Standard output of every subcommand, through [`out!`](crate::out) and
//! [`outln!`](crate::outln).
//!
//! `println!` panics when stdout is a closed pipe (`auditrail query … | head`): exit
//! 101 and "failed printing to stdout: Broken pipe". Here a write that finds its
//! reader gone returns [`StdoutClosed`]; commands pass it up with `?` like any other
//! error, and `main` ends the process quietly with the status a shell gives a process
//! that SIGPIPE ended (128 + 13 = 141), so that `set -o pipefail` scripts still see that
//! the output was cut.
//!
//! Diagnostics go to standard error through [`errln!`](crate::errln), which never
//! panics: `eprintln!` does when stderr is a closed pipe or a terminal that hung up
//! (`send` goes on after a SIGHUP), turning a command's exit status 1 into 101 with
//! a panic message nobody can read. A diagnostic that cannot be written is dropped;
//! the exit status still says how the command ended.
//!
//! Restoring SIGPIPE's default action instead would need `unsafe` code (denied in this
//! workspace) and would kill a command at any write to any closed pipe, also in the
//! middle of work that should finish (a `send` that already emitted its events).

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;

/// Stdout's reader is gone (a closed pipe): the command stops quietly.
#[derive(Debug, thiserror::Error)]
#[error("standard output is closed")]
pub(crate) struct StdoutClosed;

/// The exit status after [`StdoutClosed`]: 128 + SIGPIPE, as a shell reports a
/// process that SIGPIPE ended.
pub(crate) const CLOSED_STATUS: u8 = 128 + 13;

/// Writes `args` to stdout and flushes (so a closed pipe shows up here, not in a
/// flush at exit where it would go unnoticed).
pub(crate) fn write(args: fmt::Arguments<'_>) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_fmt(args).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("cannot write to standard output")),
    }
}

/// The exit status for a command's error: quiet [`CLOSED_STATUS`] when it is (or
/// was caused by) [`StdoutClosed`]; otherwise the error is printed, status 1.
pub(crate) fn exit_for(error: &anyhow::Error) -> ExitCode {
    if error.chain().any(|e| e.is::<StdoutClosed>()) {
        return ExitCode::from(CLOSED_STATUS);
    }
    crate::errln!("auditrail: error: {}", describe(error));
    ExitCode::FAILURE
}

/// The error and its causes, `: `-separated, each said once: many errors put their
/// source's text in their own message (`{path}: {source}`) and keep it as their
/// source too, which `{:#}` would print twice.
pub(crate) fn describe(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        auditrail::add_cause(&mut text, &cause.to_string());
    }
    text
}

/// Writes `args` to stderr, each line's control, bidi and invisible characters
/// written visibly ([`shown_on_a_terminal`]); an error (stderr closed or hung up) is
/// ignored.
pub(crate) fn write_err(args: fmt::Arguments<'_>) {
    let text = shown_on_a_terminal(&args.to_string());
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// `text` with each line's control, bidi and invisible characters written escaped
/// ([`super::shown::escape_diagnostic`]), its line breaks kept, and every other
/// character as it is, once.
///
/// Done here, for every line of stderr, not by each message: a diagnostic may quote a
/// value from an event or a stored record (a stdin line's unknown key, `Cannot cast
/// string '…' to value of Int32 type`), and an event is anyone's text: written raw to
/// the operator's terminal, its ESC sequences would set the title or clear the screen,
/// as they would in a table (docs/query.md). Escaped once, here only: the messages
/// themselves quote values with `{:?}` (`invalid routingKey "a\tb"`), and escaping
/// that text as a value again showed every backslash twice (`"a\\tb"`).
fn shown_on_a_terminal(text: &str) -> String {
    text.split('\n')
        .map(super::shown::escape_diagnostic)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `eprintln!` that never panics (see the module docs).
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::commands::output::write_err(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that returns `anyhow::Result<()>` (see the module docs).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::commands::output::write(format_args!($($arg)*))
    };
}

/// `println!` that returns `anyhow::Result<()>` (see the module docs).
#[macro_export]
macro_rules! outln {
    () => {
        $crate::commands::output::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::commands::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}
